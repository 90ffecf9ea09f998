import MuckwatchCore
import XCTest

/// `uncovered_load` from truck telemetry (§6): loaded, cover open, moving at
/// ≥ 5 km/h for ≥ 30 s.
final class UncoveredLoadRuleTests: XCTestCase {
    let start = instant("2026-11-24T21:15:00+08:00")

    func run(_ feed: Feed, settings: PipelineSettings = testSettings()) -> BatchOutcome {
        Pipeline(settings: settings).process(feed.messages, ledger: SetLedger())
    }

    func testFiresAtExactly30Seconds() throws {
        var feed = Feed(start: start)
        for s in [0.0, 10, 20, 30] { feed.truck(after: s) }
        let out = run(feed)
        XCTAssertEqual(out.alerts.count, 1)
        let alert = try XCTUnwrap(out.alerts.first)
        XCTAssertEqual(alert.rule, "uncovered_load")
        XCTAssertEqual(alert.severity, .major)
        XCTAssertEqual(alert.summary, "粤B12345 moving uncovered at 36 km/h for 30 s")
        XCTAssertEqual(alert.subject, Subject(kind: "truck", id: "T-0001", plate: plate, company: company))
        XCTAssertEqual(alert.ts, "2026-11-24T21:15:30.000+08:00")
        XCTAssertEqual(alert.caseId, "MW-20261124-0001")
        XCTAssertEqual(alert.alertId, "A-20261124-0001")
        XCTAssertEqual(alert.lat, 22.54321)
        XCTAssertEqual(alert.lon, 114.05786)
        XCTAssertEqual(alert.suggestedAction, .advise)
        XCTAssertEqual(alert.evidence, ["sha256:" + feed.messages[3].sha256])
        XCTAssertEqual(out.evidence.map(\.evidence.inboxId), [4], "the report that completed 30 s is the evidence")
        XCTAssertEqual(out.evidence.first?.evidence.kind, "truck_telemetry")
        XCTAssertEqual(out.evidence.first?.evidence.source, "T-0001")
    }

    func testFiresOnFirstReportPast30Seconds() {
        var feed = Feed(start: start)
        for s in [0.0, 20, 40] { feed.truck(after: s, speed: 35.24) }
        let out = run(feed)
        XCTAssertEqual(out.alerts.map(\.summary), ["粤B12345 moving uncovered at 35.2 km/h for 40 s"])
        XCTAssertEqual(out.alerts.first?.ts, "2026-11-24T21:15:40.000+08:00")
    }

    func testDoesNotFireAt29Point9Seconds() {
        var feed = Feed(start: start)
        for s in [0.0, 10, 20, 29.9] { feed.truck(after: s) }
        let out = run(feed)
        XCTAssertEqual(out.alerts, [])
        XCTAssertEqual(out.openedCases, [])
        XCTAssertEqual(out.evidence, [])
        XCTAssertEqual(out.decoded.count, 4)
    }

    func testFiresAtExactly5KmH() {
        var feed = Feed(start: start)
        feed.truck(after: 0, speed: 5)
        feed.truck(after: 30, speed: 5)
        XCTAssertEqual(run(feed).alerts.map(\.summary), ["粤B12345 moving uncovered at 5 km/h for 30 s"])
    }

    func testDoesNotFireAt4Point9KmH() {
        var feed = Feed(start: start)
        feed.truck(after: 0, speed: 4.9)
        feed.truck(after: 30, speed: 4.9)
        feed.truck(after: 60, speed: 4.9)
        XCTAssertEqual(run(feed).alerts, [])
    }

    func testSlowingBelow5KmHResetsTheStretch() {
        var feed = Feed(start: start)
        feed.truck(after: 0)
        feed.truck(after: 15, speed: 4.9)
        feed.truck(after: 30)
        feed.truck(after: 59)
        XCTAssertEqual(run(feed).alerts, [], "only 29 s since it sped up again")
        feed.truck(after: 60)
        XCTAssertEqual(run(feed).alerts.map(\.summary), ["粤B12345 moving uncovered at 36 km/h for 30 s"])
    }

    func testUnknownSpeedIsNotMoving() {
        var feed = Feed(start: start)
        feed.truck(after: 0, speed: nil)
        feed.truck(after: 30, speed: nil)
        XCTAssertEqual(run(feed).alerts, [])
    }

    func testCoverClosedDoesNotFire() {
        var feed = Feed(start: start)
        for s in [0.0, 30, 60] { feed.truck(after: s, cover: "closed") }
        XCTAssertEqual(run(feed).alerts, [])
    }

    func testCoverUnknownDoesNotFire() {
        var feed = Feed(start: start)
        for s in [0.0, 30, 60] { feed.truck(after: s, cover: "unknown") }
        XCTAssertEqual(run(feed).alerts, [])
    }

    func testEmptyLoadDoesNotFire() {
        var feed = Feed(start: start)
        for s in [0.0, 30, 60] { feed.truck(after: s, load: "empty") }
        XCTAssertEqual(run(feed).alerts, [])
    }

    func testPartialLoadFires() {
        var feed = Feed(start: start)
        for s in [0.0, 30] { feed.truck(after: s, load: "partial") }
        XCTAssertEqual(run(feed).alerts.count, 1)
    }

    func testUnknownLoadWithWeightAboveEmptyWeightFires() {
        var feed = Feed(start: start)
        for s in [0.0, 30] { feed.truck(after: s, load: "unknown", loadKg: 18250) }
        XCTAssertEqual(run(feed).alerts.map(\.summary), ["粤B12345 moving uncovered at 36 km/h for 30 s"])
    }

    func testMissingLoadWithWeightAboveEmptyWeightFires() {
        var feed = Feed(start: start)
        for s in [0.0, 30] { feed.truck(after: s, load: nil, loadKg: 12000.5) }
        XCTAssertEqual(run(feed).alerts.count, 1)
    }

    func testUnknownLoadWithWeightBelowEmptyWeightDoesNotFire() {
        var feed = Feed(start: start)
        for s in [0.0, 30, 60] { feed.truck(after: s, load: "unknown", loadKg: 11000) }
        XCTAssertEqual(run(feed).alerts, [])
    }

    func testUnknownLoadAtExactlyEmptyWeightDoesNotFire() {
        var feed = Feed(start: start)
        for s in [0.0, 30, 60] { feed.truck(after: s, load: "unknown", loadKg: 12000) }
        XCTAssertEqual(run(feed).alerts, [])
    }

    func testUnknownLoadWithoutWeightDoesNotFire() {
        var feed = Feed(start: start)
        for s in [0.0, 30, 60] { feed.truck(after: s, load: "unknown") }
        XCTAssertEqual(run(feed).alerts, [])
    }

    func testWeightOfUnregisteredTruckDoesNotProveALoad() {
        var feed = Feed(start: start)
        for s in [0.0, 30, 60] { feed.truck(after: s, device: "T-0099", plate: "粤B99999", load: "unknown", loadKg: 25000) }
        XCTAssertEqual(run(feed).alerts, [], "no empty weight to compare with")
    }

    func testClosedReportInBetweenResetsTheStretch() {
        var feed = Feed(start: start)
        feed.truck(after: 0)
        feed.truck(after: 20, cover: "closed")
        feed.truck(after: 30)
        feed.truck(after: 50)
        XCTAssertEqual(run(feed).alerts, [])
        feed.truck(after: 60)
        let out = run(feed)
        XCTAssertEqual(out.alerts.map(\.summary), ["粤B12345 moving uncovered at 36 km/h for 30 s"])
        XCTAssertEqual(out.alerts.first?.ts, "2026-11-24T21:16:00.000+08:00")
    }

    func testTrucksAreTrackedSeparately() {
        var feed = Feed(start: start)
        feed.truck(after: 0)
        feed.truck(after: 15, device: "T-0002", plate: "粤B67890")
        feed.truck(after: 29)
        feed.truck(after: 30, device: "T-0002", plate: "粤B67890", cover: "closed")
        feed.truck(after: 31)
        let out = run(feed)
        XCTAssertEqual(out.alerts.map(\.summary), ["粤B12345 moving uncovered at 36 km/h for 31 s"])
    }

    func testUnregisteredTruckIsNamedByItsPayload() throws {
        var feed = Feed(start: start)
        for s in [0.0, 30] { feed.truck(after: s, device: "T-0002", plate: "粤B67890") }
        let alert = try XCTUnwrap(run(feed).alerts.first)
        XCTAssertEqual(alert.subject, Subject(kind: "truck", id: "T-0002", plate: "粤B67890", company: nil))
        XCTAssertEqual(alert.summary, "粤B67890 moving uncovered at 36 km/h for 30 s")
    }

    func testPlateFromTheRegistryWhenThePayloadHasNone() throws {
        var feed = Feed(start: start)
        for s in [0.0, 30] { feed.truck(after: s, plate: nil) }
        let alert = try XCTUnwrap(run(feed).alerts.first)
        XCTAssertEqual(alert.subject, Subject(kind: "truck", id: "T-0001", plate: plate, company: company))
        XCTAssertEqual(alert.summary, "粤B12345 moving uncovered at 36 km/h for 30 s")
    }

    func testConfiguredThresholds() {
        var settings = testSettings()
        settings.rules.uncoveredLoad.minSpeedKmh = 20
        settings.rules.uncoveredLoad.minDurationS = 60
        var slow = Feed(start: start)
        for s in [0.0, 60, 120] { slow.truck(after: s, speed: 19) }
        XCTAssertEqual(run(slow, settings: settings).alerts, [])
        var short = Feed(start: start)
        for s in [0.0, 59] { short.truck(after: s) }
        XCTAssertEqual(run(short, settings: settings).alerts, [])
        var long = Feed(start: start)
        for s in [0.0, 60] { long.truck(after: s, speed: 20) }
        XCTAssertEqual(run(long, settings: settings).alerts.map(\.summary), ["粤B12345 moving uncovered at 20 km/h for 60 s"])
    }
}
