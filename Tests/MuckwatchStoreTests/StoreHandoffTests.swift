import Foundation
import GRDB
import MuckwatchCore
import MuckwatchStore
import XCTest

/// The pipeline takes what `accept` just committed from memory, and falls
/// back to reading the inbox whenever memory does not continue exactly where
/// it stopped: either way every message is processed once, in inbox order.
final class StoreHandoffTests: StoreTestCase {
    private func acceptTrucks(_ store: SQLiteStore, _ range: Range<Int>) throws {
        let arrivals = range.map { i in
            Arrival(topic: Topic.truck("T-\(i % 5)"), payload: Array(truckPayload("2026-11-24T21:\(10 + i / 60):\(String(format: "%02d", i % 60))+08:00",
                                                                                          cover: "closed").utf8),
                          qos: 1, retain: false, arrivedAt: instant("2026-11-24T22:00:00+08:00"))
        }
        _ = try store.accept(arrivals)
    }

    private func processedInboxIds(_ store: SQLiteStore) throws -> [Int64] {
        try DatabaseQueue(path: store.path).read { db in
            try Int64.fetchAll(db, sql: "SELECT inbox_id FROM truck_telemetry ORDER BY inbox_id")
        }
    }

    private func drain(_ store: SQLiteStore, _ pipeline: Pipeline, limit: Int) throws -> [Int] {
        var batches: [Int] = []
        while let batch = try processNext(in: store, with: pipeline, limit: limit) { batches.append(batch.messages) }
        return batches
    }

    func testBurstsBeyondTheHandoffAreReadFromTheStore() throws {
        // Room for 40: the second burst of 30 does not fit and is read back.
        let store = try SQLiteStore(path: path, handoffCapacity: 40)
        let pipeline = try restoredPipeline(from: store, settings: testSettings())
        try acceptTrucks(store, 0..<30)
        try acceptTrucks(store, 30..<60)
        try acceptTrucks(store, 60..<70)
        // 1-25 and 26-30 from memory (stopping at the gap), 31-55 and 56-70
        // from the store (which holds 61-70 too; memory's copies are dropped).
        XCTAssertEqual(try drain(store, pipeline, limit: 25), [25, 5, 25, 15])
        XCTAssertEqual(try processedInboxIds(store), Array(1...70))
    }

    func testInterleavedAcceptAndProcessing() throws {
        let store = try SQLiteStore(path: path, handoffCapacity: 16)
        let pipeline = try restoredPipeline(from: store, settings: testSettings())
        var next = 0
        for size in [3, 20, 1, 7, 16, 2, 9] {
            try acceptTrucks(store, next..<(next + size))
            next += size
            _ = try processNext(in: store, with: pipeline, limit: 8)
        }
        _ = try drain(store, pipeline, limit: 8)
        XCTAssertEqual(try processedInboxIds(store), (1...next).map(Int64.init))
    }

    func testAfterARestartThePendingMessagesComeFromTheStore() throws {
        do {
            let store = try SQLiteStore(path: path)
            try acceptTrucks(store, 0..<12)
            _ = try processNext(in: store, with: restoredPipeline(from: store, settings: testSettings()), limit: 5)
        }
        let store = try SQLiteStore(path: path)
        try acceptTrucks(store, 12..<20)   // in memory, but 6...12 are not
        let pipeline = try restoredPipeline(from: store, settings: testSettings())
        XCTAssertEqual(try drain(store, pipeline, limit: 100), [15])
        XCTAssertEqual(try processedInboxIds(store), Array(1...20))
    }
}
