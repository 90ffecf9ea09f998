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
    }

    func testRefusals() throws {
        let id = try XCTUnwrap(cases().first?["id"] as? String)
        XCTAssertEqual(try muckwatch(["case", id, "register", "--note", "x"]).status, 2, "--by is required")
        XCTAssertEqual(try muckwatch(["case", id, "register", "--by", "x"]).status, 2, "--note is required")
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
    }
}
