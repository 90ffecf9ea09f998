import Foundation
@testable import MuckwatchCore
import XCTest

/// A small world in metres around an origin: a construction site with its
/// wash zone at the east gate, and a disposal site a kilometre east.
enum World {
    static let origin = GeoPoint(lat: 22.54, lon: 114.05)

    static func at(_ x: Double, _ y: Double) -> GeoPoint {
        GeoPoint(lat: origin.lat + y / Geo.metresPerDegreeLat,
                 lon: origin.lon + x / Geo.metresPerDegreeLon(atLat: origin.lat))
    }

    static func square(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double) -> Polygon {
        Polygon(outer: [at(x0, y0), at(x1, y0), at(x1, y1), at(x0, y1), at(x0, y0)])
    }

    static let sites = [
        Site(id: "CS-01", name: "工地一", kind: .construction, polygons: [square(0, 0, 200, 200)]),
        Site(id: "WZ-01", name: "工地一洗车槽", kind: .wash, polygons: [square(200, 80, 240, 120)], parent: "CS-01"),
        Site(id: "DS-01", name: "受纳场", kind: .disposal, polygons: [square(1000, 0, 1200, 200)]),
    ]

    static func settings(hours: [DailyWindow] = [], permitUntil: Instant? = nil) -> PipelineSettings {
        var s = PipelineSettings()
        let trucks = ["T-0001", "T-0002", "T-0003", "T-0004"].enumerated().map { i, d in
            RegisteredTruck(device: d, plate: "粤B1000\(i + 1)", company: "运输公司\(i + 1)", emptyKg: 12000,
                            permitUntil: permitUntil, permittedHours: hours)
        }
        s.registry = Registry(trucks: trucks, sites: sites,
                              cameras: [RegisteredCamera(id: "CAM-07", site: "CS-01", point: at(220, 100))],
                              monitors: [FumeMonitor(id: "F-0101", restaurant: "客家菜馆", address: "红荔路192号")])
        return s
    }
}

/// Messages for the rule tests, by seconds after 22:00 local.
struct RuleFeed {
    static let start = RFC3339.parse("2026-11-24T22:00:00+08:00")!
    var feed = Feed(start: start)

    mutating func truck(_ s: Double, _ device: String = "T-0001", at p: GeoPoint, speed: Double = 30,
                        cover: String = "closed", load: String = "full", kg: Double? = nil, body: String = "down") {
        var o: [String: Any] = ["device": device, "ts": local(Self.start.adding(seconds: s)), "lat": p.lat, "lon": p.lon,
                                "speed_kmh": speed, "cover": cover, "load": load, "body": body]
        if let kg { o["load_kg"] = kg }
        feed.add(Topic.truck(device), json(o), Self.start.adding(seconds: s))
    }

    mutating func fume(_ s: Double, conc: Double, fan: String = "on", purifier: String = "on") {
        let o: [String: Any] = ["monitor": "F-0101", "ts": local(Self.start.adding(seconds: s)), "conc_mg_m3": conc,
                                "fan": fan, "purifier": purifier]
        feed.add(Topic.fume(), json(o), Self.start.adding(seconds: s))
    }

    mutating func event(_ s: Double, type: String, plate: String? = nil, at p: GeoPoint, drone: Bool = false) {
        var o: [String: Any] = ["ts": local(Self.start.adding(seconds: s)), "type": type, "confidence": 0.9,
                                "lat": p.lat, "lon": p.lon, "event_id": "e-\(Int(s))"]
        o[drone ? "drone" : "camera"] = drone ? "D-01" : "CAM-07"
        if let plate { o["plate"] = plate }
        feed.add(drone ? Topic.droneEvent() : Topic.camera(), json(o), Self.start.adding(seconds: s))
    }

    func run(_ settings: PipelineSettings = World.settings()) -> BatchOutcome {
        Pipeline(settings: settings).process(feed.messages, ledger: SetLedger())
    }

    func alerts(_ settings: PipelineSettings = World.settings()) -> [Alert] { run(settings).alerts }
}

final class RuleSetTests: XCTestCase {
    let outside = World.at(500, 500)

    // MARK: uncovered_load and sites

    func testUncoveredInsideASiteIsLoadingNotAViolation() {
        var f = RuleFeed()
        for i in 0..<8 { f.truck(Double(i) * 10, at: World.at(50 + Double(i) * 10, 50), speed: 8, cover: "open") }
        XCTAssertEqual(f.alerts(), [])
        var g = RuleFeed()
        for i in 0..<8 { g.truck(Double(i) * 10, at: World.at(400 + Double(i) * 80, 500), speed: 30, cover: "open") }
        XCTAssertEqual(g.alerts().map(\.rule), ["uncovered_load"])
    }

    // MARK: spill by weight

    func testSpillWhenLoadDropsByTheThresholdWithinTheWindow() {
        func drop(_ kg: Double, over seconds: Double, at p: (Double) -> GeoPoint = { World.at(400 + $0 * 8, 500) }) -> [String] {
            var f = RuleFeed()
            f.truck(0, at: p(0), kg: 20000)
            f.truck(seconds, at: p(seconds), kg: 20000 - kg)
            return f.alerts().map(\.rule)
        }
        XCTAssertEqual(drop(499, over: 30), [])
        XCTAssertEqual(drop(500, over: 30), ["spill"])
        XCTAssertEqual(drop(800, over: 60), ["spill"])
        XCTAssertEqual(drop(800, over: 70), [], "outside the 60 s window")
        XCTAssertEqual(drop(800, over: 30, at: { _ in World.at(1100, 100) }), [], "inside the disposal site: unloading")
        var slow = RuleFeed()
        slow.truck(0, at: outside, speed: 3, kg: 20000)
        slow.truck(30, at: outside, speed: 3, kg: 19000)
        XCTAssertFalse(slow.alerts().map(\.rule).contains("spill"), "below 5 km/h it is not a spill on the move")
    }

    // MARK: illegal_dumping

    func testTipperRaisedOutsideDisposalSitesOnce() {
        var f = RuleFeed()
        for i in 0..<5 { f.truck(Double(i) * 10, at: outside, speed: 0, body: "raised") }
        let out = f.run()
        XCTAssertEqual(out.alerts.map(\.rule), ["illegal_dumping"])
        XCTAssertEqual(out.alerts.first?.severity, .critical)
        XCTAssertEqual(out.evidence.count, 1, "one signal per raise")
        var inside = RuleFeed()
        for i in 0..<5 { inside.truck(Double(i) * 10, at: World.at(1100, 100), speed: 0, body: "raised") }
        XCTAssertEqual(inside.alerts(), [])
    }

    func testLoadLostWhileStoppedAtThirtyPercent() {
        func lose(_ kg: Double) -> [String] {
            var f = RuleFeed()
            f.truck(0, at: outside, speed: 0, kg: 20000)  // 8 000 kg above the empty 12 000
            f.truck(20, at: outside, speed: 0, kg: 20000 - kg / 2)
            f.truck(40, at: outside, speed: 0, kg: 20000 - kg)
            return f.alerts().map(\.rule)
        }
        XCTAssertEqual(lose(2300), [])
        XCTAssertEqual(lose(2400), ["illegal_dumping"])
    }

    // MARK: unwashed_exit and the geofence

    /// Inside the site, then out through the east gate past the wash zone.
    func exit(washingFor wash: Double) -> RuleFeed {
        var f = RuleFeed()
        var t = 0.0
        // In through the west side, three minutes at the loading point, then east to the gate.
        for x in stride(from: -100.0, through: 60, by: 20) { f.truck(t, at: World.at(x, 100), speed: 10); t += 10 }
        for _ in 0..<18 { f.truck(t, at: World.at(60, 100), speed: 0); t += 10 }
        for x in stride(from: 80.0, through: 180, by: 20) { f.truck(t, at: World.at(x, 100), speed: 10); t += 10 }
        var w = 0.0
        repeat { f.truck(t, at: World.at(220, 100), speed: 2); t += 10; w += 10 } while w < wash
        for x in stride(from: 260.0, through: 560, by: 60) { f.truck(t, at: World.at(x, 100), speed: 25); t += 10 }
        return f
    }

    func testLeavingWithoutWashingIsAnUnwashedExit() throws {
        let alerts = exit(washingFor: 10).alerts()
        XCTAssertEqual(alerts.map(\.rule), ["unwashed_exit"])
        XCTAssertTrue(try XCTUnwrap(alerts.first).summary.contains("left 工地一 (CS-01)"), alerts.first?.summary ?? "")
        XCTAssertEqual(exit(washingFor: 50).alerts().map(\.rule), ["unwashed_exit"])
        XCTAssertEqual(exit(washingFor: 90).alerts(), [], "washed long enough")
        // Driving straight through in under two minutes is passing, not a visit.
        var through = RuleFeed()
        for (i, x) in stride(from: -100.0, through: 400, by: 50).enumerated() { through.truck(Double(i) * 10, at: World.at(x, 100)) }
        XCTAssertEqual(through.alerts(), [])
        // First seen inside (the feed or a restart began mid-visit): whether it washed is unknown.
        var firstInside = RuleFeed()
        for i in 0..<20 { firstInside.truck(Double(i) * 10, at: World.at(60, 100), speed: 0) }
        for (i, x) in stride(from: 100.0, through: 500, by: 50).enumerated() { firstInside.truck(200 + Double(i) * 10, at: World.at(x, 100)) }
        XCTAssertEqual(firstInside.alerts(), [])
    }

    func testJitterAtTheBoundaryIsNoExit() {
        var f = RuleFeed()
        for i in 0..<6 { f.truck(Double(i) * 10, at: World.at(100, 100), speed: 5) }
        // Parked at the north fence, fixes wandering ±8 m across it for two minutes.
        for i in 0..<12 { f.truck(60 + Double(i) * 10, at: World.at(100, i % 2 == 0 ? 192 : 208), speed: 0) }
        for i in 0..<6 { f.truck(180 + Double(i) * 10, at: World.at(100, 150), speed: 5) }
        XCTAssertEqual(f.alerts(), [])
    }

    func testSparseFixesCuttingACornerEnterAndLeave() {
        var tracker = TruckTracker(registry: World.settings().registry, dwellS: 20)
        func fix(_ s: Double, _ p: GeoPoint) -> TruckView {
            tracker.observe(TruckTelemetry(device: "T-9", ts: RuleFeed.start.adding(seconds: s), plate: nil, lat: p.lat, lon: p.lon,
                                           speedKmh: 30, headingDeg: nil, cover: .closed, load: .full, loadKg: nil, body: .down, seq: nil))
        }
        _ = fix(0, World.at(-50, 100))
        // Straight across the site's south-west corner: both fixes outside,
        // the middle third of the way (30 s of 90) inside.
        let view = fix(90, World.at(100, -50))
        let crossings = view.crossings.filter { $0.site == "CS-01" }
        XCTAssertEqual(crossings.map(\.entered), [true, false], "entered and left between two fixes")
        XCTAssertEqual(crossings.first.map { $0.at.seconds(since: RuleFeed.start) } ?? -1, 30, accuracy: 0.01)
        XCTAssertEqual(crossings.last.map { $0.at.seconds(since: RuleFeed.start) } ?? -1, 60, accuracy: 0.01)
        XCTAssertEqual(crossings.last?.washedS, 0)

        // A corner clipped for less than the dwell: no crossing at all.
        var quick = TruckTracker(registry: World.settings().registry, dwellS: 20)
        _ = quick.observe(TruckTelemetry(device: "T-9", ts: RuleFeed.start, plate: nil, lat: World.at(-20, 10).lat, lon: World.at(-20, 10).lon,
                                         speedKmh: 30, headingDeg: nil, cover: .closed, load: .full, loadKg: nil, body: .down, seq: nil))
        let p = World.at(10, -20)
        let v2 = quick.observe(TruckTelemetry(device: "T-9", ts: RuleFeed.start.adding(seconds: 60), plate: nil, lat: p.lat, lon: p.lon,
                                              speedKmh: 30, headingDeg: nil, cover: .closed, load: .full, loadKg: nil, body: .down, seq: nil))
        XCTAssertEqual(v2.crossings, [])
    }

    func testLateAndRepeatedPointsChangeNoCurrentState() {
        var f = RuleFeed()
        for i in 0..<6 { f.truck(300 + Double(i) * 10, at: World.at(600 + Double(i) * 80, 500), kg: 20000) }
        // A late batch from 4-5 min ago, raised tipper and all, and a repeat of the latest time.
        for i in 0..<6 { f.truck(30 + Double(i) * 10, at: World.at(100, 100), speed: 0, kg: 15000, body: "raised") }
        f.truck(350, at: World.at(5000, 5000), speed: 0, kg: 1000, body: "raised")
        f.truck(360, at: World.at(1080, 500), kg: 20000)
        let out = f.run()
        XCTAssertEqual(out.alerts, [], "late points are history, not the truck's state")
        let late = out.trackChunks.first { $0.fixes.first?.ts == RuleFeed.start.adding(seconds: 30) }
        XCTAssertEqual(late?.fixes.count, 6, "the late batch still goes into the track history")
    }

    // MARK: off_hours

    func testOffHoursOutsideThePermittedWindowOrPermit() {
        let night = [DailyWindow(startMinute: 22 * 60 + 30, endMinute: 6 * 60)]
        func drive(_ s: Double, speed: Double = 30, _ settings: PipelineSettings) -> [String] {
            var f = RuleFeed()
            f.truck(s, at: outside, speed: speed)
            return f.alerts(settings).map(\.rule)
        }
        XCTAssertEqual(drive(0, World.settings(hours: night)), ["off_hours"], "22:00 is before 22:30")
        XCTAssertEqual(drive(0, speed: 0, World.settings(hours: night)), [], "parked is fine")
        XCTAssertEqual(drive(1800, World.settings(hours: night)), [], "22:30 is inside")
        XCTAssertEqual(drive(0, World.settings(permitUntil: RuleFeed.start)), ["off_hours"], "permit expired at 22:00")
        XCTAssertEqual(drive(0, World.settings(permitUntil: RuleFeed.start.adding(seconds: 1))), [])
    }

    // MARK: fume_exceedance and purifier_off

    func testFumeMeanOverTenMinutesAboveTheLimit() {
        func readings(_ conc: Double, minutes: Int) -> [String] {
            var f = RuleFeed()
            for m in 0...minutes { f.fume(Double(m) * 60, conc: conc) }
            return f.alerts().map(\.rule)
        }
        XCTAssertEqual(readings(3.0, minutes: 9), [], "not ten minutes of readings yet")
        XCTAssertEqual(readings(3.0, minutes: 10), ["fume_exceedance"])
        XCTAssertEqual(readings(2.0, minutes: 12), [], "at the limit is not above it")
        XCTAssertEqual(readings(2.01, minutes: 12), ["fume_exceedance"])
        var spike = RuleFeed()
        for m in 0...15 { spike.fume(Double(m) * 60, conc: m == 11 || m == 12 ? 4.0 : 1.0) }
        XCTAssertEqual(spike.alerts(), [], "a two-minute spike keeps the mean at 1.6")
        let alert = RuleFeed.withFume(3.0).alerts().first
        XCTAssertEqual(alert?.subject.kind, "monitor")
        XCTAssertEqual(alert?.subject.company, "客家菜馆")
    }

    func testPurifierOffWithTheFanOnForFiveMinutes() {
        func off(_ seconds: Double, fan: String = "on") -> [String] {
            var f = RuleFeed()
            for s in stride(from: 0.0, through: seconds, by: 30) { f.fume(s, conc: 0.5, fan: fan, purifier: "off") }
            return f.alerts().map(\.rule)
        }
        XCTAssertEqual(off(270), [])
        XCTAssertEqual(off(300), ["purifier_off"])
        XCTAssertEqual(off(600, fan: "off"), [], "fan off: the kitchen is closed")
    }

    // MARK: device_silent

    func testDeviceSilentAfterFifteenMinutesGoneDarkMidTrip() {
        func silence(_ minutes: Double, lastSpeed: Double = 30, hours: [DailyWindow] = []) -> [String] {
            var f = RuleFeed()
            f.truck(0, "T-0001", at: outside, speed: lastSpeed)
            // Another truck keeps the clock going.
            for s in stride(from: 10.0, through: minutes * 60, by: 30) { f.truck(s, "T-0002", at: World.at(3000, 3000), speed: 0) }
            return f.alerts(World.settings(hours: hours)).map(\.rule)
        }
        XCTAssertEqual(silence(14.9), [])
        XCTAssertEqual(silence(15.5), ["device_silent"])
        XCTAssertEqual(silence(30, lastSpeed: 0), [], "parked and powered off")
        XCTAssertEqual(silence(30, hours: [DailyWindow(startMinute: 6 * 60, endMinute: 22 * 60 + 10)]), [],
                       "silent from 22:15, after its permitted hours")
    }

    /// T-0001 drives east reporting every 10 s until 22:00:20, is silent for
    /// `gap` minutes, then reports again on the move; with `otherTraffic`,
    /// T-0002 (parked) reports every 30 s meanwhile and keeps the clock going.
    func returningTruck(afterSilence gap: Double, lastSpeed: Double = 30, otherTraffic: Bool = false) -> RuleFeed {
        var f = RuleFeed()
        for i in 0..<3 { f.truck(Double(i) * 10, "T-0001", at: World.at(400 + Double(i) * 80, 500), speed: lastSpeed) }
        let back = 20 + gap * 60
        if otherTraffic {
            for s in stride(from: 30.0, to: back, by: 30) { f.truck(s, "T-0002", at: World.at(3000, 3000), speed: 0) }
        }
        f.truck(back, "T-0001", at: World.at(2000, 500))
        f.truck(back + 10, "T-0001", at: World.at(2080, 500))
        return f
    }

    func testDeviceSilentOnAQuietNightIsJudgedOnTheTrucksOwnReturn() throws {
        let quiet = returningTruck(afterSilence: 35)
        let out = quiet.run()
        XCTAssertEqual(out.alerts.count, 1, "\(out.alerts)")
        let alert = try XCTUnwrap(out.alerts.first)
        XCTAssertEqual(alert.rule, "device_silent")
        XCTAssertEqual(alert.severity, .minor)
        XCTAssertEqual(alert.subject.id, "T-0001")
        XCTAssertEqual(alert.subject.plate, "粤B10001")
        XCTAssertEqual(alert.summary, "粤B10001 silent for 15 min after reporting 30 km/h at 2026-11-24T22:00:20.000+08:00")
        // The last fix before the silence is the evidence, and where it was is the place.
        XCTAssertEqual(alert.evidence, ["sha256:" + quiet.feed.messages[2].sha256])
        XCTAssertEqual(alert.lat ?? 0, World.at(560, 500).lat, accuracy: 1e-6)
        XCTAssertEqual(alert.lon ?? 0, World.at(560, 500).lon, accuracy: 1e-6)
        // The incident is the moment the silence passed 15 min; nothing but
        // the truck's return told the centre, so that is when it is raised.
        let draft = try XCTUnwrap(out.openedCases.first)
        XCTAssertEqual(RFC3339.format(draft.firstSeen, offsetSeconds: 8 * 3600), "2026-11-24T22:15:20.000+08:00")
        XCTAssertEqual(alert.ts, "2026-11-24T22:35:20.000+08:00")
    }

    func testDeviceSilentLongerThanTheIdleTimeIsJudgedBeforeTheTruckIsForgotten() {
        // One message per batch, as the daemon commits them: the batch that
        // brings the truck back after 7 h (idle time 6 h) forgets idle state
        // only after its messages went through the rules.
        let pipeline = Pipeline(settings: World.settings())
        let alerts = returningTruck(afterSilence: 7 * 60).feed.messages.flatMap {
            pipeline.process([$0], ledger: SetLedger()).alerts
        }
        XCTAssertEqual(alerts.map(\.rule), ["device_silent"])
        XCTAssertEqual(alerts.first?.summary, "粤B10001 silent for 15 min after reporting 30 km/h at 2026-11-24T22:00:20.000+08:00")
    }

    func testDeviceSilentWithOtherTrafficIsTheSameOneAlertAsOnAQuietNight() throws {
        let quiet = try XCTUnwrap(returningTruck(afterSilence: 35).run().alerts.first)
        let busy = returningTruck(afterSilence: 35, otherTraffic: true).run()
        XCTAssertEqual(busy.alerts.count, 1, "raised on the clock, not again on the truck's return: \(busy.alerts)")
        let alert = try XCTUnwrap(busy.alerts.first)
        // Raised by the clock at T-0002's first report past 22:15:20, the same
        // alert in every other respect.
        XCTAssertEqual(alert.ts, "2026-11-24T22:15:30.000+08:00")
        var sameTime = alert
        sameTime.ts = quiet.ts
        XCTAssertEqual(sameTime, quiet)
        XCTAssertEqual(busy.openedCases.map { RFC3339.format($0.firstSeen, offsetSeconds: 8 * 3600) },
                       ["2026-11-24T22:15:20.000+08:00"])
    }

    func testDeviceSilentOnReturnKeepsTheRuleForShortGapsParkedTrucksAndPermittedHours() {
        func rules(_ f: RuleFeed, hours: [DailyWindow] = []) -> [String] { f.alerts(World.settings(hours: hours)).map(\.rule) }
        XCTAssertEqual(rules(returningTruck(afterSilence: 14.9)), [])
        XCTAssertEqual(rules(returningTruck(afterSilence: 15)), ["device_silent"], "silent for 15 min is silent")
        XCTAssertEqual(rules(returningTruck(afterSilence: 35, lastSpeed: 0)), [], "parked and powered off, then back")
        XCTAssertEqual(rules(returningTruck(afterSilence: 35, lastSpeed: 0, otherTraffic: true)), [])
        // Permitted until 22:10: silent from 22:15:20, outside its hours (its
        // return at 22:35 is off_hours, a separate rule).
        XCTAssertFalse(rules(returningTruck(afterSilence: 35), hours: [DailyWindow(startMinute: 6 * 60, endMinute: 22 * 60 + 10)])
                        .contains("device_silent"))
    }

    func testDeviceSilentTwiceIsTwoSilences() {
        var f = returningTruck(afterSilence: 35)
        // Back at 22:35:20, moving until 22:35:30, then dark for another 40 min.
        f.truck(2130 + 2400, "T-0001", at: World.at(4000, 500))
        XCTAssertEqual(f.alerts().map(\.rule), ["device_silent", "device_silent"])
        XCTAssertEqual(f.run().openedCases.map { RFC3339.format($0.firstSeen, offsetSeconds: 8 * 3600) },
                       ["2026-11-24T22:15:20.000+08:00", "2026-11-24T22:50:30.000+08:00"])
    }

    // MARK: attribution and fusion

    func testSpillAttributedToTheNearestTrackWithTheOthersAsCandidates() throws {
        var f = RuleFeed()
        let spill = World.at(500, 500)
        // T-0001 passes 10 m north of the spill, T-0002 35 m south, T-0003 80 m away,
        // T-0004 right over it but 11 minutes before.
        f.truck(0, "T-0004", at: World.at(300, 500))
        f.truck(60, "T-0004", at: World.at(700, 500))
        for (device, y) in [("T-0001", 510.0), ("T-0002", 465.0), ("T-0003", 580.0)] {
            // Sparse fixes 400 m apart: only the segment between them passes near.
            f.truck(400, device, at: World.at(300, y))
            f.truck(460, device, at: World.at(700, y))
        }
        f.event(720, type: "spill", at: spill, drone: true)
        let out = f.run()
        let alert = try XCTUnwrap(out.alerts.first)
        XCTAssertEqual(alert.subject.id, "T-0001")
        XCTAssertEqual(alert.subject.plate, "粤B10001")
        let draft = try XCTUnwrap(out.openedCases.first)
        XCTAssertEqual(draft.candidates.map(\.device), ["T-0002"])
        XCTAssertEqual(draft.candidates.first?.distanceM ?? 0, 35, accuracy: 0.5)
        XCTAssertEqual(draft.candidates.first?.plate, "粤B10002")
        XCTAssertTrue(alert.summary.contains("nearest track 粤B10001, 10 m"), alert.summary)
    }

    func testTrackerCameraAndDroneOnOneTruckAreOneCase() throws {
        var f = RuleFeed()
        // T-0001 driving east uncovered for two minutes.
        for i in 0...12 { f.truck(Double(i) * 10, at: World.at(400 + Double(i) * 80, 500), cover: "open") }
        f.event(50, type: "uncovered_load", plate: "粤b·10001", at: World.at(800, 505))
        f.event(100, type: "uncovered_load", at: World.at(1200, 500), drone: true)
        let out = f.run()
        XCTAssertEqual(out.alerts.count, 1)
        XCTAssertEqual(out.openedCases.count, 1)
        let kinds = Set(out.evidence.map(\.evidence.kind))
        XCTAssertEqual(kinds, ["truck_telemetry", "camera_event", "drone_event"])
        XCTAssertEqual(Set(out.evidence.map(\.caseId)).count, 1)
    }
}

extension RuleFeed {
    static func withFume(_ conc: Double) -> RuleFeed {
        var f = RuleFeed()
        for m in 0...10 { f.fume(Double(m) * 60, conc: conc) }
        return f
    }
}
