import Foundation
import GRDB
import XCTest

/// The case procedure as an officer runs it: `muckwatch case ID register|dismiss`,
/// forward only, every move recorded; `cases list` filters.
final class CaseProcedureTests: XCTestCase {
    static let fixture = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/scenario-small").path

    var dir = ""
    var db: String { "\(dir)/muckwatch.db" }

    override func setUpWithError() throws {
        dir = try temporaryDirectory("case-procedure")
        let replay = try runCommand(Tools.binary("muckwatch"),
                                    ["replay", "\(Self.fixture)/feed.jsonl", "--config", "\(Self.fixture)/config.yaml",
                                     "--db", db, "--alert-log", "\(dir)/alerts.jsonl"])
        XCTAssertEqual(replay.status, 0, replay.err)
    }

    func muckwatch(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try runCommand(Tools.binary("muckwatch"), arguments + ["--db", db, "--config", "\(Self.fixture)/config.yaml"])
    }

    func cases(_ filters: [String] = []) throws -> [[String: Any]] {
        let run = try muckwatch(["cases", "list", "--json"] + filters)
        XCTAssertEqual(run.status, 0, run.err)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.out.utf8)) as? [[String: Any]])
    }

    func history(_ id: String) throws -> [[String: Any]] {
        let run = try muckwatch(["cases", "show", id, "--json"])
        XCTAssertEqual(run.status, 0, run.err)
        let c = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.out.utf8)) as? [String: Any])
        return try XCTUnwrap(c["history"] as? [[String: Any]])
    }

    func testRegisterThenDismissForwardOnlyWithWhoWhenWhy() throws {
        let id = try XCTUnwrap(cases().first?["id"] as? String)
        let register = try muckwatch(["case", id, "register", "--by", "李明 (执法队 07)", "--note", "视频核实，车牌清晰"])
        XCTAssertEqual(register.status, 0, register.err)
        XCTAssertTrue(register.out.hasPrefix("\(id): draft → registered by 李明 (执法队 07) at "), register.out)
        XCTAssertNotNil(register.out.range(of: #" at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(\+08:00\)\n$"#, options: .regularExpression),
                        "local wall-clock time with its offset: \(register.out)")
        var h = try history(id)
        XCTAssertEqual(h.map { $0["status"] as? String }, ["draft", "registered"])
        XCTAssertEqual(h.last?["by"] as? String, "李明 (执法队 07)")
        XCTAssertEqual(h.last?["note"] as? String, "视频核实，车牌清晰")
        XCTAssertNotNil(h.last?["at"] as? String)
        XCTAssertEqual(try cases(["--status", "registered"]).map { $0["id"] as? String }, [id])

        let dismiss = try muckwatch(["case", id, "dismiss", "--by", "王芳", "--note", "车辆已整改"])
        XCTAssertEqual(dismiss.status, 0, dismiss.err)
        let again = try muckwatch(["case", id, "register", "--by", "李明", "--note", "重新登记"])
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.err.contains("case \(id) is dismissed; a dismissed case cannot be registered"), again.err)
        h = try history(id)
        XCTAssertEqual(h.map { $0["status"] as? String }, ["draft", "registered", "dismissed"], "the refused move wrote nothing")
        XCTAssertEqual(try cases(["--status", "dismissed"]).map { $0["id"] as? String }, [id])
        let show = try muckwatch(["cases", "show", id])
        XCTAssertEqual(show.status, 0, show.err)
        XCTAssertTrue(show.out.contains("dismissed  by 王芳 — 车辆已整改"), show.out)
        XCTAssertTrue(show.out.contains("Penalty:"), show.out)
    }

    func testRefusals() throws {
        let id = try XCTUnwrap(cases().first?["id"] as? String)
        let noBy = try muckwatch(["case", id, "register", "--note", "x"])
        XCTAssertEqual(noBy.status, 2)
        XCTAssertTrue(noBy.err.contains("--by is required: say who"), noBy.err)
        let noNote = try muckwatch(["case", id, "register", "--by", "x"])
        XCTAssertEqual(noNote.status, 2)
        XCTAssertTrue(noNote.err.contains("--note is required"), noNote.err)
        XCTAssertEqual(try muckwatch(["case", id, "register", "--by", " ", "--note", "x"]).status, 2)
        XCTAssertEqual(try muckwatch(["case", id, "approve", "--by", "x", "--note", "x"]).status, 2)
        let missing = try muckwatch(["case", "MW-19990101-0001", "register", "--by", "x", "--note", "x"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.err.contains("there is no case MW-19990101-0001"), missing.err)
        XCTAssertEqual(try history(id).count, 1)
    }

    func testEarlierRecordsCannotBeRewrittenEvenInSQLite() throws {
        let queue = try DatabaseQueue(path: db)
        for sql in ["UPDATE case_status_history SET actor = 'someone else'", "DELETE FROM case_status_history",
                    "UPDATE evidence SET sha256 = 'x'", "DELETE FROM evidence", "DELETE FROM cases",
                    "UPDATE cases SET status = 'draft' WHERE status = 'draft'"] {
            XCTAssertThrowsError(try queue.write { try $0.execute(sql: sql) }, sql)
        }
    }

    /// `cases show` gives the penalty and the other candidates attribution found,
    /// nearest first (written by the pipeline; here by hand, as this scenario
    /// may have none).
    func testShowGivesPenaltyAndCandidates() throws {
        let id = try XCTUnwrap(cases().first?["id"] as? String)
        try DatabaseQueue(path: db).write { db in
            // 2026-11-24T22:01:02.000+08:00
            try db.execute(sql: """
                INSERT INTO case_candidates (case_id, rank, device, plate, company, distance_m, passed_at, lat, lon)
                VALUES (?, 1, 'T-0042', '粤B00042', '深圳市测试运输有限公司', 12.4, 1795528862000, 22.5, 114.0),
                       (?, 2, 'T-0043', NULL, NULL, 80.6, 1795528900000, 22.5, 114.0)
                """, arguments: [id, id])
        }
        let json = try muckwatch(["cases", "show", id, "--json"])
        XCTAssertEqual(json.status, 0, json.err)
        let c = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        let candidates = try XCTUnwrap(c["candidates"] as? [[String: Any]])
        XCTAssertEqual(candidates.map { $0["id"] as? String }, ["T-0042", "T-0043"])
        XCTAssertEqual(candidates.first?["distance_m"] as? Double, 12.4)
        XCTAssertEqual(candidates.first?["passed_at"] as? String, "2026-11-24T22:01:02.000+08:00")
        XCTAssertEqual(candidates.first?["company"] as? String, "深圳市测试运输有限公司")
        let suspected = try XCTUnwrap(c["suspected_party"] as? [String: Any])
        XCTAssertNil(suspected["distance_m"], "the suspected party has no distance")
        let text = try muckwatch(["cases", "show", id])
        XCTAssertEqual(text.status, 0, text.err)
        XCTAssertTrue(text.out.contains("Penalty:"), text.out)
        let row = try XCTUnwrap(text.out.split(separator: "\n").first { $0.contains("T-0042") })
        XCTAssertTrue(row.hasPrefix("1 ") && row.contains("粤B00042") && row.contains("12 m") && row.contains("2026-11-24T22:01:02"), String(row))
    }

    func testListFilters() throws {
        let all = try cases()
        XCTAssertFalse(all.isEmpty)
        let rule = try XCTUnwrap(all.first?["violation"] as? String)
        XCTAssertEqual(Set(try cases(["--rule", rule]).map { $0["violation"] as? String }), [rule])
        let party = try XCTUnwrap(all.compactMap { $0["suspected_party"] as? [String: Any] }.first { $0["company"] != nil })
        let company = try XCTUnwrap(party["company"] as? String)
        let byCompany = try cases(["--company", String(company.prefix(4))])
        XCTAssertFalse(byCompany.isEmpty)
        XCTAssertTrue(byCompany.allSatisfy { (($0["suspected_party"] as? [String: Any])?["company"] as? String)?.contains(company.prefix(4)) == true })
        XCTAssertEqual(try cases(["--from", "2026-11-24", "--to", "2026-11-24"]).count, all.count, "the scenario is all on 24 November")
        XCTAssertEqual(try cases(["--from", "2026-11-25"]).count, 0)
        XCTAssertEqual(try cases(["--to", "2026-11-23"]).count, 0)
        XCTAssertEqual(try muckwatch(["cases", "list", "--from", "24/11/2026"]).status, 2)
        XCTAssertEqual(try muckwatch(["cases", "list", "--from", "2026-11-25", "--to", "2026-11-24"]).status, 2)
        XCTAssertEqual(try muckwatch(["cases", "list", "--status", "closed"]).status, 2)
        XCTAssertEqual(try cases(["--status", "draft"]).count, all.count, "every case the replay opened is a draft")
        XCTAssertEqual(try cases(["--company", "no such company"]).count, 0)
        XCTAssertEqual(try cases(["--rule", rule, "--company", String(company.prefix(4))]).map { $0["id"] as? String },
                       all.filter { c in
                           c["violation"] as? String == rule
                               && ((c["suspected_party"] as? [String: Any])?["company"] as? String)?.contains(company.prefix(4)) == true
                       }.map { $0["id"] as? String }, "filters combine")
    }
}
