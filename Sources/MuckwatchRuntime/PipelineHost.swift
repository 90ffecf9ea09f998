// MuckwatchRuntime owns what the daemon and the feed tools both run: the
// pipeline host on a thread of its own, the video workers, the feed reader,
// the config's broker settings and escaped logging. It links no
// swift-service-lifecycle: the daemon wraps these in its services.
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Logging
import MuckwatchCore
import MuckwatchStore

/// Hosts the pipeline: takes a pending batch from the store, runs the rules
/// on it in memory, hands the store the one outcome to commit, then writes
/// the alert lines and the case ledger's head. The store never calls the
/// rules; what they need from the past they ask through the store's lookups.
/// The daemon and `muckwatch replay` both run it on a `PipelineThread`, so
/// that the two paths cannot drift apart. Used from one thread at a time.
public final class PipelineHost {
    public let store: any PipelineStore
    private let pipeline: Pipeline
    private let alertLog: AlertLog
    /// Where the case ledger's head is written after each append.
    public let heads: ChainHeads
    private let logger: Logger
    /// Messages per pipeline transaction.
    private let batchLimit: Int
    private let settings: PipelineSettings
    /// How often the rules' state is committed with the position: every
    /// this many messages, or this many seconds (wall clock), whichever
    /// comes first; a restart catches up on the messages since.
    private let snapshotEvery: (messages: Int, seconds: Double)
    private var sinceSnapshot = (messages: 0, at: DispatchTime.now())
    /// No snapshot in the store yet: the next commit takes one.
    private var snapshotDue: Bool
    /// When set, a write the full disk refuses (a batch's commit, its alert
    /// lines, the chain head) waits for space and is tried again, for as
    /// long as `keepWaiting` agrees, instead of failing. A refused commit is
    /// tried again with the same outcome: the pipeline in memory has already
    /// moved past the batch, and the outcome is all of what it made of it.
    public var diskFull: (gate: DiskFullGate, keepWaiting: () -> Bool)?

    public init(store: any PipelineStore, settings: PipelineSettings, alertLogPath: String, logger: Logger,
                batchLimit: Int = 2048, snapshotEvery: (messages: Int, seconds: Double) = (1_000_000, 300)) throws {
        self.store = store
        self.batchLimit = batchLimit
        self.settings = settings
        self.snapshotEvery = snapshotEvery
        self.logger = logger
        let point = try store.restorePoint(historyDays: settings.incidents.historyDays)
        pipeline = Pipeline(settings: settings, restoring: point)
        snapshotDue = point.snapshot == nil
        if let snapshot = point.snapshot {
            try Self.resume(pipeline, from: snapshot, through: point.lastInboxId, store: store, logger: logger)
        } else if point.lastInboxId > 0 {
            logger.notice("""
                the store has no snapshot of the rules' state (written by an earlier version): rules start afresh \
                at inbox message \(point.lastInboxId); a snapshot is taken with the next batch
                """)
        }
        alertLog = try AlertLog(path: alertLogPath)
        heads = ChainHeads(besideAlertLog: alertLogPath)
    }

    /// Takes up the rules' state of the last snapshot and processes again,
    /// raising nothing, the messages committed after it: every rule stands
    /// where it stood at the stop, whenever the stop came.
    private static func resume(_ pipeline: Pipeline, from snapshot: (inboxId: Int64, state: [UInt8]), through last: Int64,
                               store: any PipelineStore, logger: Logger) throws {
        do {
            try pipeline.restore(snapshot: snapshot.state)
        } catch {
            logger.error("cannot read the rules' state snapshot (\(error)); rules start afresh at inbox message \(last)")
            return
        }
        var position = snapshot.inboxId
        var caughtUp = 0
        while position < last, case let messages = try store.processedMessages(after: position, through: last, limit: 8192),
              let end = messages.last?.id {
            pipeline.catchUp(messages, ledger: store, fixes: store)
            position = end
            caughtUp += messages.count
        }
        logger.info("rules' state restored as of inbox message \(snapshot.inboxId), caught up on \(caughtUp) message(s) to \(last)")
    }

    /// Commits a snapshot of the rules' state as it stands (a clean stop),
    /// so that the next start has nothing to catch up on.
    public func finish() throws {
        var outcome = BatchOutcome()
        outcome.snapshot = try pipeline.snapshot()
        _ = try store.commit(outcome, clock: pipeline.now)
    }

    /// Whether this batch's commit takes a snapshot of the rules' state.
    private func takesSnapshot(after messages: Int) -> Bool {
        sinceSnapshot.messages += messages
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - sinceSnapshot.at.uptimeNanoseconds) / 1e9
        guard snapshotDue || sinceSnapshot.messages >= snapshotEvery.messages || seconds >= snapshotEvery.seconds else {
            return false
        }
        snapshotDue = false
        sinceSnapshot = (0, DispatchTime.now())
        return true
    }

    /// Writes alerts committed before a crash but never logged, and the case
    /// ledger's head if the heads file lags behind it.
    public func logLeftoverAlerts() throws {
        let leftover = try store.unloggedAlerts()
        if !leftover.isEmpty {
            logger.notice("writing \(leftover.count) alert(s) committed before the last stop but not yet logged")
            try log(leftover)
        }
        try catchUpHeads()
    }

    /// A crash between a commit and its heads line leaves the heads file one
    /// head behind: it is written now, but only if the store's chain still
    /// holds the newest head the file has. A store cut back or rewritten
    /// while the daemon was stopped must not be covered up by a new head.
    private func catchUpHeads() throws {
        guard let current = try store.ledgerHead() else { return }
        let written: ChainHeads.Entry?
        do {
            written = try heads.newest()
        } catch {
            logger.error("cannot read the chain heads file: \(error); run `muckwatch verify`")
            return
        }
        if let written {
            guard try store.ledgerHead(at: written.head.seq) == written.head else {
                logger.critical("""
                    the store does not hold the case ledger head \(written.head) last written to \(heads.path): \
                    the store was cut back or rewritten. Run `muckwatch verify`; no new head is written over it
                    """)
                return
            }
            if written.head.seq >= current.seq { return }
        }
        try persist("write the case ledger's head to \(heads.path)") { try heads.append(current, caseId: nil, at: .wallClock) }
    }

    /// Processes everything pending; returns how many messages it took.
    @discardableResult
    public func drain() throws -> Int {
        var total = 0
        while case let messages = try store.pendingBatch(limit: batchLimit), !messages.isEmpty {
            var outcome = pipeline.process(messages, ledger: store, history: store, fixes: store)
            if takesSnapshot(after: messages.count) { outcome.snapshot = try pipeline.snapshot() }
            try run(outcome)
            total += messages.count
        }
        // The drone positions analysed segments held: their messages were
        // processed when they arrived; only the positions are new.
        while let segments = try store.pendingSegmentTelemetry(segments: 64) {
            var outcome = pipeline.process(segments.messages, ledger: store, history: store, fixes: store)
            outcome.lastInboxId = nil
            outcome.segmentPositionsThrough = segments.through
            // A restart catches up on inbox messages only: the positions are
            // part of the state from here on.
            outcome.snapshot = try pipeline.snapshot()
            sinceSnapshot = (0, DispatchTime.now())
            try run(outcome)
        }
        return total
    }

    /// Commits one batch's outcome, then writes its alert lines and the case ledger's head.
    private func run(_ outcome: BatchOutcome) throws {
        let batch = try persist("commit a processed batch to the store") { try store.commit(outcome, clock: pipeline.now) }
        store.betweenBatches()
        try log(batch.alerts)
        if let head = batch.ledgerHead {
            try persist("write the case ledger's head to \(heads.path)") { try heads.append(head, caseId: nil, at: .wallClock) }
        }
        if outcome.forgottenDevices > 0 {
            // glibc keeps freed memory in its arenas unless asked: a flood
            // of ids would otherwise hold its peak for good.
            _ = Self.mallocTrim?(0)
            logger.info("dropped the state of \(outcome.forgottenDevices) device(s) idle for over \(Int(settings.limits.deviceIdleS)) s")
        }
    }

    /// glibc's `malloc_trim`, which Swift's Glibc module does not import (it is in <malloc.h>).
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        #else
        return nil
        #endif
    }()

    private func log(_ alerts: [StoredAlert]) throws {
        guard !alerts.isEmpty else { return }
        try persist("append \(alerts.count) alert line(s) to \(alertLog.path)") { try alertLog.append(alerts.map(\.line)) }
        try persist("record alerts as logged in the store") { try store.markLogged(alerts) }
        logger.info("\(alerts.count) alert(s) written: \(alerts.map(\.alertId).joined(separator: ", "))")
    }

    private func persist<T>(_ what: @autoclosure () -> String, _ write: () throws -> T) throws -> T {
        guard let diskFull else { return try write() }
        return try diskFull.gate.retrying(what(), keepWaiting: diskFull.keepWaiting, write)
    }

    public func reopenAlertLog() {
        do {
            try alertLog.reopen()
            logger.info("reopened the alert log \(alertLog.path)")
        } catch {
            logger.error("cannot reopen the alert log \(alertLog.path): \(error)")
        }
    }
}
