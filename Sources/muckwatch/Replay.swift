import ArgumentParser
import Foundation
import Logging
import MuckwatchConfig
import MuckwatchCore
import MuckwatchDaemon
import MuckwatchStore

/// `muckwatch replay`: recorded feeds through exactly the daemon's pipeline
/// (inbox → decode → rules → store → alert log), with no broker and as fast as
/// it can. Each message's arrival time is its feed `t`, and the rules run on
/// the messages' own times, so the same feeds and config always give the same
/// alert lines and case rows.
struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run recorded feeds through the daemon's pipeline on a virtual clock, as fast as possible.",
        discussion: """
            Several feeds are merged by their `t`. The store and the alert log are the daemon's \
            (from --config) unless --db/--alert-log say otherwise; replaying into a fresh store gives \
            the same alert lines and cases every time. A message already in the store (same topic \
            and bytes) is counted as a duplicate and not processed again.
            """)

    @Argument(help: "Feed files (JSON Lines, SPEC §8).")
    var feeds: [String]

    @Option(help: "Config file (topics, rules, time zone, store and alert log paths).")
    var config: String?

    @Option(help: "SQLite store (default: the config's store.path).")
    var db: String?

    @Option(name: [.customLong("alert-log"), .customLong("alerts")], help: "Alert log (default: the config's alerts.log).")
    var alertLog: String?

    @Flag(help: "Stop at the first bad feed line (exit 1) instead of reporting and skipping it.")
    var strict = false

    @Flag(help: "Print the summary as one JSON object.")
    var json = false

    func validate() throws {
        if feeds.isEmpty { throw ValidationError("give at least one feed file") }
    }

    func run() throws {
        let config: MuckwatchConfiguration
        do {
            config = try self.config.map { try MuckwatchConfiguration.load(path: $0) } ?? MuckwatchConfiguration()
        } catch {
            throw CLIError("\(error)")
        }
        var merger: FeedMerger
        do {
            merger = try FeedMerger(paths: feeds)
        } catch {
            throw CLIError("\(error)")
        }
        let storePath = db ?? config.storePath
        let alertPath = alertLog ?? config.alertLogPath
        var logger = Logger(label: "muckwatch.replay")
        logger.logLevel = .warning
        let runner: PipelineRunner
        let before: StoreStats
        do {
            let store = try Store(path: storePath)
            runner = try PipelineRunner(store: store, settings: config.pipelineSettings,
                                        alertLogPath: alertPath, logger: logger)
            try runner.logLeftoverAlerts()
            try runner.drain()
            before = try store.stats()
        } catch {
            throw CLIError("\(error)")
        }

        let start = DispatchTime.now().uptimeNanoseconds
        var read = 0
        var badLines = 0
        var batch: [Store.Arrival] = []
        batch.reserveCapacity(Self.batchSize)
        func flush() throws {
            guard !batch.isEmpty else { return }
            _ = try runner.store.accept(batch)
            try runner.drain()
            batch.removeAll(keepingCapacity: true)
        }
        do {
            while let (path, line) = merger.next() {
                switch line {
                case .success(let m):
                    read += 1
                    batch.append(Store.Arrival(topic: m.topic, payload: m.payload, qos: m.qos, retain: m.retain, arrivedAt: m.t))
                    if batch.count == Self.batchSize { try flush() }
                case .failure(let bad):
                    badLines += 1
                    FileHandle.standardError.write(Data("\(path): \(bad)\(strict ? "" : "; skipped")\n".utf8))
                    if strict {
                        try flush()
                        throw CLIError("stopped at the first bad line (--strict); \(read) message(s) before it were replayed")
                    }
                }
            }
            try flush()
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError("replay stopped after \(read) message(s): \(error)")
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9

        let after = try runner.store.stats()
        let summary = ReplaySummary(before: before, after: after, read: read, badLines: badLines, seconds: seconds)
        if json {
            print(try Output.json(summary))
        } else {
            print(summary.text(store: storePath, alertLog: alertPath))
        }
    }

    /// Messages per inbox transaction; the pipeline then takes them in its own batches.
    static let batchSize = 4096
}

/// Several feeds merged by `t` (ties keep the order the feeds were given in).
struct FeedMerger {
    private var readers: [(path: String, reader: FeedReader)]
    private var heads: [Result<FeedMessage, FeedLineError>?]

    init(paths: [String]) throws {
        readers = try paths.map { ($0, try FeedReader(path: $0)) }
        heads = readers.map { $0.reader.next() }
    }

    /// The next line by time; a bad line comes out as soon as it is read, so
    /// that it is reported next to its neighbours.
    mutating func next() -> (String, Result<FeedMessage, FeedLineError>)? {
        var best: Int?
        for (i, head) in heads.enumerated() {
            guard let head else { continue }
            guard case .success(let m) = head else { best = i; break }
            if let b = best, case .success(let current) = heads[b]!, current.t <= m.t { continue }
            best = i
        }
        guard let i = best, let line = heads[i] else { return nil }
        heads[i] = readers[i].reader.next()
        return (readers[i].path, line)
    }
}

/// What one replay did, as differences of the store's counts.
struct ReplaySummary: Encodable {
    var messages: Int
    var badLines: Int
    var stored: Int
    var duplicates: Int
    var deadLetters: [String: Int]
    var alerts: [String: Int]
    var casesOpened: Int
    var seconds: Double
    var messagesPerSecond: Double

    enum CodingKeys: String, CodingKey {
        case messages, badLines = "bad_lines", stored, duplicates, deadLetters = "dead_letters", alerts,
             casesOpened = "cases_opened", seconds, messagesPerSecond = "messages_per_second"
    }

    init(before: StoreStats, after: StoreStats, read: Int, badLines: Int, seconds: Double) {
        func delta(_ a: [String: Int], _ b: [String: Int]) -> [String: Int] {
            var d: [String: Int] = [:]
            for (k, v) in a where v - (b[k] ?? 0) != 0 { d[k] = v - (b[k] ?? 0) }
            return d
        }
        messages = read
        self.badLines = badLines
        stored = after.messages - before.messages
        duplicates = after.duplicates - before.duplicates
        deadLetters = delta(after.deadLetters, before.deadLetters)
        alerts = delta(after.alerts, before.alerts)
        casesOpened = after.cases.values.reduce(0, +) - before.cases.values.reduce(0, +)
        self.seconds = (seconds * 1000).rounded() / 1000
        messagesPerSecond = seconds > 0 ? (Double(read) / seconds).rounded() : 0
    }

    func text(store: String, alertLog: String) -> String {
        func map(_ m: [String: Int]) -> String {
            m.isEmpty ? "none" : m.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
        return """
            Replayed:     \(messages) message(s) in \(String(format: "%.2f", seconds)) s (\(Int(messagesPerSecond)) msg/s)\(badLines > 0 ? "; \(badLines) bad feed line(s) skipped" : "")
            Stored:       \(stored) new, \(duplicates) duplicate(s) recognised
            Dead letters: \(map(deadLetters))
            Alerts:       \(map(alerts))
            Cases opened: \(casesOpened)
            Store:        \(store)
            Alert log:    \(alertLog)
            """
    }
}
