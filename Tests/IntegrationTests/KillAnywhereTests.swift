import Foundation
import GRDB
import MuckwatchScenario
import XCTest

/// Rule state survives any stop: `muckwatch replay` killed with SIGKILL at
/// random moments and started again on the same feed, until a run
/// completes, leaves the same alert log and case rows, byte for byte, as a
/// run that was never interrupted. The feed is a generated city hour with
/// violations of every rule (uncovered stretches, fume windows, fences,
/// washes, silences), so kills land inside them.
final class KillAnywhereTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        dir = try temporaryDirectory("kill-anywhere")
        let made = try runCommand(Tools.binary("muckwatch"),
                                  ["scenario", "--out", "\(dir)/scenario", "--trucks", "30", "--hours", "2",
                                   "--report-interval-s", "5", "--seed", "3"])
        XCTAssertEqual(made.status, 0, made.err)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func arguments(_ run: String, _ extra: [String]) -> [String] {
        ["replay", "\(dir)/scenario/feed.jsonl", "--config", "\(dir)/scenario/config.yaml",
         "--db", "\(dir)/\(run).db", "--alert-log", "\(dir)/\(run).jsonl"] + extra
    }

    /// Runs replay, killing it after each of `delays` while it still runs,
    /// then lets a last run complete; returns how many runs were killed.
    private func replayKilled(_ run: String, _ extra: [String], delays: [Double]) throws -> Int {
        var killed = 0
        for delay in delays + [nil] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: try Tools.binary("muckwatch"))
            p.arguments = arguments(run, extra)
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            if let delay {
                Thread.sleep(forTimeInterval: delay)
                if p.isRunning {
                    kill(p.processIdentifier, SIGKILL)
                    killed += 1
                }
            }
            p.waitUntilExit()
            if delay == nil {
                XCTAssertEqual(p.terminationStatus, 0, "the last, uninterrupted run of \(run) failed")
            }
        }
        return killed
    }

    private func caseRows(_ run: String) throws -> [Row] {
        try DatabaseQueue(path: "\(dir)/\(run).db").read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM cases ORDER BY case_id")
                + Row.fetchAll(db, sql: "SELECT case_id, kind, source, ts, sha256, inbox_id, last_seen FROM evidence ORDER BY id")
                + Row.fetchAll(db, sql: "SELECT * FROM case_candidates ORDER BY case_id, rank")
        }
    }

    private func alertLog(_ run: String) throws -> String {
        try String(contentsOfFile: "\(dir)/\(run).jsonl", encoding: .utf8)
    }

    func testReplayKilledAnywhereGivesTheSameAlertsAndCasesAsAnUninterruptedRun() throws {
        let reference = try runCommand(Tools.binary("muckwatch"), arguments("reference", []))
        XCTAssertEqual(reference.status, 0, reference.err)
        let expectedLog = try alertLog("reference")
        let expectedCases = try caseRows("reference")
        XCTAssertGreaterThanOrEqual(expectedLog.split(separator: "\n").count, 15, "the feed should raise alerts of every rule")

        // Kills spread over the whole run: while the store opens, while the
        // state is restored and caught up, and during processing. Seeded, so
        // a failure can be run again with the same kills.
        var rng = SplitMix64(state: 20_261_203)
        let delays = (0..<14).map { _ in rng.uniform(0.15, 2.75) }
        // With a snapshot every batch (restarts take it up and catch up a
        // little), and with the default (the first batch's snapshot only,
        // so restarts catch up on almost everything).
        for (run, extra) in [("snapshots", ["--snapshot-every", "2000"]), ("catch-up", [])] {
            let killed = try replayKilled(run, extra, delays: delays)
            XCTAssertGreaterThanOrEqual(killed, 5, "\(run): too few runs were killed to test anything (delays \(delays))")
            XCTAssertEqual(try alertLog(run), expectedLog, "\(run): the alert log differs after \(killed) kills (delays \(delays))")
            XCTAssertEqual(try caseRows(run), expectedCases, "\(run): the case rows differ after \(killed) kills (delays \(delays))")
        }
    }
}
