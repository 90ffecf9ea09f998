import MuckwatchCore
import XCTest

/// Camera and drone detections (§6): `uncovered_load` and `spill` events at
/// confidence ≥ 0.6, and who the alert is about.
final class EventRuleTests: XCTestCase {
    let start = instant("2026-11-24T21:16:40+08:00")

    func run(_ feed: Feed, settings: PipelineSettings = testSettings()) -> BatchOutcome {
        Pipeline(settings: settings).process(feed.messages, ledger: SetLedger())
    }

    func testCameraUncoveredLoadAtConfidence0Point6() throws {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "uncovered_load", confidence: 0.6)
        let out = run(feed)
        let alert = try XCTUnwrap(out.alerts.first)
        XCTAssertEqual(out.alerts.count, 1)
        XCTAssertEqual(alert.rule, "uncovered_load")
        XCTAssertEqual(alert.severity, .major)
        XCTAssertEqual(alert.summary, "CAM-07 saw 粤B12345 carrying an uncovered load (confidence 0.6)")
        XCTAssertEqual(alert.subject, Subject(kind: "truck", id: "T-0001", plate: plate, company: company))
        XCTAssertEqual(alert.lat, 22.5431)
        XCTAssertEqual(alert.lon, 114.058)
        XCTAssertEqual(alert.ts, "2026-11-24T21:16:40.000+08:00")
        XCTAssertEqual(alert.caseId, "MW-20261124-0001")
        XCTAssertEqual(alert.suggestedAction, .advise)
        XCTAssertEqual(out.evidence.first?.evidence.kind, "camera_event")
        XCTAssertEqual(out.evidence.first?.evidence.source, "CAM-07")
    }

    func testUncoveredLoadBelowThresholdOrWithoutConfidenceDoesNotFire() {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "uncovered_load", confidence: 0.59)
        feed.event(after: 1, type: "uncovered_load", confidence: nil)
        feed.event(after: 2, type: "uncovered_load", confidence: 0, drone: false)
        let out = run(feed)
        XCTAssertEqual(out.alerts, [])
        XCTAssertEqual(out.decoded.count, 3, "they are kept as records, just not alerted on")
    }

    func testDroneUncoveredLoad() throws {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "uncovered_load", confidence: 0.75, camera: "D-01", drone: true)
        let alert = try XCTUnwrap(run(feed).alerts.first)
        XCTAssertEqual(alert.summary, "D-01 saw 粤B12345 carrying an uncovered load (confidence 0.75)")
        XCTAssertEqual(alert.subject.id, "T-0001")
    }

    func testSpillAtConfidence0Point6IsCritical() throws {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "spill", confidence: 0.6)
        let out = run(feed)
        let alert = try XCTUnwrap(out.alerts.first)
        XCTAssertEqual(out.alerts.count, 1)
        XCTAssertEqual(alert.rule, "spill")
        XCTAssertEqual(alert.severity, .critical)
        XCTAssertEqual(alert.summary, "CAM-07 saw a spill from 粤B12345 (confidence 0.6)")
        XCTAssertEqual(alert.subject, Subject(kind: "truck", id: "T-0001", plate: plate, company: company))
        XCTAssertEqual(alert.suggestedAction, .enforce, "anything critical is enforced")
        XCTAssertEqual(out.openedCases.first?.severity, .critical)
    }

    func testSpillBelowThresholdOrWithoutConfidenceDoesNotFire() {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "spill", confidence: 0.59)
        feed.event(after: 1, type: "spill", confidence: nil)
        XCTAssertEqual(run(feed).alerts, [])
    }

    func testDroneSpill() throws {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "spill", confidence: 0.95, plate: nil, camera: "D-01", drone: true)
        let alert = try XCTUnwrap(run(feed).alerts.first)
        XCTAssertEqual(alert.subject, Subject(kind: "drone", id: "D-01"))
        XCTAssertEqual(alert.summary, "D-01 saw a spill (confidence 0.95); no truck's track passed within 50 m in the 10 min before")
    }

    func testUnknownPlateIsTheSubjectId() throws {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "spill", confidence: 0.9, plate: "粤B99999")
        let alert = try XCTUnwrap(run(feed).alerts.first)
        XCTAssertEqual(alert.subject, Subject(kind: "truck", id: "粤B99999", plate: "粤B99999", company: nil))
        XCTAssertEqual(alert.summary, "CAM-07 saw a spill from 粤B99999 (confidence 0.9); no truck's track passed within 50 m in the 10 min before")
    }

    func testNoPlateMakesTheCameraTheSubject() throws {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "spill", confidence: 0.9, plate: nil)
        let alert = try XCTUnwrap(run(feed).alerts.first)
        XCTAssertEqual(alert.subject, Subject(kind: "camera", id: "CAM-07"))
        XCTAssertEqual(alert.summary, "CAM-07 saw a spill (confidence 0.9); no truck's track passed within 50 m in the 10 min before")
    }

    func testUncoveredLoadWithoutPlateSaysWhatWasSeen() throws {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "uncovered_load", confidence: 0.9, plate: nil)
        let alert = try XCTUnwrap(run(feed).alerts.first)
        XCTAssertEqual(alert.subject, Subject(kind: "camera", id: "CAM-07"))
        XCTAssertTrue(alert.summary.hasPrefix("CAM-07 saw "), alert.summary)
        XCTAssertTrue(alert.summary.contains("uncovered load"), alert.summary)
        // The camera is the subject only because no plate was read: the summary
        // must not claim the camera itself carried the load.
        XCTAssertFalse(alert.summary.contains("saw CAM-07"), alert.summary)
    }

    func testOtherEventTypesRaiseNoAlert() {
        var feed = Feed(start: start)
        for (i, type) in ["muck_truck", "bare_soil", "sprinkler_off"].enumerated() {
            feed.event(after: Double(i), type: type, confidence: 0.99)
        }
        let out = run(feed)
        XCTAssertEqual(out.alerts, [])
        XCTAssertEqual(out.decoded.count, 3)
    }

    func testClipBecomesVideoEvidence() throws {
        var feed = Feed(start: start)
        feed.add(Topic.camera(), """
            {"camera":"CAM-07","event_id":"e-8812","ts":"2026-11-24T21:16:40+08:00","type":"spill","plate":"粤B12345",
             "confidence":0.91,"clip":{"url":"file:///var/lib/muckwatch/media/cam07/seg-2116.ts","offset_s":12.4}}
            """, start)
        let out = run(feed)
        let evidence = try XCTUnwrap(out.evidence.first)
        XCTAssertEqual(evidence.caseId, "MW-20261124-0001")
        XCTAssertEqual(evidence.evidence.clipURL, "file:///var/lib/muckwatch/media/cam07/seg-2116.ts")
        XCTAssertEqual(evidence.evidence.frameOffsetS, 12.4)
        XCTAssertEqual(evidence.evidence.sha256, feed.messages[0].sha256)
        XCTAssertEqual(evidence.evidence.ts, start)
    }

    func testConfiguredConfidence() {
        var settings = testSettings()
        settings.rules.uncoveredLoad.minConfidence = 0.8
        settings.rules.spill.minConfidence = 0.95
        var feed = Feed(start: start)
        feed.event(after: 0, type: "uncovered_load", confidence: 0.79)
        feed.event(after: 1, type: "spill", confidence: 0.94)
        XCTAssertEqual(run(feed, settings: settings).alerts, [])
        var high = Feed(start: start)
        high.event(after: 0, type: "uncovered_load", confidence: 0.8)
        high.event(after: 1, type: "spill", confidence: 0.95)
        XCTAssertEqual(run(high, settings: settings).alerts.map(\.rule), ["uncovered_load", "spill"])
    }

    func testDeadLettersDoNotStopTheBatch() throws {
        var feed = Feed(start: start)
        feed.add(Topic.camera(), "not json", start)
        feed.add(Topic.truck(), #"{"ts":1764000000000,"lat":123.4,"lon":114}"#, start)
        feed.event(after: 1, type: "spill", confidence: 0.9)
        feed.add("unknown/topic", "{}", start)
        let out = run(feed)
        XCTAssertEqual(out.deadLetters.map(\.failure.reason), [.invalidJSON, .outOfRange, .unknownTopic])
        XCTAssertEqual(out.deadLetters.map(\.message.id), [1, 2, 4])
        XCTAssertEqual(out.alerts.map(\.rule), ["spill"])
        XCTAssertEqual(out.lastInboxId, 4)
    }
}
