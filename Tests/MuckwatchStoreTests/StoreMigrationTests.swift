import Foundation
import GRDB
import MuckwatchCore
@testable import MuckwatchStore
import XCTest

/// A store written by an older version opens, keeps its messages, and still
/// recognises their redeliveries.
final class StoreMigrationTests: StoreTestCase {
    func testAVersion1StoreIsMigratedWithItsInboxAndRedeliveryCheck() throws {
        // A file as version 1 left it: one spill message in the inbox.
        let queue = try DatabaseQueue(path: path)
        try Store.migrator.migrate(queue, upTo: "v1")
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO inbox (topic, payload, sha256, arrived_at, qos, retain) VALUES (?, ?, ?, ?, 1, 0)
                """, arguments: [Topic.camera(), Data(spillPayload.utf8), spillPayloadSHA256,
                                 instant("2026-11-24T21:16:41+08:00").millis])
        }
        try queue.close()

        let store = try Store(path: path)
        XCTAssertEqual(try store.stats().messages, 1)
        XCTAssertEqual(try accept(store, Topic.camera(), spillPayload, at: "2026-11-24T21:30:00+08:00"), .duplicate(of: 1))
        XCTAssertEqual(try accept(store, Topic.camera("CAM-08"), spillPayload, at: "2026-11-24T21:30:01+08:00"), .new(2))
        let pipeline = try store.restorePipeline(settings: testSettings())
        let batch = try XCTUnwrap(store.processPending(with: pipeline))
        XCTAssertEqual(batch.messages, 2)
        XCTAssertEqual(try rows("SELECT dedupe_key FROM inbox WHERE id = 1").first?[0] as Int64?,
                       Int64(bitPattern: 0x0d45638bbdad22b3))
    }
}
