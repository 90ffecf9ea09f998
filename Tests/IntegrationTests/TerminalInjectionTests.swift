import Foundation
import XCTest

/// A device that writes terminal escapes, bidi overrides and newlines into the
/// strings it sends (plate, camera id, clip URL), and an officer whose name
/// has them, against the operators' terminals: `tail`, `cases list`,
/// `cases show` and `case` show them escaped on one line, never interpreted,
/// while the JSON outputs keep the exact text.
final class TerminalInjectionTests: XCTestCase {
    static let fixture = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/scenario-small").path
    /// Sets the terminal title, clears the screen, then forges a line.
    static let plate = "\u{1B}]0;PWNED\u{07}\u{1B}[2J粤B0001\nFORGED LINE"
    static let plateShown = #"\x1b]0;PWNED\x07\x1b[2J粤B0001\nFORGED LINE"#
    /// Reverses what follows it on screen, and turns the text red.
    static let camera = "CAM-\u{202E}LIVE\u{1B}[31m\u{9B}2J"
    static let cameraShown = #"CAM-\u202eLIVE\x1b[31m\u009b2J"#

    var dir = ""
    var db: String { "\(dir)/muckwatch.db" }
    var alerts: String { "\(dir)/alerts.jsonl" }

    override func setUpWithError() throws {
        dir = try temporaryDirectory("terminal-injection")
        // Through the real path: a feed line as `muckwatch record` writes it,
        // replayed through the daemon's pipeline into a store and alert log.
        let clip: [String: Any] = ["url": "file:///var/lib/muckwatch/media/evil/\u{1B}]0;CLIP\u{07}\nseg.ts", "offset_s": 1.5]
        let event: [String: Any] = [
            "camera": Self.camera, "event_id": "e-evil\r\n0001", "ts": "2026-11-24T22:03:04.611+08:00", "type": "spill",
            "plate": Self.plate, "confidence": 0.9, "lat": 22.596874, "lon": 114.060667, "clip": clip,
        ]
        let payload = String(decoding: try JSONSerialization.data(withJSONObject: event), as: UTF8.self)
        let line: [String: Any] = ["t": "2026-11-24T14:03:05.000Z", "topic": "muckwatch/v1/camera/CAM-EVIL/event",
                                   "qos": 1, "retain": false, "payload": payload]
        let feed = "\(dir)/feed.jsonl"
        try (String(decoding: try JSONSerialization.data(withJSONObject: line), as: UTF8.self) + "\n")
            .write(toFile: feed, atomically: true, encoding: .utf8)
        let replay = try muckwatch(["replay", feed, "--config", "\(Self.fixture)/config.yaml", "--db", db, "--alert-log", alerts])
        XCTAssertEqual(replay.status, 0, replay.err)
        assertSafe(replay.out + replay.err, "replay")
    }

    func muckwatch(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try runCommand(Tools.binary("muckwatch"), arguments)
    }

    func store(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try muckwatch(arguments + ["--db", db, "--config", "\(Self.fixture)/config.yaml"])
    }

    /// Nothing a terminal would act on: no ESC, BEL, C1 control or bidi
    /// override, and no line break but the ones between records.
    func assertSafe(_ text: String, _ what: String, colour: Bool = false, file: StaticString = #filePath, line: UInt = #line) {
        for scalar in text.unicodeScalars {
            let v = scalar.value
            let allowed = v == 0x0A || (colour && (v == 0x1B || v == 0x0D))
            if (v < 0x20 && !allowed) || (0x7F..<0xA0).contains(v) || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v) {
                XCTFail("\(what) printed U+\(String(v, radix: 16, uppercase: true)) raw: \(text.debugDescription)", file: file, line: line)
                return
            }
        }
        if colour {
            XCTAssertFalse(text.contains("\u{1B}]") || text.contains("\u{1B}[2J"),
                           "\(what): only our colour codes: \(text.debugDescription)", file: file, line: line)
        }
        XCTAssertFalse(text.split(separator: "\n").contains { $0.hasPrefix("FORGED") }, "\(what) printed a forged line", file: file, line: line)
    }

    func caseId() throws -> String {
        let run = try store(["cases", "list", "--json"])
        XCTAssertEqual(run.status, 0, run.err)
        assertSafe(run.out, "cases list --json")
        let cases = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.out.utf8)) as? [[String: Any]])
        XCTAssertEqual(cases.count, 1, run.out)
        let party = try XCTUnwrap(cases.first?["suspected_party"] as? [String: Any])
        XCTAssertEqual(party["plate"] as? String, Self.plate, "the JSON keeps the plate exactly as the camera sent it")
        return try XCTUnwrap(cases.first?["id"] as? String)
    }

    func testTailShowsTheAlertEscapedOnOneLine() throws {
        let log = try String(contentsOfFile: alerts, encoding: .utf8)
        XCTAssertEqual(log.split(separator: "\n").count, 1, "the alert log is one JSON line: \(log)")
        XCTAssertFalse(log.contains("\u{1B}") || log.contains("\u{07}"), "JSON escapes the controls")
        let run = try muckwatch(["tail", "--alerts", alerts])
        XCTAssertEqual(run.status, 0, run.err)
        assertSafe(run.out, "tail")
        XCTAssertEqual(run.out.split(separator: "\n", omittingEmptySubsequences: false), [Substring(run.out.dropLast()), ""],
                       "one alert, one line: \(run.out.debugDescription)")
        XCTAssertTrue(run.out.contains(Self.plateShown), run.out)
        XCTAssertTrue(run.out.contains(Self.cameraShown), "the summary names the camera: \(run.out)")
    }

    func testTailOnATerminalKeepsOnlyItsOwnColours() throws {
        let script = try Tools.require("script", package: "bsdutils")
        let binary = try Tools.binary("muckwatch")
        let run = try runCommand(script, ["-qec", "env -u NO_COLOR \(binary) tail --alerts \(alerts)", "/dev/null"])
        XCTAssertEqual(run.status, 0, run.err)
        XCTAssertTrue(run.out.contains("\u{1B}[1;31mCRITICAL"), run.out.debugDescription)
        assertSafe(run.out, "tail on a TTY", colour: true)
        XCTAssertTrue(run.out.contains(Self.plateShown), run.out.debugDescription)
    }

    func testCasesListShowsThePartyEscapedOnOneRow() throws {
        _ = try caseId()
        let run = try store(["cases", "list"])
        XCTAssertEqual(run.status, 0, run.err)
        assertSafe(run.out, "cases list")
        XCTAssertEqual(run.out.split(separator: "\n").count, 2, "the header and one row: \(run.out)")
        XCTAssertTrue(run.out.contains(Self.plateShown), run.out)
    }

    func testCasesShowAndTheOfficersMovesAreEscaped() throws {
        let id = try caseId()
        let officer = "王芳\u{1B}[8m\u{202E}"
        let move = try store(["case", id, "register", "--by", officer, "--note", "核实\nFORGED LINE \u{1B}]0;x\u{07}"])
        XCTAssertEqual(move.status, 0, move.err)
        assertSafe(move.out, "case register")
        XCTAssertEqual(move.out.split(separator: "\n").count, 1, move.out)
        XCTAssertTrue(move.out.contains(#"by 王芳\x1b[8m\u202e at "#), move.out)

        let run = try store(["cases", "show", id])
        XCTAssertEqual(run.status, 0, run.err)
        assertSafe(run.out, "cases show")
        let lines = run.out.split(separator: "\n")
        let party = try XCTUnwrap(lines.first { $0.hasPrefix("Suspected party:") }, run.out)
        XCTAssertTrue(party.contains(Self.plateShown), String(party))
        let summary = try XCTUnwrap(lines.first { $0.hasPrefix("Summary:") }, run.out)
        XCTAssertTrue(summary.contains(Self.cameraShown) && summary.contains(Self.plateShown), String(summary))
        XCTAssertTrue(run.out.contains(#"evil/\x1b]0;CLIP\x07\nseg.ts"#), "the clip URL: \(run.out)")
        XCTAssertTrue(run.out.contains(#"by 王芳\x1b[8m\u202e — 核实\nFORGED LINE \x1b]0;x\x07"#), "the history: \(run.out)")

        let json = try store(["cases", "show", id, "--json"])
        XCTAssertEqual(json.status, 0, json.err)
        assertSafe(json.out, "cases show --json")
        let c = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        let history = try XCTUnwrap(c["history"] as? [[String: Any]])
        XCTAssertEqual(history.last?["by"] as? String, officer, "the store keeps what the officer typed")
    }

    /// A video whose tags carry escapes (a camera's firmware writes them):
    /// `probe`'s summary shows them escaped.
    func testProbeShowsAFilesTagsEscaped() throws {
        let ffmpeg = try Tools.require("ffmpeg", package: "ffmpeg")
        let video = "\(dir)/tagged.mp4"
        let make = try runCommand(ffmpeg, ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=duration=1:size=64x48:rate=5",
                                           "-metadata", "location=\(Self.plate)\u{202E}", "-movflags", "+use_metadata_tags", video])
        XCTAssertEqual(make.status, 0, make.err)
        let run = try muckwatch(["probe", video])
        XCTAssertEqual(run.status, 0, run.err)
        assertSafe(run.out, "probe")
        XCTAssertTrue(run.out.contains("  location: \(Self.plateShown)\\u202e\n"), run.out)
    }

    /// The daemon's log (journald shows it to operators) quotes a clip URL the
    /// camera chose when the video is unreadable: escaped, on one line.
    func testDaemonLogLinesAreEscaped() throws {
        let home = "\(dir)/daemon", media = "\(dir)/daemon/media"
        try FileManager.default.createDirectory(atPath: media, withIntermediateDirectories: true)
        let broker = try TestBroker(dir: home)
        let daemon = try TestDaemon(dir: home, brokerURL: broker.url, extraYAML: """
            media:
              roots: [\(media)]
            """)
        try daemon.start()
        let publisher = try TestPublisher(port: broker.port, clientId: "evil-camera")
        let event: [String: Any] = [
            "camera": Self.camera, "event_id": "e-evil-0001", "ts": "2026-11-24T22:03:04.611+08:00", "type": "spill",
            "plate": Self.plate, "confidence": 0.9, "lat": 22.596874, "lon": 114.060667,
            "clip": ["url": "file://\(media)/\u{1B}]0;CLIP\u{07}\u{1B}[2J\nFORGED LINE \u{202E}x.mp4", "offset_s": 1.5],
        ]
        try publisher.publish("muckwatch/v1/camera/CAM-EVIL/event", String(decoding: try JSONSerialization.data(withJSONObject: event), as: UTF8.self))
        try eventually("the daemon to log the unreadable clip (log: \(daemon.logPath))") { daemon.log.contains("is unreadable") }
        _ = daemon.stop()
        let log = try String(contentsOfFile: daemon.logPath, encoding: .utf8)
        assertSafe(log, "muckwatchd's log")
        let line = try XCTUnwrap(log.split(separator: "\n").first { $0.contains("is unreadable") })
        XCTAssertTrue(line.contains(#"/\x1b]0;CLIP\x07\x1b[2J\nFORGED LINE \u202ex.mp4"#), String(line))
        XCTAssertEqual(daemon.alertLines.count, 1)
    }
}
