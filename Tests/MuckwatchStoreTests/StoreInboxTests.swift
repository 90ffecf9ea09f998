import Foundation
import MuckwatchCore
import MuckwatchStore
import XCTest

/// The whole-process inbox (§7.3): every message kept once, redeliveries
/// recognised.
final class StoreInboxTests: StoreTestCase {
    func testSameTopicAndPayloadTwiceIsStoredOnce() throws {
        let store = try SQLiteStore(path: path)
        let payload = truckPayload("2026-11-24T21:15:00+08:00")
        XCTAssertEqual(try accept(store, Topic.truck(), payload, at: "2026-11-24T21:15:00.100+08:00"), .new(1))
        XCTAssertEqual(try accept(store, Topic.truck(), payload, at: "2026-11-24T21:15:05+08:00"), .duplicate(of: 1))
        let stats = try store.stats()
        XCTAssertEqual(stats.messages, 1)
        XCTAssertEqual(stats.duplicates, 1)
        XCTAssertEqual(stats.pending, 1)
        XCTAssertEqual(try store.unprocessed(limit: 10).count, 1)
        XCTAssertEqual(try rows("SELECT COUNT(*) FROM inbox").first?[0], 1)
    }

    func testSamePayloadOnDifferentTopicsIsTwoMessages() throws {
        let store = try SQLiteStore(path: path)
        let payload = #"{"ts":"2026-11-24T21:15:00+08:00","lat":22.5,"lon":114.0}"#
        XCTAssertEqual(try accept(store, Topic.truck("T-0001"), payload, at: "2026-11-24T21:15:00+08:00"), .new(1))
        XCTAssertEqual(try accept(store, Topic.truck("T-0002"), payload, at: "2026-11-24T21:15:00+08:00"), .new(2))
        let stats = try store.stats()
        XCTAssertEqual(stats.messages, 2)
        XCTAssertEqual(stats.duplicates, 0)
        let pending = try store.unprocessed(limit: 10)
        XCTAssertEqual(pending.map(\.topic), [Topic.truck("T-0001"), Topic.truck("T-0002")])
    }

    func testUnprocessedKeepsTheBytesAndArrival() throws {
        let store = try SQLiteStore(path: path)
        try accept(store, Topic.camera(), spillPayload, at: "2026-11-24T21:16:41.005+08:00")
        let m = try XCTUnwrap(store.unprocessed(limit: 10).first)
        XCTAssertEqual(m.id, 1)
        XCTAssertEqual(m.topic, Topic.camera())
        XCTAssertEqual(m.payload, Array(spillPayload.utf8))
        XCTAssertEqual(m.arrivedAt, instant("2026-11-24T21:16:41.005+08:00"))
        XCTAssertEqual(m.sha256, spillPayloadSHA256)
    }

    func testBinaryPayloadIsKeptExactly() throws {
        let store = try SQLiteStore(path: path)
        let bytes: [UInt8] = [0x7e, 0x02, 0x00, 0xff, 0x00, 0x7e]
        XCTAssertEqual(try store.accept(topic: "jt808/013800138000/up", payload: bytes, qos: 1, retain: false,
                                        arrivedAt: instant("2026-11-24T21:15:00+08:00")), .new(1))
        XCTAssertEqual(try store.unprocessed(limit: 1).first?.payload, bytes)
    }

    func testRedeliveryAfterProcessingIsNotProcessedAgain() throws {
        let store = try SQLiteStore(path: path)
        let pipeline = try restoredPipeline(from: store, settings: testSettings())
        try accept(store, Topic.camera(), spillPayload, at: "2026-11-24T21:16:41+08:00")
        XCTAssertEqual(try processNext(in: store, with: pipeline)?.alerts.count, 1)
        XCTAssertEqual(try accept(store, Topic.camera(), spillPayload, at: "2026-11-24T21:16:50+08:00"), .duplicate(of: 1))
        XCTAssertNil(try processNext(in: store, with: pipeline))
        let stats = try store.stats()
        XCTAssertEqual(stats.messages, 1)
        XCTAssertEqual(stats.duplicates, 1)
        XCTAssertEqual(stats.alerts, ["spill": 1])
        XCTAssertEqual(stats.records, ["camera_event": 1])
    }

    func testRepeatWithinOneBurstIsStoredOnce() throws {
        let store = try SQLiteStore(path: path)
        let payload = Array(truckPayload("2026-11-24T21:15:00+08:00").utf8)
        let at = instant("2026-11-24T21:15:00+08:00")
        let burst = [payload, payload, Array(spillPayload.utf8)].map {
            Arrival(topic: Topic.truck(), payload: $0, qos: 1, retain: false, arrivedAt: at)
        }
        XCTAssertEqual(try store.accept(burst), [.new(1), .duplicate(of: 1), .new(2)])
        XCTAssertEqual(try store.stats().messages, 2)
    }

    /// Redeliveries are recognised among the latest `redeliveryWindow`
    /// messages, including those stored before the store was reopened.
    func testRedeliveryWindowSurvivesReopenAndForgetsOlderMessages() throws {
        let payloads = (0..<5).map { truckPayload(String(format: "2026-11-24T21:15:%02d+08:00", $0)) }
        do {
            let store = try SQLiteStore(path: path, redeliveryWindow: 3)
            for (i, p) in payloads.enumerated() {
                XCTAssertEqual(try accept(store, Topic.truck(), p, at: "2026-11-24T21:16:00+08:00"), .new(Int64(i + 1)))
            }
            XCTAssertEqual(try accept(store, Topic.truck(), payloads[2], at: "2026-11-24T21:16:01+08:00"), .duplicate(of: 3))
            XCTAssertEqual(try accept(store, Topic.truck(), payloads[1], at: "2026-11-24T21:16:01+08:00"), .new(6),
                           "older than the window: a new message")
        }
        let reopened = try SQLiteStore(path: path, redeliveryWindow: 3)
        XCTAssertEqual(try accept(reopened, Topic.truck(), payloads[4], at: "2026-11-24T21:17:00+08:00"), .duplicate(of: 5))
        XCTAssertEqual(try accept(reopened, Topic.truck(), payloads[1], at: "2026-11-24T21:17:00+08:00"), .duplicate(of: 6))
        XCTAssertEqual(try accept(reopened, Topic.truck(), payloads[2], at: "2026-11-24T21:17:00+08:00"), .new(7),
                       "stored 4 messages ago: outside a window of 3")
    }

    func testCreatesItsFolder() throws {
        let nested = folder.appendingPathComponent("a/b/muckwatch.db").path
        let store = try SQLiteStore(path: nested)
        XCTAssertEqual(try accept(store, Topic.truck(), truckPayload("2026-11-24T21:15:00+08:00"), at: "2026-11-24T21:15:00+08:00"),
                       .new(1))
        XCTAssertTrue(FileManager.default.fileExists(atPath: nested))
    }
}
