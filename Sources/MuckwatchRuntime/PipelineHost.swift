// MuckwatchRuntime owns what the daemon and the feed tools both run: the
// pipeline host on a thread of its own, the video workers, the feed reader,
// the config's broker settings and escaped logging. It links no
// swift-service-lifecycle: the daemon wraps these in its services.
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
    /// When set, a write the full disk refuses (a batch's commit, its alert
    /// lines, the chain head) waits for space and is tried again, for as
    /// long as `keepWaiting` agrees, instead of failing. A refused commit is
    /// tried again with the same outcome: the pipeline in memory has already
    /// moved past the batch, and the outcome is all of what it made of it.
    public var diskFull: (gate: DiskFullGate, keepWaiting: () -> Bool)?

    public init(store: any PipelineStore, settings: PipelineSettings, alertLogPath: String, logger: Logger,
                batchLimit: Int = 2048) throws {
        self.store = store
        self.batchLimit = batchLimit
        self.settings = settings
        self.pipeline = Pipeline(settings: settings,
                                 restoring: try store.restorePoint(historyDays: settings.incidents.historyDays))
        self.alertLog = try AlertLog(path: alertLogPath)
        self.heads = ChainHeads(besideAlertLog: alertLogPath)
        self.logger = logger
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
            try run(pipeline.process(messages, ledger: store, history: store, fixes: store))
            total += messages.count
        }
        // The drone positions analysed segments held: their messages were
        // processed when they arrived; only the positions are new.
        while let segments = try store.pendingSegmentTelemetry(segments: 64) {
            var outcome = pipeline.process(segments.messages, ledger: store, history: store, fixes: store)
            outcome.lastInboxId = nil
            outcome.segmentPositionsThrough = segments.through
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
