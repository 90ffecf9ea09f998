import Foundation
import GRDB
import MuckwatchCore
import MuckwatchScenario
import XCTest

/// The checked-in scenario (Tests/Fixtures/scenario-small) against its
/// expected alert log and cases. A change in rule behaviour shows up here as
/// a diff; when the change is intended, regenerate the expected files with
/// `MUCKWATCH_UPDATE_GOLDEN=1 swift test --filter GoldenScenarioTests` and
/// review the diff in git.
final class GoldenScenarioTests: XCTestCase {
    static let fixture = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/scenario-small").path
    var feed: String { "\(Self.fixture)/feed.jsonl" }
    var config: String { "\(Self.fixture)/config.yaml" }
    var expectedAlerts: String { "\(Self.fixture)/expected-alerts.jsonl" }
    var expectedCases: String { "\(Self.fixture)/expected-cases.json" }

    func testReplayGivesTheExpectedAlertsAndCases() throws {
        let dir = try temporaryDirectory("golden-replay")
        let run = try runCommand(Tools.binary("muckwatch"),
                                 ["replay", feed, "--config", config, "--db", "\(dir)/muckwatch.db", "--alert-log", "\(dir)/alerts.jsonl"])
        XCTAssertEqual(run.status, 0, run.err)
        let alerts = try String(contentsOfFile: "\(dir)/alerts.jsonl", encoding: .utf8)
        let cases = try casesDump(db: "\(dir)/muckwatch.db")
        if ProcessInfo.processInfo.environment["MUCKWATCH_UPDATE_GOLDEN"] == "1" {
            try alerts.write(toFile: expectedAlerts, atomically: true, encoding: .utf8)
            try cases.write(toFile: expectedCases, atomically: true, encoding: .utf8)
            print("GoldenScenarioTests: rewrote \(expectedAlerts) and \(expectedCases)")
            return
        }
        XCTAssertFalse(alerts.isEmpty, "the scenario's planted violations raised no alert")
        try assertSame(alerts, expectedFile: expectedAlerts, dir: dir)
        try assertSame(cases, expectedFile: expectedCases, dir: dir)
    }

    /// The daemon and replay must not drift apart: the same feed published
    /// through a real broker to the real daemon gives the same alert log.
    ///
    /// Two kinds of planted lines cannot behave the same through a broker and
    /// are left out of what is published: the daemon's arrival time is the
    /// wall clock, not the feed's `t`, so a `ts` planted "25 h ahead" of the
    /// feed is in the past by now (`future_time`); and a topic no filter
    /// matches (`unknown_topic`) never reaches a daemon subscribed to the
    /// filters. In the replay both are dead letters that touch no rule, so
    /// the alerts expected stay the same.
    func testDaemonFedThroughABrokerGivesTheSameAlertsAsReplay() throws {
        let dir = try temporaryDirectory("golden-daemon")
        let (published, delivered) = try writeBrokerFeed(to: "\(dir)/feed.jsonl")
        let broker = try TestBroker(dir: dir)
        let daemon = try Child(try Tools.binary("muckwatchd"),
                               ["--config", config, "--broker", broker.url, "--db", "\(dir)/muckwatch.db",
                                "--alert-log", "\(dir)/alerts.jsonl", "--log-level", "info"],
                               log: "\(dir)/muckwatchd.log")
        defer { daemon.stop() }
        try eventually("muckwatchd to subscribe (log: \(dir)/muckwatchd.log)", timeout: 20) { daemon.log.contains("subscribed to") }

        let publish = try runCommand(Tools.binary("muckwatch"), ["publish", published, "--broker", broker.url, "--speed", "0"])
        XCTAssertEqual(publish.status, 0, publish.err)
        try eventually("the daemon to store and process all \(delivered) delivered messages", timeout: 120) {
            let queue = try DatabaseQueue(path: "\(dir)/muckwatch.db", configuration: { var c = Configuration(); c.readonly = true; return c }())
            return try queue.read { db in
                let stored = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox") ?? 0
                let duplicates = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM duplicates WHERE kind = 'redelivery'") ?? 0
                let processed = try Int.fetchOne(db, sql: "SELECT value FROM pipeline_state WHERE key = 'last_inbox_id'") ?? 0
                return stored + duplicates >= delivered && processed == stored
            }
        }
        Thread.sleep(forTimeInterval: 0.3)   // the alert lines follow the commit
        // The `chain` heads differ: the case ledger covers inbox ids, and the
        // daemon is not sent the lines left out above. Everything else must match.
        let alerts = try String(contentsOfFile: "\(dir)/alerts.jsonl", encoding: .utf8)
        XCTAssertEqual(alerts.components(separatedBy: "\"chain\":\"").count, alerts.split(separator: "\n").count + 1,
                       "every alert line carries the case ledger's head")
        try assertSame(Self.withoutChain(alerts), expectedText: Self.withoutChain(String(contentsOfFile: expectedAlerts, encoding: .utf8)),
                       name: "expected-alerts-without-chain.jsonl", dir: dir)
        let verify = try runCommand(Tools.binary("muckwatch"), ["verify", "--db", "\(dir)/muckwatch.db", "--alert-log", "\(dir)/alerts.jsonl"])
        XCTAssertEqual(verify.status, 0, verify.err)
        XCTAssertTrue(verify.out.hasPrefix("verified 18 cases"), verify.out)
    }

    /// The kill-anywhere property through the daemon: the same feed published
    /// through a broker at 300 × real time while muckwatchd is killed with
    /// SIGKILL at seeded moments and started again each time (the broker
    /// keeps what it could not deliver) gives the same alert lines as replay.
    func testDaemonKilledAnywhereGivesTheSameAlertsAsReplay() throws {
        let dir = try temporaryDirectory("golden-daemon-killed")
        let (published, delivered) = try writeBrokerFeed(to: "\(dir)/feed.jsonl")
        let broker = try TestBroker(dir: dir)
        var starts = 0
        func startDaemon() throws -> Child {
            starts += 1
            let daemon = try Child(try Tools.binary("muckwatchd"),
                                   ["--config", config, "--broker", broker.url, "--db", "\(dir)/muckwatch.db",
                                    "--alert-log", "\(dir)/alerts.jsonl", "--log-level", "info"],
                                   log: "\(dir)/muckwatchd-\(starts).log")
            try eventually("muckwatchd to subscribe (log: \(daemon.logPath))", timeout: 20) { daemon.log.contains("subscribed to") }
            return daemon
        }
        var daemon = try startDaemon()
        let publisher = try Child(try Tools.binary("muckwatch"), ["publish", published, "--broker", broker.url, "--speed", "300"],
                                  log: "\(dir)/publish.log")
        var rng = SplitMix64(state: 15_16)
        var kills = 0
        while publisher.process.isRunning && kills < 6 {
            Thread.sleep(forTimeInterval: rng.uniform(0.5, 2.5))
            daemon.stop(SIGKILL)
            kills += 1
            daemon = try startDaemon()
        }
        publisher.process.waitUntilExit()
        XCTAssertEqual(publisher.process.terminationStatus, 0, publisher.log)
        XCTAssertGreaterThanOrEqual(kills, 4, "the publish ended before the daemon was killed enough times")
        // Redeliveries after the kills are duplicates; what is stored is every
        // distinct message delivered (the fixture plants one redelivery).
        var distinct = Set<String>()
        for (i, line) in try String(contentsOfFile: published, encoding: .utf8).split(separator: "\n").enumerated() {
            if case .success(let m) = FeedFile.parse(Array(line.utf8), lineNumber: i + 1), TopicRoutes.defaults.route(m.topic) != nil {
                distinct.insert(m.topic + "\u{0}" + Digest.sha256Hex(m.payload))
            }
        }
        XCTAssertEqual(distinct.count, delivered - 1)
        try eventually("the daemon to store and process all \(distinct.count) distinct messages", timeout: 120) {
            let queue = try DatabaseQueue(path: "\(dir)/muckwatch.db", configuration: { var c = Configuration(); c.readonly = true; return c }())
            return try queue.read { db in
                let stored = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox") ?? 0
                let processed = try Int.fetchOne(db, sql: "SELECT value FROM pipeline_state WHERE key = 'last_inbox_id'") ?? 0
                return stored == distinct.count && processed == stored
            }
        }
        Thread.sleep(forTimeInterval: 0.3)   // the alert lines follow the commit
        daemon.stop()
        let alerts = try String(contentsOfFile: "\(dir)/alerts.jsonl", encoding: .utf8)
        try assertSame(Self.withoutChain(alerts), expectedText: Self.withoutChain(String(contentsOfFile: expectedAlerts, encoding: .utf8)),
                       name: "expected-alerts-without-chain.jsonl", dir: dir)
        let verify = try runCommand(Tools.binary("muckwatch"), ["verify", "--db", "\(dir)/muckwatch.db", "--alert-log", "\(dir)/alerts.jsonl"])
        XCTAssertEqual(verify.status, 0, verify.err)
    }

    static func withoutChain(_ lines: String) -> String {
        lines.replacingOccurrences(of: #","chain":"[0-9a-f]{64}""#, with: "", options: .regularExpression)
    }

    /// The fixture's feed without its `future_time` plants, and how many of
    /// its messages a daemon subscribed to the default filters receives.
    private func writeBrokerFeed(to path: String) throws -> (path: String, delivered: Int) {
        struct Manifest: Decodable {
            struct Bad: Decodable { var dead_letter: String; var line: Int }
            var bad_messages: [Bad]
        }
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: "\(Self.fixture)/planted.json")))
        let dropped = Set(manifest.bad_messages.filter { $0.dead_letter == "future_time" }.map(\.line))
        XCTAssertEqual(dropped.count, 2, "planted.json should list the two future_time plants")
        var kept: [Substring] = []
        var delivered = 0
        for (i, line) in try String(contentsOfFile: feed, encoding: .utf8).split(separator: "\n").enumerated()
        where !dropped.contains(i + 1) {
            kept.append(line)
            guard case .success(let m) = FeedFile.parse(Array(line.utf8), lineNumber: i + 1) else {
                XCTFail("fixture line \(i + 1) does not parse")
                continue
            }
            if TopicRoutes.defaults.route(m.topic) != nil { delivered += 1 }
        }
        try (kept.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return (path, delivered)
    }

    /// Every case as `muckwatch cases show --json` prints it, in id order.
    private func casesDump(db: String) throws -> String {
        let ids = try DatabaseQueue(path: db).read { db in
            try String.fetchAll(db, sql: "SELECT case_id FROM cases ORDER BY case_id")
        }
        var out = ""
        for id in ids {
            let show = try runCommand(Tools.binary("muckwatch"), ["cases", "show", id, "--json", "--db", db, "--config", config])
            XCTAssertEqual(show.status, 0, show.err)
            out += show.out.hasSuffix("\n") ? show.out : show.out + "\n"
        }
        return out
    }

    /// Equal, or a failure that shows `diff -u expected actual`.
    private func assertSame(_ actual: String, expectedFile: String, dir: String,
                            file: StaticString = #filePath, line: UInt = #line) throws {
        try assertSame(actual, expectedText: String(contentsOfFile: expectedFile, encoding: .utf8),
                       name: (expectedFile as NSString).lastPathComponent, dir: dir, file: file, line: line)
    }

    private func assertSame(_ actual: String, expectedText expected: String, name: String, dir: String,
                            file: StaticString = #filePath, line: UInt = #line) throws {
        guard actual != expected else { return }
        let expectedFile = "\(dir)/\(name)"
        try expected.write(toFile: expectedFile, atomically: true, encoding: .utf8)
        let actualFile = "\(dir)/actual-\((expectedFile as NSString).lastPathComponent)"
        try actual.write(toFile: actualFile, atomically: true, encoding: .utf8)
        let diff = try runCommand("/usr/bin/diff", ["-u", expectedFile, actualFile])
        XCTFail("\(expectedFile) differs from this run (\(actualFile)):\n\(diff.out)", file: file, line: line)
    }
}
