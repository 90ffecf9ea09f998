import Foundation
import XCTest

/// `muckwatch tail` as an operator runs it: one line per alert, filters,
/// plain when piped and coloured on a terminal, and --follow across logrotate.
final class TailTests: XCTestCase {
    var dir = ""
    var log: String { "\(dir)/alerts.jsonl" }

    override func setUpWithError() throws { dir = try temporaryDirectory("tail") }

    func alert(_ n: Int, rule: String = "uncovered_load", severity: String = "major", at time: String = "2026-11-24T22:03:04.611+08:00",
               plate: String? = "粤BJ7883") -> String {
        let subject = plate.map { #"{"kind":"truck","id":"T-0001","plate":"\#($0)","company":"深圳市德信渣土运输有限公司"}"# }
            ?? #"{"kind":"monitor","id":"F-0101","company":"客家菜馆"}"#
        return #"{"ts":"\#(time)","alert_id":"A-20261124-\#(String(format: "%04d", n))","rule":"\#(rule)","severity":"\#(severity)","subject":\#(subject),"lat":22.543211,"lon":114.057861,"summary":"summary \#(n)","case_id":"MW-20261124-\#(String(format: "%04d", n))","suggested_action":"advise","evidence":["sha256:00"]}"#
    }

    func write(_ lines: [String], to path: String? = nil, append: Bool = false) throws {
        let text = lines.map { $0 + "\n" }.joined()
        let target = path ?? log
        if append, let h = FileHandle(forWritingAtPath: target) {
            h.seekToEndOfFile()
            h.write(Data(text.utf8))
            try h.close()
        } else {
            try text.write(toFile: target, atomically: false, encoding: .utf8)
        }
    }

    func tail(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try runCommand(Tools.binary("muckwatch"), ["tail", "--alerts", log] + arguments)
    }

    func testOneLinePerAlertPlainWhenPiped() throws {
        try write([alert(1), alert(2, rule: "spill", severity: "critical"), alert(3, rule: "fume_exceedance", plate: nil)])
        let run = try tail([])
        XCTAssertEqual(run.status, 0, run.err)
        let lines = run.out.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3)
        XCTAssertEqual(lines[0], "2026-11-24 22:03:04  MAJOR     uncovered_load   粤BJ7883 深圳市德信渣土运输有限公司  22.54321,114.05786  MW-20261124-0001  advise  summary 1")
        XCTAssertTrue(lines[2].contains("F-0101 客家菜馆"), lines[2])
        XCTAssertFalse(run.out.contains("\u{1B}["), "no colour codes when piped")
    }

    func testFilters() throws {
        try write([alert(1, severity: "minor", at: "2026-11-24T21:00:00+08:00"), alert(2, rule: "spill", severity: "critical"),
                   alert(3, rule: "off_hours", severity: "minor")])
        func ids(_ args: [String]) throws -> [String] {
            let run = try tail(args)
            XCTAssertEqual(run.status, 0, run.err)
            return run.out.split(separator: "\n").compactMap { $0.split(separator: " ").first { $0.hasPrefix("MW-") }.map(String.init) }
        }
        XCTAssertEqual(try ids(["--rule", "spill"]), ["MW-20261124-0002"])
        XCTAssertEqual(try ids(["--rule", "spill", "--rule", "off_hours"]), ["MW-20261124-0002", "MW-20261124-0003"])
        XCTAssertEqual(try ids(["--severity", "major"]), ["MW-20261124-0002"])
        XCTAssertEqual(try ids(["--since", "2026-11-24T22:00:00+08:00"]), ["MW-20261124-0002", "MW-20261124-0003"])
        try "timezone: Asia/Shanghai\n".write(toFile: "\(dir)/muckwatch.yaml", atomically: true, encoding: .utf8)
        XCTAssertEqual(try ids(["--since", "2026-11-24 22:00", "--config", "\(dir)/muckwatch.yaml"]), ["MW-20261124-0002", "MW-20261124-0003"])
        XCTAssertEqual(try ids(["--since", "1h"]), [], "all of these are long ago")
        let recent = Date().addingTimeInterval(-600)
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime]
        try write([alert(4, at: iso.string(from: recent))], append: true)
        XCTAssertEqual(try ids(["--since", "30m"]), ["MW-20261124-0004"])
        XCTAssertEqual(try ids(["--since", "5m"]), [])
        XCTAssertEqual(try tail(["--since", "infm"]).status, 2)
        XCTAssertEqual(try tail(["--severity", "huge"]).status, 2)
        XCTAssertEqual(try tail(["--since", "yesterday-ish"]).status, 2)
    }

    func testMalformedLineIsAWarningAndTailCarriesOn() throws {
        try write([alert(1), "{\"truncated\": ", alert(2)])
        let run = try tail([])
        XCTAssertEqual(run.status, 0)
        XCTAssertEqual(run.out.split(separator: "\n").count, 2)
        XCTAssertTrue(run.err.contains("line 2 is not an alert"), run.err)
    }

    func testMissingLogIsOneSentence() throws {
        let run = try tail([])
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.err.contains("there is no alert log at \(log)"), run.err)
    }

    func testFollowWaitsForTheLogToAppear() throws {
        let out = "\(dir)/tail.out"
        let child = try Child(try Tools.binary("muckwatch"), ["tail", "--follow", "--alerts", log], log: out)
        defer { child.stop() }
        try eventually("tail to say it is waiting") { child.log.contains("waiting for \(log)") }
        Thread.sleep(forTimeInterval: 0.5)
        try write([alert(1)])
        try eventually("the alert in the new log") { child.log.contains("MW-20261124-0001") }
        XCTAssertEqual(child.log.components(separatedBy: "waiting for").count, 2, "said once: \(child.log)")
    }

    func testColourOnATerminal() throws {
        let script = try Tools.require("script", package: "bsdutils")
        try write([alert(1, rule: "spill", severity: "critical")])
        let binary = try Tools.binary("muckwatch")
        // NO_COLOR is honoured, and a test runner may set it: unset it here.
        let run = try runCommand(script, ["-qec", "env -u NO_COLOR \(binary) tail --alerts \(log)", "/dev/null"])
        XCTAssertEqual(run.status, 0, run.err)
        XCTAssertTrue(run.out.contains("\u{1B}[1;31mCRITICAL"), "critical in bold red on a TTY: \(run.out.debugDescription)")
        XCTAssertTrue(run.out.contains("\u{1B}[2mMW-20261124-0001"), "the case id dim: \(run.out.debugDescription)")
        let noColour = try runCommand(script, ["-qec", "env NO_COLOR=1 \(binary) tail --alerts \(log)", "/dev/null"])
        XCTAssertEqual(noColour.status, 0, noColour.err)
        XCTAssertTrue(noColour.out.contains("CRITICAL"), noColour.out)
        XCTAssertFalse(noColour.out.contains("\u{1B}["), "NO_COLOR turns colour off on a TTY too: \(noColour.out.debugDescription)")
    }

    func testFollowAcrossRenameAndCopytruncate() throws {
        try write([alert(1)])
        let out = "\(dir)/tail.out"
        let child = try Child(try Tools.binary("muckwatch"), ["tail", "--follow", "--alerts", log], log: out)
        defer { child.stop() }
        func seen(_ n: Int) -> Bool { child.log.contains("MW-20261124-\(String(format: "%04d", n))") }
        try eventually("the first alert") { seen(1) }
        try write([alert(2)], append: true)
        try eventually("an appended alert") { seen(2) }
        // A partial line is shown only once its newline arrives.
        let h = try XCTUnwrap(FileHandle(forWritingAtPath: log))
        h.seekToEndOfFile()
        let third = alert(3)
        h.write(Data(third.prefix(40).utf8))
        Thread.sleep(forTimeInterval: 0.6)
        XCTAssertFalse(seen(3))
        h.write(Data((third.dropFirst(40) + "\n").utf8))
        try h.close()
        try eventually("the completed line") { seen(3) }
        // logrotate's default: rename, then the daemon reopens a new file on SIGHUP.
        try FileManager.default.moveItem(atPath: log, toPath: log + ".1")
        try write([alert(4)], to: log + ".1", append: true)  // written to the old file before the reopen
        try write([alert(5)])
        try eventually("alerts on both sides of the rotation") { seen(4) && seen(5) }
        // copytruncate: the same file emptied, then written from the start.
        try Data().write(to: URL(fileURLWithPath: log))
        Thread.sleep(forTimeInterval: 0.6)  // as tail -F, it sees a truncation by the size going down
        try write([alert(6)])
        try eventually("the alert after a truncation") { seen(6) }
        XCTAssertEqual(child.log.components(separatedBy: "MW-20261124-0001").count, 2, "nothing shown twice")
    }
}
