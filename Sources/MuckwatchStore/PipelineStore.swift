import MuckwatchCore

/// What the pipeline host (MuckwatchRuntime) needs from a store, and all it
/// may ask: the store keeps what arrives and commits what the rules
/// produced; it never runs the rules. What the rules need from the past that
/// is not in memory they ask through the three lookups (`EventLedger`,
/// `FixHistory`, `TrackHistory`). `SQLiteStore` is the implementation; a
/// second backend is a second conforming type.
public protocol PipelineStore: AnyObject, Sendable, EventLedger, FixHistory, TrackHistory {
    /// Durably records arrivals in one transaction; returns, in order, what
    /// became of each, only after the commit (the broker may then forget them).
    func accept(_ arrivals: [Arrival]) throws -> [Accepted]
    /// The next messages the pipeline has not processed, oldest first; empty when none.
    func pendingBatch(limit: Int) throws -> [InboxMessage]
    /// Commits everything one batch produced and the position it reached, at once.
    func commit(_ outcome: BatchOutcome, clock: Instant?) throws -> CommittedBatch
    /// Where the pipeline stood at the last commit, with its last state snapshot.
    func restorePoint(historyDays: Double) throws -> PipelineRestorePoint
    /// Messages already processed, after `after` up to `through` (catching up after a snapshot).
    func processedMessages(after: Int64, through: Int64, limit: Int) throws -> [InboxMessage]
    /// Alerts committed but not yet written to the alert log (a crash between the two).
    func unloggedAlerts() throws -> [StoredAlert]
    /// Records that these alerts' lines are in the alert log.
    func markLogged(_ alerts: [StoredAlert]) throws
    /// The case ledger's newest head, and its head at `seq` (nil when it has none there).
    func ledgerHead() throws -> LedgerHead?
    func ledgerHead(at seq: Int64) throws -> LedgerHead?
    /// Videos named by processed messages and not analysed yet.
    func pendingVideoJobs(after: Int64, excluding: Set<Int64>, limit: Int) throws -> [VideoJob]
    /// Records what a video holds, and a segment's drone positions for the
    /// pipeline (chained into the case ledger when a case cites the video).
    func record(_ result: VideoResult, for job: VideoJob) throws -> LedgerHead?
    /// Segments' drone positions the pipeline has not processed yet (see `SegmentTelemetryBatch`).
    func pendingSegmentTelemetry(segments: Int) throws -> SegmentTelemetryBatch?
    /// Moves a case along its procedure (SPEC §6), recording who, when and why.
    func moveCase(id: String, to status: CaseStatus, by actor: String, osUser: String?, note: String,
                  at: Instant) throws -> (previous: CaseStatus, head: LedgerHead)
    func stats() throws -> StoreStats
    /// Called by the pipeline between batches, when it holds no snapshot of
    /// the store: a moment to let the write-ahead log start over.
    func betweenBatches()
}

/// What became of one accepted arrival.
public enum Accepted: Sendable, Equatable {
    /// Stored under this inbox id.
    case new(Int64)
    /// The same topic and bytes were stored before (a redelivery).
    case duplicate(of: Int64)
}

/// One committed batch: the alert lines it raised (stored, not yet written
/// to the alert log) and the case ledger's head, when the batch appended to it.
public struct CommittedBatch: Sendable {
    public var alerts: [StoredAlert]
    public var ledgerHead: LedgerHead?
}

extension SQLiteStore: PipelineStore {}
