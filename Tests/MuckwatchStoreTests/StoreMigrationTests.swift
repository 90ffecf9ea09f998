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
        try SQLiteStore.migrator.migrate(queue, upTo: "v1")
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO inbox (topic, payload, sha256, arrived_at, qos, retain) VALUES (?, ?, ?, ?, 1, 0)
                """, arguments: [Topic.camera(), Data(spillPayload.utf8), spillPayloadSHA256,
                                 instant("2026-11-24T21:16:41+08:00").millis])
        }
        try queue.close()

        let store = try SQLiteStore(path: path)
        XCTAssertEqual(try store.stats().messages, 1)
        XCTAssertEqual(try accept(store, Topic.camera(), spillPayload, at: "2026-11-24T21:30:00+08:00"), .duplicate(of: 1))
        XCTAssertEqual(try accept(store, Topic.camera("CAM-08"), spillPayload, at: "2026-11-24T21:30:01+08:00"), .new(2))
        let pipeline = try restoredPipeline(from: store, settings: testSettings())
        let batch = try XCTUnwrap(processNext(in: store, with: pipeline))
        XCTAssertEqual(batch.messages, 2)
        XCTAssertEqual(try rows("SELECT dedupe_key FROM inbox WHERE id = 1").first?[0] as Int64?,
                       Int64(bitPattern: 0x0d45638bbdad22b3))
    }

    /// A store with cases from before the case ledger (v7): its cases are
    /// chained as they are when it is opened, and verify then holds them.
    func testAVersion7StoresCasesAreChainedOnOpeningAndVerify() throws {
        let queue = try DatabaseQueue(path: path)
        try SQLiteStore.migrator.migrate(queue, upTo: "v7: several records per message")
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO inbox (topic, payload, sha256, arrived_at, qos, retain, dedupe_key) VALUES (?, ?, ?, ?, 1, 0, 0);
                INSERT INTO cases (case_id, rule, severity, status, legal_basis, penalty, subject_kind, subject_id, plate, company,
                  lat, lon, first_seen, last_seen, created_at, verify_by, suggested_action, prior_incidents, summary)
                VALUES ('MW-20261124-0001', 'spill', 'critical', 'registered', '《条例》第十条', NULL, 'truck', 'T-0001', '粤B12345',
                  NULL, 22.5431, 114.058, 1, 2, 3, 4, 'enforce', 0, 'CAM-07 saw a spill');
                INSERT INTO case_candidates (case_id, rank, device, plate, company, distance_m, passed_at, lat, lon)
                VALUES ('MW-20261124-0001', 1, 'T-0002', NULL, NULL, 31.5, 1, 22.5, 114.0);
                INSERT INTO case_status_history (case_id, status, actor, at, note) VALUES
                  ('MW-20261124-0001', 'draft', 'muckwatchd', 3, 'opened by rule spill'),
                  ('MW-20261124-0001', 'registered', 'Officer Li', 5, 'checked');
                INSERT INTO evidence (case_id, kind, source, ts, sha256, inbox_id, clip_url, frame_offset_s, prev_hash, chain_hash)
                VALUES ('MW-20261124-0001', 'camera_event', 'CAM-07', 2, ?, 1, NULL, NULL, '', 'x');
                """, arguments: [Topic.camera(), Data(spillPayload.utf8), spillPayloadSHA256,
                                 instant("2026-11-24T21:16:41+08:00").millis, spillPayloadSHA256])
        }
        try queue.close()

        let store = try SQLiteStore(path: path)
        XCTAssertEqual(try store.ledgerHead()?.seq, 5, "opened, a candidate, two status moves, one evidence row")
        let report = try StoreVerifier.verify(path: path, options: VerifyOptions())
        XCTAssertEqual(report.cases, 1)
        XCTAssertEqual(report.evidence, 1)
        XCTAssertEqual(report.statusMoves, 2)
        XCTAssertEqual(report.candidates, 1)
        // Chained from then on: an edit is found.
        try DatabaseQueue(path: path).writeWithoutTransaction { db in
            try db.execute(sql: "DROP TRIGGER cases_facts_fixed; UPDATE cases SET plate = '粤B99999'")
        }
        XCTAssertThrowsError(try StoreVerifier.verify(path: path, options: VerifyOptions())) { error in
            XCTAssertTrue("\(error)".contains("case MW-20261124-0001: its opening facts"), "\(error)")
        }
    }

    /// Drone positions an earlier version passed on from a segment as JSON
    /// messages keep the origin and segment their payload named, as columns.
    func testAVersion8StoresSegmentPositionsGetTheirOriginAndSegmentAsColumns() throws {
        let queue = try DatabaseQueue(path: path)
        try SQLiteStore.migrator.migrate(queue, upTo: "v8: case ledger")
        let fromSegment = #"{"drone":"D-01","ts":1340980354100,"lat":34.7,"lon":-86.6,"origin":"misb_st0601","segment_inbox_id":1}"#
        let ownReport = #"{"drone":"D-01","ts":1340980355100,"lat":34.8,"lon":-86.6}"#
        try queue.write { db in
            for (i, payload) in [fromSegment, ownReport].enumerated() {
                try db.execute(sql: """
                    INSERT INTO inbox (topic, payload, sha256, arrived_at, qos, retain, dedupe_key) VALUES (?, ?, ?, 0, 1, 0, ?)
                    """, arguments: ["muckwatch/v1/drone/D-01/telemetry", Data(payload.utf8), Digest.sha256Hex(payload), i])
                try db.execute(sql: """
                    INSERT INTO drone_telemetry (inbox_id, drone, ts, lat, lon) VALUES (?, 'D-01', ?, 34.7, -86.6)
                    """, arguments: [i + 1, 1_340_980_354_100 + i * 1000])
            }
        }
        try queue.close()

        _ = try SQLiteStore(path: path)
        let migrated = try rows("SELECT inbox_id, part, origin, segment_inbox_id FROM drone_telemetry ORDER BY inbox_id")
        XCTAssertEqual(migrated.map { $0["origin"] as String? }, ["misb_st0601", nil])
        XCTAssertEqual(migrated.map { $0["segment_inbox_id"] as Int64? }, [1, nil])
        XCTAssertEqual(migrated.map { $0["part"] as Int }, [0, 0])
    }
}
