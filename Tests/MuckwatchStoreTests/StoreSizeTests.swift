import Foundation
import MuckwatchCore
import MuckwatchStore
import XCTest

/// What `muckwatch stats` says an operator sizes a disk by: the store's bytes
/// on disk, per message, and how far back its messages go.
final class StoreSizeTests: StoreTestCase {
    func testStatsGiveBytesOnDiskPerMessageAndTheOldestArrival() throws {
        let store = try SQLiteStore(path: path)
        let empty = try store.stats()
        XCTAssertNil(empty.bytesPerMessage)
        XCTAssertNil(empty.oldestMessageAt)

        try accept(store, Topic.truck(), truckPayload("2026-11-24T21:15:00+08:00"), at: "2026-11-24T21:15:00.250+08:00")
        try accept(store, Topic.truck(), truckPayload("2026-11-24T21:15:10+08:00"), at: "2026-11-24T21:15:10.500+08:00")
        let stats = try store.stats()
        XCTAssertEqual(stats.oldestMessageAt, "2026-11-24T13:15:00.250Z")
        let onDisk = try [path, path + "-wal"].reduce(Int64(0)) { sum, file in
            guard FileManager.default.fileExists(atPath: file) else { return sum }
            return sum + ((try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value ?? 0)
        }
        XCTAssertEqual(stats.storeBytes + stats.walBytes, onDisk)
        XCTAssertEqual(try XCTUnwrap(stats.bytesPerMessage), Double(onDisk) / 2, accuracy: 0.001)

        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(stats)) as? [String: Any]
        XCTAssertEqual(json?["oldest_message_at"] as? String, "2026-11-24T13:15:00.250Z")
        XCTAssertEqual(json?["bytes_per_message"] as? Double, Double(onDisk) / 2)
    }
}
