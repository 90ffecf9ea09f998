import Foundation
@testable import MuckwatchCore
@testable import MuckwatchStore
import XCTest

/// Issue 14, item 7: a device idle longer than `limits.device_idle_s` leaves
/// memory, and what a rule needs comes back from the store when it reports again.
final class DeviceIdleTests: StoreTestCase {
    static let origin = GeoPoint(lat: 22.54, lon: 114.05)
    static let start = RFC3339.parse("2026-11-24T16:00:00+08:00")!

    static func at(_ x: Double, _ y: Double) -> GeoPoint {
        GeoPoint(lat: origin.lat + y / Geo.metresPerDegreeLat, lon: origin.lon + x / Geo.metresPerDegreeLon(atLat: origin.lat))
    }

    static func square(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double) -> Polygon {
        Polygon(outer: [at(x0, y0), at(x1, y0), at(x1, y1), at(x0, y1), at(x0, y0)])
    }

    static func settings(idleS: Double) -> PipelineSettings {
        var s = PipelineSettings()
        s.registry = Registry(
            trucks: [RegisteredTruck(device: "T-0001", plate: "粤B10001", company: "运输公司1", emptyKg: 12000),
                     RegisteredTruck(device: "T-0002", plate: "粤B10002", company: "运输公司2", emptyKg: 12000)],
            sites: [Site(id: "CS-01", name: "工地一", kind: .construction, polygons: [square(0, 0, 200, 200)]),
                    Site(id: "WZ-01", name: "工地一洗车槽", kind: .wash, polygons: [square(200, 80, 240, 120)], parent: "CS-01")])
        s.limits.deviceIdleS = idleS
        return s
    }

    func accept(_ store: SQLiteStore, _ device: String, after seconds: Double, at p: GeoPoint, speed: Double) throws {
        let ts = Self.start.adding(seconds: seconds)
        let payload = #"{"device":"\#(device)","ts":"\#(RFC3339.format(ts, offsetSeconds: 8 * 3600))","lat":\#(p.lat),"lon":\#(p.lon),"speed_kmh":\#(speed),"cover":"closed","load":"full","body":"down"}"#
        _ = try store.accept(topic: "muckwatch/v1/truck/\(device)/telemetry", payload: Array(payload.utf8), qos: 1,
                             retain: false, arrivedAt: ts)
    }

    /// Runs the truck parked in a site overnight through a store with
    /// `idleS`; returns the alert lines and the trucks in memory before it returns.
    func parkedOvernight(idleS: Double, name: String) throws -> (alerts: [String], trucksBeforeReturn: Int) {
        let store = try SQLiteStore(path: folder.appendingPathComponent(name).path)
        let pipeline = try restoredPipeline(from: store, settings: Self.settings(idleS: idleS))
        var alerts: [String] = []
        func drain() throws {
            while let batch = try processNext(in: store, with: pipeline, limit: 16) { alerts += batch.alerts.map(\.line) }
        }
        // T-0001 drives into the site, parks for half an hour and goes dark.
        var t = 0.0
        for x in stride(from: -100.0, through: 60, by: 20) { try accept(store, "T-0001", after: t, at: Self.at(x, 100), speed: 10); t += 10 }
        for _ in 0..<30 { try accept(store, "T-0001", after: t, at: Self.at(60, 100), speed: 0); t += 60 }
        // Another truck keeps the pipeline's clock moving for 14 hours, far away.
        for m in stride(from: 0.0, through: 14 * 3600, by: 600) {
            try accept(store, "T-0002", after: m, at: Self.at(5000, 5000), speed: 20)
        }
        try drain()
        let trucks = pipeline.stateCounts["geofence"] ?? -1
        // The next morning it wakes up where it parked and leaves by the north, not through the wash zone.
        t = 14 * 3600 + 60
        for _ in 0..<3 { try accept(store, "T-0001", after: t, at: Self.at(60, 100), speed: 0); t += 10 }
        for y in stride(from: 120.0, through: 420, by: 30) { try accept(store, "T-0001", after: t, at: Self.at(60, y), speed: 20); t += 10 }
        try drain()
        return (alerts, trucks)
    }

    func testTruckParkedInASiteLeavesTheSameWayAfterItsStateLeftMemory() throws {
        let evicted = try parkedOvernight(idleS: 6 * 3600, name: "evicted.db")
        let kept = try parkedOvernight(idleS: 30 * 86_400, name: "kept.db")
        XCTAssertEqual(evicted.trucksBeforeReturn, 1, "T-0001's geofence state left memory after 6 h")
        XCTAssertEqual(kept.trucksBeforeReturn, 2)
        XCTAssertEqual(kept.alerts.count, 1)
        XCTAssertTrue(kept.alerts.first?.contains(#""rule":"unwashed_exit""#) ?? false, kept.alerts.first ?? "")
        XCTAssertTrue(kept.alerts.first?.contains("left 工地一 (CS-01) after 0 s in its wash zone") ?? false, kept.alerts.first ?? "")
        XCTAssertEqual(evicted.alerts, kept.alerts, "the same alert, from the visit restored from the store")
    }

    func testFloodOfIdsLeavesMemoryAndShrinksTheTables() throws {
        let store = try SQLiteStore(path: path)
        let pipeline = try restoredPipeline(from: store, settings: Self.settings(idleS: 6 * 3600))
        for i in 0..<2000 { try accept(store, "FLOOD-\(i)", after: Double(i) / 10, at: Self.at(Double(i), 0), speed: 30) }
        while try processNext(in: store, with: pipeline, limit: 512) != nil {}
        XCTAssertEqual(pipeline.stateCounts["geofence"], 2000)
        XCTAssertEqual(pipeline.stateCounts["track_chunks"], 2000)
        // Seven hours later one truck reports: every flooded id has gone.
        try accept(store, "T-0002", after: 7 * 3600, at: Self.at(5000, 5000), speed: 20)
        let batch = try XCTUnwrap(processNext(in: store, with: pipeline))
        XCTAssertEqual(batch.forgottenDevices, 4000)
        XCTAssertEqual(pipeline.stateCounts["geofence"], 1)
        XCTAssertEqual(pipeline.stateCounts["track_chunks"], 1)
        // Their open chunks were indexed on the way out, as a later fix would have closed them.
        XCTAssertEqual(try rows("SELECT COUNT(DISTINCT device) FROM track_chunks WHERE device LIKE 'FLOOD-%'")[0][0] as Int64, 2000)
        // A flooded id that comes back is rebuilt from its one fix, not a fresh start.
        try accept(store, "FLOOD-7", after: 7 * 3600 + 1, at: Self.at(7, 0), speed: 30)
        _ = try processNext(in: store, with: pipeline)
        XCTAssertEqual(pipeline.stateCounts["geofence"], 2)
    }
}
