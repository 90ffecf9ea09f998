import Foundation
import GRDB
import MuckwatchCore
import MuckwatchStore
import XCTest

/// Attribution through the store: tracks committed in earlier batches are
/// found in the R*Tree, and a restarted pipeline still knows the last minute
/// of each truck's track, which was not yet indexed when it stopped.
final class StoreAttributionTests: StoreTestCase {
    /// T-0001 drives east along 22.5431 at 36 km/h, one fix every 10 s.
    func drive(_ store: SQLiteStore, from minute: Int, fixes: Int, lat: Double = 22.5431) throws {
        for i in 0..<fixes {
            let s = minute * 60 + i * 10
            let time = String(format: "2026-11-24T21:%02d:%02d+08:00", s / 60, s % 60)
            let lon = 114.050 + Double(s) * 0.0001
            try accept(store, Topic.truck(), #"{"device":"T-0001","ts":"\#(time)","lat":\#(lat),"lon":\#(lon),"speed_kmh":36,"cover":"closed","load":"full"}"#,
                       at: time)
        }
    }

    func spill(_ store: SQLiteStore, at time: String, lon: Double) throws {
        try accept(store, Topic.droneEvent(),
                   #"{"drone":"D-01","event_id":"s-1","ts":"\#(time)","type":"spill","confidence":0.9,"lat":22.5432,"lon":\#(lon)}"#,
                   at: time)
    }

    func testSpillAttributedFromTracksOfEarlierBatches() throws {
        let store = try SQLiteStore(path: path)
        let pipeline = try restoredPipeline(from: store, settings: testSettings())
        try drive(store, from: 0, fixes: 30)  // 21:00:00–21:04:50, lon 114.050–114.079
        while try processNext(in: store, with: pipeline, limit: 7) != nil {}
        // 21:07: the truck passed lon 114.0600 (its fix at 21:01:40) 11 m south.
        try spill(store, at: "2026-11-24T21:07:00+08:00", lon: 114.0600)
        let batch = try XCTUnwrap(processNext(in: store, with: pipeline))
        XCTAssertEqual(batch.alerts.count, 1)
        let c = try XCTUnwrap(store.cases(utcOffsetSeconds: chinaOffset).first)
        XCTAssertEqual(c.suspectedParty.id, "T-0001")
        XCTAssertTrue(c.summary.contains("nearest track 粤B12345, 11 m"), c.summary)
    }

    func testARestartedPipelineStillKnowsTheOpenChunk() throws {
        do {
            let store = try SQLiteStore(path: path)
            let pipeline = try restoredPipeline(from: store, settings: testSettings())
            try drive(store, from: 0, fixes: 4)  // 21:00:00–21:00:30: one open chunk, not yet indexed
            while try processNext(in: store, with: pipeline) != nil {}
        }
        let store = try SQLiteStore(path: path)
        let pipeline = try restoredPipeline(from: store, settings: testSettings())
        try spill(store, at: "2026-11-24T21:03:00+08:00", lon: 114.0520)
        _ = try processNext(in: store, with: pipeline)
        XCTAssertEqual(try store.cases(utcOffsetSeconds: chinaOffset).first?.suspectedParty.id, "T-0001")
    }
}
