import ArgumentParser
import Foundation
import Logging
import MuckwatchConfig
import MuckwatchCore
import MuckwatchRuntime
import MuckwatchStore
import Synchronization

/// `muckwatch replay`: recorded feeds through exactly the daemon's pipeline
/// (inbox → decode → rules → store → alert log), with no broker and as fast as
/// it can. Each message's arrival time is its feed `t`, and the rules run on
/// the messages' own times, so the same feeds and config always give the same
/// alert lines and case rows.
struct Replay: AsyncParsableCommand {
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

    @Option(help: ArgumentHelp("Run only these rules, comma-separated (default: the config's rules.enabled, all of them).",
                               discussion: "For measuring what rules cost: bench/replay.sh compares all rules with the first two."))
    var rules: String?

    @Option(help: ArgumentHelp("Commit the rules' state every this many messages (tests of restarts).", visibility: .hidden))
    var snapshotEvery: Int?

    func validate() throws {
        if feeds.isEmpty { throw ValidationError("give at least one feed file") }
        for name in ruleNames ?? [] where !RuleSettings.allRules.contains(name) {
            throw ValidationError("--rules lists '\(name)'; the rules are \(RuleSettings.allRules.joined(separator: ", "))")
        }
    }

    private var ruleNames: [String]? {
        rules.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    }

    func run() async throws {
        var config = try loadConfiguration(self.config)
        if let ruleNames { config.pipeline.rules.enabled = Set(ruleNames) }
        do {
            _ = try FeedMerger(paths: feeds)   // every feed opens, before anything is written
        } catch {
            throw CLIError("\(error)")
        }
        let storePath = db ?? config.storePath
        let alertPath = alertLog ?? config.alertLogPath
        let logger = { var l = Logger(label: "muckwatch.replay"); l.logLevel = .warning; return l }()
        let store: SQLiteStore
        do {
            store = try SQLiteStore(path: storePath, checkpoints: .backgroundBounded)
        } catch {
            throw CLIError("\(error)")
        }
        let settings = config.pipelineSettings
        let pipeline = PipelineThread(niceness: 0, logger: logger) { [logger, snapshotEvery] in
            try PipelineHost(store: store, settings: settings, alertLogPath: alertPath, logger: logger,
                             batchLimit: Self.batchSize, snapshotEvery: (snapshotEvery ?? 1_000_000, 300))
        }
        // Three stages, as in the daemon: feed lines are parsed on a thread of
        // their own, a second one stores them in the inbox, and the pipeline
        // thread processes the inbox behind it.
        let pipelineRun = Task { try await pipeline.run() }
        let fed: Result<FeedResult, any Error> = await (try? onThread(named: "muckwatch.replay") { [feeds, strict, media = config.media] in
            Result { try Self.feed(feeds, strict: strict, into: store, pipeline: pipeline, settings: settings, media: media,
                                   logger: logger, alertPath: alertPath) }
        }) ?? .failure(CLIError("cannot start the replay thread"))
        pipeline.stop()
        let stopped = await pipelineRun.result
        let result: FeedResult
        switch (fed, stopped) {
        case (.success(let r), .success):
            result = r
        case (_, .failure(let error)):
            throw CLIError("replay stopped: \(error)")
        case (.failure(let error as CLIError), _):
            throw error
        case (.failure(let error), _):
            throw CLIError("replay stopped: \(error)")
        }
        let (before, read, badLines, start) = (result.before, result.read, result.badLines, result.start)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9

        let after = try store.stats()
        let summary = ReplaySummary(before: before, after: after, read: read, badLines: badLines, seconds: seconds)
        if json {
            print(try Output.json(summary))
        } else {
            print(summary.text(store: storePath, alertLog: alertPath))
        }
    }

    struct FeedResult: Sendable {
        var before: StoreStats
        var read: Int
        var badLines: Int
        var start: UInt64
    }

    /// Stores the feeds' messages in the inbox, at most `drainsAhead` batches
    /// ahead of the pipeline, then has the video workers demux what they
    /// name. Runs on a thread of its own (it blocks on both).
    private static func feed(_ feeds: [String], strict: Bool, into store: SQLiteStore, pipeline: PipelineThread,
                             settings: PipelineSettings, media: MediaSettings, logger: Logger,
                             alertPath: String) throws -> FeedResult {
        guard pipeline.waitUntilStarted() else { throw CLIError("the pipeline did not start") }
        let before = try store.stats()
        let start = DispatchTime.now().uptimeNanoseconds
        let parsed = FeedParsingThread(paths: feeds, batchSize: batchSize, settings: settings)
        defer { parsed.cancel() }
        var read = 0
        var badLines = 0
        var stored = 0
        let processedBefore = pipeline.processed
        while let item = parsed.next() {
            switch item {
            case .batch(let batch):
                read += batch.count
                stored += try store.accept(batch).count { if case .new = $0 { true } else { false } }
                pipeline.signal()
                pipeline.waitUntilProcessed(processedBefore + stored - drainsAhead * batchSize)
            case .bad(let path, let bad):
                badLines += 1
                FileHandle.standardError.write(Data((TerminalText.escaped("\(path): \(bad)\(strict ? "" : "; skipped")") + "\n").utf8))
                if strict {
                    pipeline.drainNow()
                    throw CLIError("stopped at the first bad line (--strict); \(read) message(s) before it were replayed")
                }
            }
        }
        guard pipeline.drainNow() else { throw CLIError("the pipeline stopped before the end of the feeds") }
        // The clips and segments the feed points at, as the daemon's video
        // workers demux them. A recorded feed's clips are often not on this
        // machine: one line each would drown the summary, which counts them.
        var videoLogger = logger
        videoLogger.logLevel = .error
        let videos = VideoWorkers(store: store, media: media,
                                  srtUTCOffsetSeconds: settings.incidents.utcOffsetSeconds,
                                  logger: videoLogger, heads: ChainHeads(besideAlertLog: alertPath),
                                  onTrack: { pipeline.signal() })
        videos.start()
        videos.drainAll()
        videos.stop()
        pipeline.drainNow()   // the drone positions the segments held
        return FeedResult(before: before, read: read, badLines: badLines, start: start)
    }

    /// Messages per inbox transaction; the pipeline then takes them in its own batches.
    static let batchSize = 16384
    /// How many batches the inbox may run ahead of the pipeline.
    static let drainsAhead = 16
}

/// Reads and merges the feeds on a thread of its own, handing over batches
/// of arrivals (arrival time = `t`) and bad lines in feed order, at most a few
/// batches ahead of the consumer. It also decodes each payload with the
/// pipeline's decoder, so that the rules' thread does not have to (the
/// pipeline is otherwise the slower stage of the two).
final class FeedParsingThread: Sendable {
    enum Item: Sendable {
        case batch([Arrival])
        case bad(String, FeedLineError)
    }

    private let items = Mutex<(queue: [Item], done: Bool)>(([], false))
    private let available = DispatchSemaphore(value: 0)
    /// Created at 0 and signalled up: libdispatch traps when a semaphore is
    /// freed below the value it was created with.
    private let space = DispatchSemaphore(value: 0)
    private let cancelled = Atomic<Bool>(false)

    init(paths: [String], batchSize: Int, settings: PipelineSettings, ahead: Int = 4) {
        for _ in 0..<ahead { space.signal() }
        let thread = Thread { [self] in
            defer {
                items.withLock { $0.done = true }
                available.signal()
            }
            guard var merger = try? FeedMerger(paths: paths) else { return }
            let decoder = settings.payloadDecoder()
            var batch: [Arrival] = []
            batch.reserveCapacity(batchSize)
            func hand(_ item: Item) -> Bool {
                space.wait()
                if cancelled.load(ordering: .relaxed) { return false }
                items.withLock { $0.queue.append(item) }
                available.signal()
                return true
            }
            while let (path, line) = merger.next() {
                switch line {
                case .success(let m):
                    // The daemon's MQTT thread keeps only the head of a too-large payload; so does replay.
                    let (payload, oversized) = OversizedPayload.cut(m.payload, limit: settings.limits.maxPayloadBytes)
                    let decoded = decoder.decode(InboxMessage(id: 0, topic: m.topic, payload: payload, arrivedAt: m.t, sha256: "",
                                                              oversized: oversized))
                    batch.append(Arrival(topic: m.topic, payload: payload, qos: m.qos, retain: m.retain, arrivedAt: m.t,
                                               decoded: decoded, oversized: oversized))
                    if batch.count == batchSize {
                        guard hand(.batch(batch)) else { return }
                        batch.removeAll(keepingCapacity: true)
                    }
                case .failure(let error):
                    // Messages before the bad line go first, so that --strict
                    // stops exactly there.
                    if !batch.isEmpty {
                        guard hand(.batch(batch)) else { return }
                        batch.removeAll(keepingCapacity: true)
                    }
                    guard hand(.bad(path, error)) else { return }
                }
            }
            if !batch.isEmpty { _ = hand(.batch(batch)) }
        }
        thread.name = "muckwatch.feed-reader"
        thread.start()
    }

    /// The next item, or nil at the end of every feed.
    func next() -> Item? {
        while true {
            available.wait()
            let (item, done) = items.withLock { state -> (Item?, Bool) in
                state.queue.isEmpty ? (nil, state.done) : (state.queue.removeFirst(), false)
            }
            if let item {
                space.signal()
                return item
            }
            if done {
                available.signal()   // later calls also see the end
                return nil
            }
        }
    }

    func cancel() {
        cancelled.store(true, ordering: .relaxed)
        space.signal()
    }
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
    var videos: [String: Int]
    var seconds: Double
    var messagesPerSecond: Double

    enum CodingKeys: String, CodingKey {
        case messages, badLines = "bad_lines", stored, duplicates, deadLetters = "dead_letters", alerts,
             casesOpened = "cases_opened", videos, seconds, messagesPerSecond = "messages_per_second"
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
        videos = delta(after.videos, before.videos)
        self.seconds = (seconds * 1000).rounded() / 1000
        messagesPerSecond = seconds > 0 ? (Double(read) / seconds).rounded() : 0
    }

    func text(store: String, alertLog: String) -> String {
        func map(_ m: [String: Int]) -> String {
            m.isEmpty ? "none" : m.sorted { $0.key < $1.key }.map { "\($0.key.terminalEscaped) \($0.value)" }.joined(separator: ", ")
        }
        return """
            Replayed:     \(messages) message(s) in \(String(format: "%.2f", seconds)) s (\(Int(messagesPerSecond)) msg/s)\(badLines > 0 ? "; \(badLines) bad feed line(s) skipped" : "")
            Stored:       \(stored) new, \(duplicates) duplicate(s) recognised
            Dead letters: \(map(deadLetters))
            Alerts:       \(map(alerts))
            Cases opened: \(casesOpened)
            Videos:       \(map(videos))
            Store:        \(store.terminalEscaped)
            Alert log:    \(alertLog.terminalEscaped)
            """
    }
}
