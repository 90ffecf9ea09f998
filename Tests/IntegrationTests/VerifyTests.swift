import Foundation
import GRDB
import XCTest

/// Case history is tamper-evident (issue 14, item 4). Each test performs an
/// attack a person with a shell on the server could: edits with `sqlite3`
/// (here GRDB on the same file), first against the triggers, then after
/// dropping them; cutting the newest facts off; swapping the whole store;
/// changing a clip file. `muckwatch verify` must find each, naming it.
///
/// The store is the golden scenario's (18 cases over 8 rules, a candidate)
/// plus one camera spill whose clip is a real video, replayed by the real
/// `muckwatch replay`, with one case registered by `muckwatch case`.
final class VerifyTests: VideoTestCase {
    var db: String { "\(dir!)/muckwatch.db" }
    var alertLog: String { "\(dir!)/alerts.jsonl" }
    var heads: String { "\(dir!)/chain-heads.jsonl" }
    var clip: String { "\(dir!)/media/cam-x1/clip.mp4" }
    static let fixture = GoldenScenarioTests.fixture
    static let clipCase = "MW-20261124-0019"

    override func setUpWithError() throws {
        try super.setUpWithError()
        try FileManager.default.createDirectory(atPath: "\(dir!)/media/cam-x1", withIntermediateDirectories: true)
        _ = try makeVideo("media/cam-x1/clip.mp4", seconds: 3)
        let config = "\(dir!)/config.yaml"
        try (String(contentsOfFile: "\(Self.fixture)/config.yaml", encoding: .utf8)
             .replacingOccurrences(of: "sites.geojson", with: "\(Self.fixture)/sites.geojson")
             + "\nmedia:\n  roots: [\(dir!)/media]\n").write(toFile: config, atomically: true, encoding: .utf8)
        var feed = try String(contentsOfFile: "\(Self.fixture)/feed.jsonl", encoding: .utf8)
        let event = #"{"camera":"CAM-X1","event_id":"x1","ts":"2026-11-24T22:59:59.9+08:00","type":"spill","plate":"粤BX0001","confidence":0.95,"lat":22.55,"lon":114.05,"clip":{"url":"file://\#(clip)","offset_s":1.5}}"#
        let line = ["t": "2026-11-24T14:59:59.900Z", "topic": "muckwatch/v1/camera/CAM-X1/event", "payload": event]
        let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys, .withoutEscapingSlashes])
        feed += String(decoding: data, as: UTF8.self) + "\n"
        try feed.write(toFile: "\(dir!)/feed.jsonl", atomically: true, encoding: .utf8)
        let replay = try muckwatch(["replay", "\(dir!)/feed.jsonl", "--config", config, "--db", db, "--alert-log", alertLog])
        XCTAssertEqual(replay.status, 0, replay.err)
        let move = try muckwatch(["case", "MW-20261124-0003", "register", "--by", "Officer Li 0231", "--note", "plate checked on the video",
                                  "--db", db, "--alert-log", alertLog])
        XCTAssertEqual(move.status, 0, move.err)
    }

    private func muckwatch(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try runCommand(Tools.binary("muckwatch"), arguments)
    }

    private func verify(_ extra: [String] = []) throws -> (status: Int32, out: String, err: String) {
        try muckwatch(["verify", "--db", db, "--alert-log", alertLog] + extra)
    }

    /// Runs SQL as an attacker with write access to the file would.
    private func tamper(dropTriggers: Bool = true, _ sql: String) throws {
        let queue = try DatabaseQueue(path: db)
        try queue.writeWithoutTransaction { db in
            if dropTriggers {
                for name in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger'") {
                    try db.execute(sql: "DROP TRIGGER \(name)")
                }
            }
            try db.execute(sql: sql)
        }
    }

    private func assertFails(_ expected: String, _ extra: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws {
        let run = try verify(extra)
        XCTAssertEqual(run.status, 1, "verify should fail: \(run.out) \(run.err)", file: file, line: line)
        XCTAssertTrue(run.err.contains(expected), "expected '\(expected)' in: \(run.err)", file: file, line: line)
    }

    func testAnUntouchedStoreVerifiesWithAOneLineSummary() throws {
        let run = try verify()
        XCTAssertEqual(run.status, 0, run.err)
        let lines = run.out.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, run.out)
        XCTAssertTrue(run.out.hasPrefix("verified 19 cases, 31 evidence rows"), run.out)
        XCTAssertTrue(run.out.contains("1 file re-hashed"), run.out)
        XCTAssertTrue(run.out.contains("(matches \(heads) line"), run.out)
        // One case alone, and the status move recorded with the OS account.
        let one = try verify(["--case", "MW-20261124-0003"])
        XCTAssertEqual(one.status, 0, one.err)
        XCTAssertTrue(one.out.hasPrefix("verified 1 case, "), one.out)
        let show = try muckwatch(["cases", "show", "MW-20261124-0003", "--json", "--db", db])
        XCTAssertTrue(show.out.contains(#""os_user" : "\#(NSUserName())"#), show.out)
        // Every alert line carries a head the store holds.
        let alerts = try String(contentsOfFile: alertLog, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(alerts.count, 19)
        XCTAssertTrue(alerts.allSatisfy { $0.contains(#""chain":""#) })
    }

    func testTheTriggersRefuseEditsOfEveryFactACaseRecords() throws {
        for sql in ["UPDATE cases SET subject_id = 'T-9999' WHERE case_id = 'MW-20261124-0001'",
                    "UPDATE cases SET summary = 'nothing happened' WHERE case_id = 'MW-20261124-0001'",
                    "UPDATE cases SET severity = 'minor' WHERE case_id = 'MW-20261124-0001'",
                    "UPDATE cases SET legal_basis = '' WHERE case_id = 'MW-20261124-0001'",
                    "UPDATE cases SET last_seen = 0 WHERE case_id = 'MW-20261124-0001'",
                    "UPDATE cases SET status = 'draft' WHERE case_id = 'MW-20261124-0003'",
                    "UPDATE evidence SET sha256 = 'x' WHERE id = 1",
                    "DELETE FROM evidence WHERE id = 1",
                    "DELETE FROM case_status_history WHERE id = 1",
                    "UPDATE case_candidates SET distance_m = 1",
                    "DELETE FROM case_ledger WHERE seq = 1",
                    "UPDATE case_ledger SET head = 'x' WHERE seq = 1",
                    "UPDATE inbox SET payload = x'00' WHERE id = 1",
                    "UPDATE alerts SET line = '{}'",
                    "DELETE FROM alerts",
                    "UPDATE video_analyses SET file_sha256 = 'x'",
                    "DELETE FROM cases WHERE case_id = 'MW-20261124-0001'"] {
            XCTAssertThrowsError(try tamper(dropTriggers: false, sql), sql)
        }
        XCTAssertEqual(try verify().status, 0)
    }

    func testACaseRowEditedAfterDroppingTheTriggersIsFound() throws {
        try tamper("UPDATE cases SET subject_id = 'T-9999', summary = 'someone else' WHERE case_id = 'MW-20261124-0001'")
        try assertFails("case MW-20261124-0001: its opening facts (rule, subject, place, times, summary, legal basis): changed since it was written")
    }

    func testAnEditedEvidenceHashIsFound() throws {
        try tamper("""
            UPDATE evidence SET sha256 = '0000000000000000000000000000000000000000000000000000000000000000'
            WHERE id = (SELECT min(id) FROM evidence WHERE case_id = 'MW-20261124-0002')
            """)
        try assertFails("case MW-20261124-0002: evidence 1: changed since it was written")
    }

    func testAnEditedInboxPayloadIsFound() throws {
        try tamper("""
            UPDATE inbox SET payload = CAST(replace(CAST(payload AS TEXT), '"confidence":0.', '"confidence":0.1') AS BLOB)
            WHERE id = (SELECT inbox_id FROM evidence WHERE case_id = 'MW-20261124-0001' ORDER BY id LIMIT 1)
            """)
        try assertFails("case MW-20261124-0001: evidence 1: original bytes (inbox")
    }

    func testADeletedStatusMoveIsFound() throws {
        try tamper("DELETE FROM case_status_history WHERE case_id = 'MW-20261124-0003' AND status = 'registered'")
        try assertFails("case MW-20261124-0003: a status fact (ledger entry")
    }

    func testAStatusSetBackToDraftIsFound() throws {
        try tamper("UPDATE cases SET status = 'draft' WHERE case_id = 'MW-20261124-0003'")
        try assertFails("case MW-20261124-0003: status is draft but its last recorded move is to registered")
    }

    func testAnAddedStatusMoveBackwardsIsFound() throws {
        // A move back to draft slipped in beside the chain.
        try tamper("""
            INSERT INTO case_status_history (case_id, status, actor, at, note) VALUES ('MW-20261124-0003', 'draft', 'x', 0, 'undo')
            """)
        try assertFails("case MW-20261124-0003: status move 3 (draft by x): not in the case ledger")
    }

    /// The newest evidence row and its ledger entry deleted together: the
    /// chain that is left is consistent; the head outside the store is not.
    func testTheNewestEvidenceDeletedWithItsLedgerEntryIsFoundByTheHeadsFile() throws {
        try tamper("""
            DELETE FROM case_ledger WHERE seq > (SELECT max(seq) FROM case_ledger WHERE fact = 'evidence') - 1;
            DELETE FROM evidence WHERE id = (SELECT max(id) FROM evidence);
            DELETE FROM case_status_history WHERE status = 'registered';
            UPDATE cases SET status = 'draft' WHERE case_id = 'MW-20261124-0003';
            DELETE FROM video_analyses WHERE inbox_id NOT IN (SELECT ref FROM case_ledger WHERE fact = 'clip')
              AND inbox_id IN (SELECT inbox_id FROM evidence);
            """)
        try assertFails("fact(s) were removed from the store")
        // Only with --no-heads (and no alert log) does the store's own chain pass.
        XCTAssertEqual(try muckwatch(["verify", "--db", db, "--no-heads"]).status, 0)
    }

    /// A whole store swapped for another, internally consistent one.
    func testARewrittenStoreIsFoundByTheHeadsOutsideIt() throws {
        let other = try temporaryDirectory("verify-other")
        let replay = try muckwatch(["replay", "\(Self.fixture)/feed.jsonl", "--config", "\(Self.fixture)/config.yaml",
                                    "--db", "\(other)/muckwatch.db", "--alert-log", "\(other)/alerts.jsonl"])
        XCTAssertEqual(replay.status, 0, replay.err)
        XCTAssertEqual(try muckwatch(["verify", "--db", "\(other)/muckwatch.db", "--alert-log", "\(other)/alerts.jsonl"]).status, 0)
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: db + suffix)
            if FileManager.default.fileExists(atPath: "\(other)/muckwatch.db\(suffix)") {
                try FileManager.default.copyItem(atPath: "\(other)/muckwatch.db\(suffix)", toPath: db + suffix)
            }
        }
        try assertFails("the store was")
    }

    func testAMissingHeadsFileIsAFailureUnlessSaidSo() throws {
        try FileManager.default.removeItem(atPath: heads)
        try assertFails("no chain head outside the store")
        XCTAssertEqual(try muckwatch(["verify", "--db", db, "--no-heads"]).status, 0)
    }

    func testAChangedClipFileIsFound() throws {
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: clip))
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data([0x00, 0x01, 0x02]))
        try handle.close()
        try assertFails("case \(Self.clipCase): clip \(clip) (inbox")
    }

    func testABrokenItemIsNamedForOneCaseToo() throws {
        try tamper("UPDATE case_candidates SET distance_m = 1")
        let run = try verify(["--case", "MW-20261124-0001"])
        XCTAssertEqual(run.status, 0, "another case's rows are not re-derived: \(run.err)")
        let all = try verify()
        XCTAssertEqual(all.status, 1)
        XCTAssertTrue(all.err.contains(": candidate 1: changed since it was written"), all.err)
    }
}
