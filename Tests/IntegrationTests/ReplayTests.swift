import Foundation
import GRDB
import MuckwatchCore
import XCTest

/// `muckwatch replay` as an operator runs it: the real binary, feed files on
/// disk, a store and an alert log it creates.
final class ReplayTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = try temporaryDirectory("replay")
        try """
            registry:
              trucks:
                - device: T-0001
                  plate: 粤B12345
                  company: 深圳市示例渣土运输有限公司
            """.write(toFile: "\(dir)/config.yaml", atomically: true, encoding: .utf8)
    }

    /// A loaded truck driving uncovered for 45 s, a camera spill, a redelivery
    /// and two bad payloads; receive times 300 ms after each `ts`.
    private func feed() -> [FeedMessage] {
        var messages: [FeedMessage] = []
        func add(_ topic: String, _ payload: String, ts second: Int) {
            let t = RFC3339.parse(RFC3339Base.instant(second: second))!.adding(seconds: 0.3)
            messages.append(FeedMessage(t: t, topic: topic, payload: Array(payload.utf8)))
        }
        for (i, second) in stride(from: 0, through: 45, by: 5).enumerated() {
            add("muckwatch/v1/truck/T-0001/telemetry", truckPayload(seq: i, second: second, cover: "open", speed: 36), ts: second)
        }
        let spill = #"{"camera":"CAM-03","event_id":"e-9001","ts":"2026-11-24T21:16:05+08:00","type":"spill","plate":"粤B67890","confidence":0.88,"lat":22.5501,"lon":114.0612}"#
        add("muckwatch/v1/camera/CAM-03/event", spill, ts: 65)
        add("muckwatch/v1/camera/CAM-03/event", spill, ts: 66)
        add("muckwatch/v1/truck/T-0001/telemetry", #"{"device":"T-0001","#, ts: 70)
        add("muckwatch/v1/truck/T-0001/telemetry", #"{"ts":"2099-01-01T00:00:00+08:00","lat":22.5,"lon":114.0}"#, ts: 71)
        return messages
    }

    private func write(_ messages: [FeedMessage], to name: String, extraLines: [Int: String] = [:]) throws -> String {
        var lines = messages.map(\.feedLine)
        for (index, line) in extraLines.sorted(by: { $0.key < $1.key }) { lines.insert(line, at: index) }
        let path = "\(dir)/\(name)"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func replay(_ feeds: [String], run: String, _ extra: [String] = []) throws -> (status: Int32, out: String, err: String) {
        try runCommand(Tools.binary("muckwatch"),
                       ["replay"] + feeds + ["--config", "\(dir)/config.yaml", "--db", "\(dir)/\(run).db",
                                             "--alert-log", "\(dir)/\(run).jsonl"] + extra)
    }

    private func alertLog(_ run: String) throws -> String { try String(contentsOfFile: "\(dir)/\(run).jsonl", encoding: .utf8) }

    private func caseRows(_ run: String) throws -> [Row] {
        try DatabaseQueue(path: "\(dir)/\(run).db").read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM cases ORDER BY case_id")
                + Row.fetchAll(db, sql: "SELECT case_id, kind, source, ts, sha256, last_seen FROM evidence ORDER BY id")
                + Row.fetchAll(db, sql: "SELECT * FROM case_ledger ORDER BY seq")
        }
    }

    /// A feed's segment announcement is demuxed as the daemon demuxes it,
    /// and the drone positions inside pass through the rules, twice alike.
    func testADroneSegmentIsDemuxedAndItsTrackReplayed() throws {
        let media = "\(dir)/media"
        try FileManager.default.createDirectory(atPath: media, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(ProbeTelemetryTests.fixtures)/klv/osh_sample-stream.ts",
                                         toPath: "\(media)/flight.ts")
        try "media:\n  roots: [\(media)]\n".write(toFile: "\(dir)/config.yaml", atomically: true, encoding: .utf8)
        let segment = FeedMessage(t: RFC3339.parse("2012-06-29T14:35:00Z")!, topic: "muckwatch/v1/video/D-07/segment",
                                  payload: Array(#"{"url":"file://\#(media)/flight.ts","start":"2012-06-29T14:32:30Z"}"#.utf8))
        let path = try write([segment], to: "segment.jsonl")
        var dumps: [[String]] = []
        for run in ["a", "b"] {
            let result = try replay([path], run: run)
            XCTAssertEqual(result.status, 0, result.err)
            XCTAssertTrue(result.out.contains("Videos:       ok 1"), result.out)
            dumps.append(try DatabaseQueue(path: "\(dir)/\(run).db").read { db in
                try String.fetchAll(db, sql: "SELECT drone || ' ' || ts || ' ' || lat || ' ' || lon FROM drone_telemetry ORDER BY ts")
            })
        }
        XCTAssertEqual(dumps[0].count, 277)
        XCTAssertTrue(dumps[0].allSatisfy { $0.hasPrefix("D-07 ") })
        XCTAssertEqual(dumps[0], dumps[1])
    }

    func testSameFeedTwiceGivesByteIdenticalAlertsAndCases() throws {
        let path = try write(feed(), to: "feed.jsonl")
        let first = try replay([path], run: "a")
        XCTAssertEqual(first.status, 0, first.err)
        XCTAssertTrue(first.out.contains("Replayed:     14 message(s)"), first.out)
        XCTAssertTrue(first.out.contains("Stored:       13 new, 1 duplicate(s) recognised"), first.out)
        XCTAssertTrue(first.out.contains("Dead letters: future_time 1, invalid_json 1"), first.out)
        XCTAssertTrue(first.out.contains("Alerts:       spill 1, uncovered_load 1"), first.out)
        XCTAssertTrue(first.out.contains("Cases opened: 2"), first.out)

        let second = try replay([path], run: "b")
        XCTAssertEqual(second.status, 0, second.err)
        let log = try alertLog("a")
        XCTAssertEqual(log, try alertLog("b"))
        XCTAssertTrue(log.hasPrefix(#"{"ts":"2026-11-24T21:15:30.000+08:00","alert_id":"A-20261124-0001","rule":"uncovered_load""#), log)
        XCTAssertEqual(try caseRows("a"), try caseRows("b"))
        XCTAssertEqual(try caseRows("a").first?["case_id"] as String?, "MW-20261124-0001")

        // Into the same store again: everything is a redelivery, nothing new.
        let again = try replay([path], run: "a")
        XCTAssertTrue(again.out.contains("Stored:       0 new, 14 duplicate(s) recognised"), again.out)
        XCTAssertEqual(try alertLog("a"), log)
    }

    func testSeveralFeedsAreMergedByTime() throws {
        let all = feed()
        let single = try write(all, to: "all.jsonl")
        let odd = try write(all.enumerated().filter { $0.offset % 2 == 1 }.map(\.element), to: "odd.jsonl")
        let even = try write(all.enumerated().filter { $0.offset % 2 == 0 }.map(\.element), to: "even.jsonl")
        XCTAssertEqual(try replay([single], run: "single").status, 0)
        let merged = try replay([odd, even], run: "merged")
        XCTAssertEqual(merged.status, 0, merged.err)
        XCTAssertEqual(try alertLog("merged"), try alertLog("single"))
        XCTAssertEqual(try caseRows("merged"), try caseRows("single"))
    }

    func testBadFeedLinesAreReportedWithTheirNumberAndSkipped() throws {
        let path = try write(feed(), to: "bad.jsonl", extraLines: [
            2: #"{"t":"2026-11-24T13:15:01Z","topic":"muckwatch/v1/truck/T-0001/telemetry"}"#,
            5: "not json at all",
            7: #"{"topic":"muckwatch/v1/truck/T-0001/telemetry","payload":"{}"}"#,
            9: #"{"t":"2026-11-24T13:15:01Z","topic":"x","payload":"{}","payload_b64":"e30="}"#,
        ])
        let run = try replay([path], run: "bad")
        XCTAssertEqual(run.status, 0, run.err)
        XCTAssertTrue(run.err.contains("bad.jsonl: line 3: neither 'payload' nor 'payload_b64'; skipped"), run.err)
        XCTAssertTrue(run.err.contains("bad.jsonl: line 6: not valid JSON; skipped"), run.err)
        XCTAssertTrue(run.err.contains("bad.jsonl: line 8: no 't' (receive time); skipped"), run.err)
        XCTAssertTrue(run.err.contains("bad.jsonl: line 10: both 'payload' and 'payload_b64'"), run.err)
        XCTAssertTrue(run.out.contains("Replayed:     14 message(s)"), run.out)
        XCTAssertTrue(run.out.contains("4 bad feed line(s) skipped"), run.out)
        XCTAssertTrue(run.out.contains("Alerts:       spill 1, uncovered_load 1"), run.out)

        let strict = try replay([path], run: "strict", ["--strict"])
        XCTAssertEqual(strict.status, 1)
        XCTAssertTrue(strict.err.contains("bad.jsonl: line 3: neither 'payload' nor 'payload_b64'"), strict.err)
        XCTAssertTrue(strict.err.contains("stopped at the first bad line (--strict); 2 message(s) before it were replayed"), strict.err)
        XCTAssertFalse(strict.err.contains("line 6"), strict.err)
    }

    func testMissingFeedIsOneClearError() throws {
        let run = try replay(["\(dir)/nope.jsonl"], run: "missing")
        XCTAssertEqual(run.status, 1)
        XCTAssertEqual(run.err.trimmingCharacters(in: .whitespacesAndNewlines),
                       "Error: cannot read the feed \(dir)/nope.jsonl: no such file")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/missing.db"), "nothing is created for a run that cannot start")
    }

    func testBinaryPayloadsReplayFromBase64() throws {
        let bytes: [UInt8] = [0x7e, 0x02, 0x00, 0xff, 0x7e]
        let m = FeedMessage(t: RFC3339.parse("2026-11-24T13:15:00Z")!, topic: "muckwatch/v1/truck/T-0001/telemetry", payload: bytes)
        XCTAssertTrue(m.feedLine.contains(#""payload_b64":"fgIA/34=""#), m.feedLine)
        let run = try replay([try write([m], to: "bin.jsonl")], run: "bin")
        XCTAssertEqual(run.status, 0, run.err)
        let stored = try DatabaseQueue(path: "\(dir)/bin.db").read { db in
            try Row.fetchOne(db, sql: "SELECT payload, reason FROM dead_letters")
        }
        XCTAssertEqual((stored?["payload"] as Data?).map { [UInt8]($0) }, bytes)
        XCTAssertEqual(stored?["reason"] as String?, "invalid_json")
    }
}
