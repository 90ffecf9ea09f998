// MuckwatchStore owns everything the pipeline persists: the SQLite store
// (whole-process inbox, decoded records, dead letters, alerts, draft cases,
// evidence) and the alert log file. It is the only module that speaks SQL.
import Dispatch
import Foundation
import GRDB
import GRDBSQLite
import MuckwatchCore
import Synchronization

/// A failure of the store: `code` for callers to match, what was being
/// done, and SQLite's (or the system's) reason.
public struct StoreError: Error, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String { case cannotOpen, cannotCreateFolder, lookupFailed, ledger }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The store file cannot be opened, created or migrated.
        public static let cannotOpen = Code(.cannotOpen)
        /// The store's folder cannot be created.
        public static let cannotCreateFolder = Code(.cannotCreateFolder)
        /// A lookup the rules made during a batch failed, so the batch is not committed.
        public static let lookupFailed = Code(.lookupFailed)
        /// A fact cannot be chained into the case ledger.
        public static let ledger = Code(.ledger)

        public var description: String { base.rawValue }
    }

    public var code: Code
    public var action: String
    public var underlying: Error

    public init(_ code: Code, action: String, underlying: Error) {
        self.code = code
        self.action = action
        self.underlying = underlying
    }

    public var description: String {
        if let db = underlying as? DatabaseError {
            return "\(action): \(db.message ?? "SQLite error \(db.resultCode.rawValue)")"
        }
        return "\(action): \(underlying)"
    }
}

extension StoreError {
    /// Whether `error` says the disk is full (or its owner's quota used up):
    /// SQLite's SQLITE_FULL, or ENOSPC/EDQUOT from writing a file beside the
    /// store. Such a failure passes once there is space again; the write
    /// refused left nothing behind (SQLite rolled the transaction back,
    /// `AppendOnlyFile` cut off a part line), so it can simply be tried again.
    public static func isDiskFull(_ error: any Error) -> Bool {
        switch error {
        case let e as StoreError:
            return isDiskFull(e.underlying)
        case let e as DatabaseError:
            return e.resultCode == .SQLITE_FULL
        case let e as POSIXError:
            return e.code == .ENOSPC || e.code == .EDQUOT
        case let e as CocoaError:
            return (e.userInfo[NSUnderlyingErrorKey] as? any Error).map(isDiskFull) ?? false
        default:
            return false
        }
    }

    /// Bytes free for an unprivileged writer on the filesystem holding `path`
    /// (nil when it cannot be asked).
    public static func freeBytes(near path: String) -> Int64? {
        var info = statvfs()
        let dir = (path as NSString).deletingLastPathComponent
        guard statvfs(dir.isEmpty ? "." : dir, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}

/// The SQLite store. Thread-safe: the MQTT thread accepts messages while the
/// pipeline processes them; GRDB serialises the writes.
public final class SQLiteStore: Sendable {
    let pool: DatabasePool
    public let path: String
    private let checkpointer: Checkpointer?
    /// Loaded on the first accept, so that readers (the CLI) never pay for it.
    private let recentArrivals: Mutex<RecentArrivals?> = Mutex(nil)
    private let redeliveryWindow: Int
    /// What `accept` committed, for `pendingBatch` to hand over without reading it back.
    private let handoff: Mutex<Handoff>
    /// The first lookup for the rules (`EventLedger`, `FixHistory`,
    /// `TrackHistory`) that failed since the last commit, which `commit` reports.
    let lookupFailure = Mutex<(any Error)?>(nil)

    /// Opens (creating if needed) and migrates the store.
    ///
    /// `checkpoints` says who copies the WAL back into the database (and
    /// fsyncs it): by default whichever commit crosses SQLite's 1000-page
    /// mark; `.background` (the daemon) a timer thread of its own, so the
    /// MQTT thread's commits only append to the WAL, and the pipeline
    /// between its batches when the WAL has grown (see `betweenBatches`);
    /// `.backgroundBounded` (replay) likewise, and also a RESTART from the
    /// timer past the limit, at the cost of holding commits back now and
    /// then (see `Checkpointer`).
    ///
    /// `redeliveryWindow` is how many of the latest messages a redelivery is
    /// recognised among (see `RecentArrivals`).
    ///
    /// `handoffCapacity` is how many committed messages wait in memory for the
    /// pipeline (see `Handoff`); beyond that it reads them from the store.
    ///
    /// `walLimitFrames` bounds the WAL under a load that never pauses, in
    /// frames (4 KB each; default 16 384, 64 MB): past half of it the
    /// pipeline lets the WAL start over between its batches (see
    /// `Checkpointer`). Only with background checkpoints.
    public init(path: String, checkpoints: Checkpoints = .inline, redeliveryWindow: Int = 1_000_000,
                handoffCapacity: Int = 65_536, walLimitFrames: Int? = nil) throws {
        self.path = path
        self.redeliveryWindow = redeliveryWindow
        self.handoff = Mutex(Handoff(capacity: handoffCapacity))
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o750])
            } catch {
                throw StoreError(.cannotCreateFolder, action: "cannot create the store's folder \(dir)", underlying: error)
            }
        }
        try Self.restrictModes(path)
        let walFrames = WALFrames()
        var config = Configuration()
        config.busyMode = .callback(Self.waitBriefly)
        config.prepareDatabase { db in
            // WAL + NORMAL: a commit survives a crash of this process (the
            // guarantee QoS 1 acknowledgement needs); see README on power loss.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // 64 MB of page cache (default 2 MB), so the indexes that take
            // random inserts (device+time) stay in memory as
            // the store grows, instead of being re-read for each burst.
            try db.execute(sql: "PRAGMA cache_size = -65536")
            if checkpoints != .inline {
                try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
                walFrames.count(commitsOf: db)
            }
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
            try Self.migrator.migrate(pool)
            checkpointer = checkpoints == .inline ? nil
                : try Checkpointer(path: path, limitFrames: walLimitFrames ?? Checkpointer.limitFrames,
                                   restartOnTimer: checkpoints == .backgroundBounded, walFrames: walFrames)
        } catch {
            throw StoreError(.cannotOpen, action: "cannot open the store \(path)", underlying: error)
        }
    }

    /// The store holds every message and every case: nobody but its owner
    /// and group may read it, whatever the umask. SQLite gives the WAL and
    /// shared-memory files the database file's mode, so the database is
    /// created 0640 before SQLite opens it, and a store left readable by
    /// others (created by an earlier version) loses those bits.
    static func restrictModes(_ path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o640)
        guard fd >= 0 else {
            throw StoreError(.cannotOpen, action: "cannot open the store \(path)",
                             underlying: CocoaError(.fileReadNoPermission, userInfo: [NSLocalizedDescriptionKey: String(cString: strerror(errno))]))
        }
        close(fd)
        for file in [path, path + "-wal", path + "-shm"] {
            var info = stat()
            guard lstat(file, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_mode & 0o027 != 0 else { continue }
            _ = chmod(file, info.st_mode & 0o7750)
        }
    }

    /// A connection the store is locked for waits at most about 10 s, as
    /// with SQLite's `busy_timeout`, but looks again every 0.2 ms for the
    /// first 40 ms: SQLite's own handler sleeps 1, 2, 5, 10, 15, 20, 25 … ms
    /// in turn, so a commit held back 7 ms by a checkpoint would wait 18.
    static let waitBriefly: Database.BusyCallback = { tries in
        if tries < 200 {
            usleep(200)
            return true
        }
        usleep(1000)
        return tries < 200 + 9_960
    }

    public enum Checkpoints: Sendable {
        case inline, background, backgroundBounded
    }

    // MARK: Inbox

    /// Durably records one received message. Returns only after the commit, so
    /// the caller may then let the broker consider it delivered.
    public func accept(topic: String, payload: [UInt8], qos: Int, retain: Bool, arrivedAt: Instant) throws -> Accepted {
        try accept([Arrival(topic: topic, payload: payload, qos: qos, retain: retain, arrivedAt: arrivedAt)])[0]
    }

    /// Durably records a burst of received messages in one transaction (one
    /// commit is what a message costs; a burst shares it). Returns, in order,
    /// what became of each, only after the commit.
    public func accept(_ arrivals: [Arrival]) throws -> [Accepted] {
        guard !arrivals.isEmpty else { return [] }
        // A too-large payload is kept as its head, under the whole's hash.
        let digests = arrivals.map { a in
            a.oversized.map { ($0.sha256, Self.dedupeKey(sha256Hex: $0.sha256)) } ?? Digest.sha256(a.payload)
        }
        let hashes = digests.map(\.0)
        return try recentArrivals.withLock { recent in
            var window = try recent ?? loadRecentArrivals()
            let (results, stored) = try pool.write { db in
                let original = try db.cachedStatement(sql: "SELECT 1 FROM inbox WHERE id = ? AND topic = ? AND sha256 = ?")
                let insert = try db.cachedStatement(sql: """
                    INSERT INTO inbox (topic, payload, sha256, arrived_at, qos, retain, dedupe_key)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """)
                var results: [Accepted] = []
                results.reserveCapacity(arrivals.count)
                var stored: [(key: Int64, id: Int64)] = []
                var storedNow: [Int64: Int64] = [:]   // repeats within this burst
                for (a, (hash, key)) in zip(arrivals, digests) {
                    // The key only points at a candidate; topic and hash decide.
                    if let candidate = storedNow[key] ?? window.id(for: key),
                       try Self.inboxRow(original, candidate, is: a.topic, hash, db) {
                        try db.cachedStatement(sql: """
                            INSERT INTO duplicates (kind, topic, sha256, inbox_id, arrived_at) VALUES ('redelivery', ?, ?, ?, ?)
                            """).execute(arguments: [a.topic, hash, candidate, a.arrivedAt.millis])
                        results.append(.duplicate(of: candidate))
                    } else {
                        try Self.insertInbox(insert, a, hash, key, db)
                        let id = db.lastInsertedRowID
                        stored.append((key, id))
                        storedNow[key] = id
                        results.append(.new(id))
                    }
                }
                return (results, stored)
            }
            // Only committed messages are remembered, and handed to the pipeline.
            for entry in stored { window.remember(key: entry.key, id: entry.id) }
            recent = window
            var committed: [InboxMessage] = []
            committed.reserveCapacity(stored.count)
            for (i, result) in results.enumerated() {
                guard case .new(let id) = result else { continue }
                committed.append(InboxMessage(id: id, arrival: arrivals[i], sha256: hashes[i]))
            }
            handoff.withLock { $0.append(committed) }
            return results
        }
    }

    private func loadRecentArrivals() throws -> RecentArrivals {
        var window = RecentArrivals(capacity: redeliveryWindow)
        let rows = try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT dedupe_key, id FROM inbox ORDER BY id DESC LIMIT ?",
                             arguments: [redeliveryWindow])
        }
        for row in rows.reversed() { window.remember(key: row[0], id: row[1]) }
        return window
    }

    // The hot paths bind straight from Swift's buffers (SQLITE_TRANSIENT
    // copies them) instead of boxing each value into StatementArguments.

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    static func bind(_ stmt: OpaquePointer, _ index: Int32, _ text: String?) {
        guard var text else {
            sqlite3_bind_null(stmt, index)
            return
        }
        text.withUTF8 { buf in
            // An empty buffer may have no address; SQLite reads a null with
            // length 0 as NULL, so bind an empty literal instead.
            guard let base = buf.baseAddress, buf.count > 0 else {
                _ = sqlite3_bind_text(stmt, index, "", 0, transient)
                return
            }
            _ = base.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                sqlite3_bind_text(stmt, index, $0, Int32(buf.count), transient)
            }
        }
    }

    static func bind(_ stmt: OpaquePointer, _ index: Int32, _ value: Double?) {
        if let value { sqlite3_bind_double(stmt, index, value) } else { sqlite3_bind_null(stmt, index) }
    }

    static func bind(_ stmt: OpaquePointer, _ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(stmt, index, value) } else { sqlite3_bind_null(stmt, index) }
    }

    static func bind(_ stmt: OpaquePointer, _ index: Int32, _ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes {
            sqlite3_bind_blob(stmt, index, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32($0.count), transient)
        }
    }

    /// Binds with `bind`, steps once and resets the statement.
    @discardableResult
    static func run(_ statement: Statement, _ db: Database, bind: (OpaquePointer) -> Void) throws -> Int32 {
        let stmt = statement.sqliteStatement
        sqlite3_reset(stmt)
        bind(stmt)
        defer { sqlite3_reset(stmt) }
        let rc = sqlite3_step(stmt)
        guard rc == SQLITE_DONE || rc == SQLITE_ROW else {
            throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
        return rc
    }

    private static func inboxRow(_ find: Statement, _ id: Int64, is topic: String, _ hash: String, _ db: Database) throws -> Bool {
        try run(find, db) { stmt in
            sqlite3_bind_int64(stmt, 1, id)
            bind(stmt, 2, topic)
            bind(stmt, 3, hash)
        } == SQLITE_ROW
    }

    private static func insertInbox(_ insert: Statement, _ a: Arrival, _ hash: String, _ key: Int64, _ db: Database) throws {
        try run(insert, db) { stmt in
            bind(stmt, 1, a.topic)
            bind(stmt, 2, a.payload)
            bind(stmt, 3, hash)
            sqlite3_bind_int64(stmt, 4, a.arrivedAt.millis)
            sqlite3_bind_int64(stmt, 5, Int64(a.qos))
            sqlite3_bind_int64(stmt, 6, a.retain ? 1 : 0)
            sqlite3_bind_int64(stmt, 7, key)
        }
    }

    /// Inbox messages the pipeline has not processed yet, oldest first.
    public func unprocessed(limit: Int) throws -> [InboxMessage] {
        try pool.read { db in try Self.fetchUnprocessed(db, limit: limit) }
    }

    static func fetchUnprocessed(_ db: Database, after: Int64? = nil, limit: Int) throws -> [InboxMessage] {
        let after = try after ?? lastProcessed(db)
        return try Row.fetchAll(
            db.cachedStatement(sql: "SELECT \(inboxColumns("inbox")) FROM inbox WHERE id > ? ORDER BY id LIMIT ?"),
            arguments: [after, limit]
        ).map { inboxMessage($0) }
    }

    /// The columns `inboxMessage` reads, of the inbox under `alias`.
    static func inboxColumns(_ alias: String) -> String {
        "\(alias).id, \(alias).topic, \(alias).payload, \(alias).sha256, \(alias).arrived_at"
    }

    /// An inbox message from `inboxColumns`, starting at column `first`.
    static func inboxMessage(_ row: Row, from first: Int = 0) -> InboxMessage {
        var m = InboxMessage(id: row[first], topic: row[first + 1], payload: [UInt8](row[first + 2] as Data),
                             arrivedAt: Instant(millis: row[first + 4]), sha256: row[first + 3])
        // The head of a too-large payload, stored under the whole's hash.
        if m.payload.count == Limits.keptBytes, Digest.sha256Hex(m.payload) != m.sha256 {
            m.oversized = OversizedPayload(size: nil, sha256: m.sha256)
        }
        return m
    }

    static func lastProcessed(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT value FROM pipeline_state WHERE key = 'last_inbox_id'") ?? 0
    }

    // MARK: Pipeline

    /// Where the pipeline stood at the last commit: open incidents, case
    /// numbering and each party's history of the last `historyDays`.
    public func restorePoint(historyDays: Double) throws -> PipelineRestorePoint {
        try pool.read { db in
            var point = PipelineRestorePoint(clock: try Int64.fetchOne(
                db, sql: "SELECT value FROM pipeline_state WHERE key = 'clock_ms'").map(Instant.init(millis:)))
            let horizon = (point.clock ?? Instant(millis: 0)).adding(seconds: -historyDays * 86_400)
            let rows = try Row.fetchAll(db, sql: """
                SELECT case_id, rule, subject_kind, subject_id, first_seen, last_seen FROM cases ORDER BY case_id
                """)
            for row in rows {
                let caseId: String = row[0]
                let subject = Subject(kind: row[2], id: row[3])
                let lastSeen = Instant(millis: row[5])
                let key = IncidentBook.key(rule: row[1], subject: subject)
                if lastSeen >= (point.openIncidents[key]?.lastSeen ?? Instant(millis: .min)) {
                    point.openIncidents[key] = OpenIncident(caseId: caseId, lastSeen: lastSeen)
                }
                let parts = caseId.split(separator: "-")
                if parts.count == 3, let n = Int(parts[2]) {
                    point.caseNumbers[String(parts[1])] = max(point.caseNumbers[String(parts[1])] ?? 0, n)
                }
                let firstSeen = Instant(millis: row[4])
                if firstSeen >= horizon { point.partyHistory[IncidentBook.party(subject), default: []].append(firstSeen) }
            }
            point.lastInboxId = try Self.lastProcessed(db)
            if let resume = try Int64.fetchOne(db, sql: "SELECT value FROM pipeline_state WHERE key = 'track_resume_inbox_id'") {
                point.resumeFixes = try Self.truckFixes(from: resume, through: point.lastInboxId, db)
            }
            if let row = try Row.fetchOne(db, sql: "SELECT inbox_id, state FROM pipeline_snapshot WHERE id = 1") {
                point.snapshot = (row[0], [UInt8](row[1] as Data))
            }
            return point
        }
    }

    /// Tracker fixes already processed, in processing order.
    static func truckFixes(from first: Int64, through last: Int64, _ db: Database) throws -> [(inboxId: Int64, telemetry: TruckTelemetry)] {
        try Row.fetchAll(db, sql: """
            SELECT inbox_id, device, ts, plate, lat, lon, speed_kmh, heading_deg, cover, load, load_kg, body, seq, late, marks
            FROM truck_telemetry WHERE inbox_id BETWEEN ? AND ? ORDER BY inbox_id, part
            """, arguments: [first, last]).map { ($0[0], truckTelemetry($0, from: 1)) }
    }

    /// A fix from the columns `device, ts, plate, lat, lon, speed_kmh,
    /// heading_deg, cover, load, load_kg, body, seq, late, marks` of
    /// truck_telemetry, starting at column `first`.
    static func truckTelemetry(_ r: Row, from first: Int) -> TruckTelemetry {
        var t = TruckTelemetry(device: r[first], ts: Instant(millis: r[first + 1]), plate: r[first + 2], lat: r[first + 3],
                               lon: r[first + 4], speedKmh: r[first + 5], headingDeg: r[first + 6],
                               cover: CoverState(rawValue: r[first + 7]) ?? .unknown,
                               load: LoadState(rawValue: r[first + 8]) ?? .unknown, loadKg: r[first + 9],
                               body: BodyState(rawValue: r[first + 10]) ?? .unknown, seq: r[first + 11])
        t.late = r[first + 12]
        t.marks = r[first + 13]
        return t
    }

    /// Messages the pipeline processed already, after `after` up to
    /// `through`, oldest first, at most `limit`: what a restart catches up on
    /// after its state snapshot.
    public func processedMessages(after: Int64, through: Int64, limit: Int) throws -> [InboxMessage] {
        try pool.read { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT \(Self.inboxColumns("inbox")) FROM inbox WHERE id > ? AND id <= ? ORDER BY id LIMIT ?
                """), arguments: [after, through, limit]).map { Self.inboxMessage($0) }
        }
    }

    /// The next messages the pipeline has not processed, oldest first (empty
    /// when none): from the handoff when it continues where the pipeline
    /// stopped, else from the inbox. The pipeline is the only writer of
    /// `last_inbox_id`, so the position read here is current.
    public func pendingBatch(limit: Int) throws -> [InboxMessage] {
        try pool.read { db in
            let after = try Self.lastProcessed(db)
            return try handoff.withLock { $0.take(after: after, limit: limit) }
                ?? Self.fetchUnprocessed(db, after: after, limit: limit)
        }
    }

    /// Commits everything one batch produced, and the position it reached,
    /// in one transaction; returns the alert lines to write (already stored,
    /// not yet logged). A lookup the rules made during the batch that failed
    /// fails the commit instead (see `lookupFailure`): the rules saw
    /// "nothing known" where the store could not answer.
    public func commit(_ outcome: BatchOutcome, clock: Instant?) throws -> CommittedBatch {
        if let failure = lookupFailure.withLock({ f in defer { f = nil }; return f }) {
            throw StoreError(.lookupFailed, action: "a lookup for the rules failed during the batch; it is not committed", underlying: failure)
        }
        return try pool.write { db in
            let applied = try Self.apply(outcome, clock: clock, db)
            return CommittedBatch(alerts: applied.alerts, ledgerHead: applied.head)
        }
    }
}

extension SQLiteStore {
    /// See `Checkpointer.betweenBatches`.
    public func betweenBatches() { checkpointer?.betweenBatches() }
}

/// Checkpoints the WAL from a connection of its own: PASSIVE four times a
/// second from a timer thread, and, past a limit, a RESTART between the
/// pipeline's batches.
///
/// PASSIVE checkpoints never wait for, nor block, readers or the writer.
/// Under a load that never pauses, though, the WAL never starts over: that
/// takes a commit that begins when everything is copied back and no reader
/// holds an old snapshot. At 5 000 msg/s the daemon commits a burst every
/// fraction of a millisecond, each rewriting a few whole pages, and the WAL
/// grew by about 100 MB/s: 1.8–3 GB in the ingest benchmark (`muckwatch
/// bench`), 1.19 GB against a 162 MB database in a longer run.
///
/// A RESTART checkpoint makes the moment: it holds writers back while it
/// copies what is left and syncs the database, then lets the next commit
/// write the WAL from its start. From this timer it mostly failed, or held
/// writers back for long, because the pipeline's reads (its snapshots) kept
/// it waiting: a RESTART past 64 MB with SQLite's 10 s wait raised the
/// publish→alert p99 from 5–11 ms to 44–113 ms, and one that did not wait for
/// readers never succeeded. So past half of `limitFrames` the pipeline runs
/// it between batches (`betweenBatches`), when it holds no snapshot: a
/// PASSIVE first copies nearly everything without holding anyone back, then
/// a RESTART that waits neither for the writer nor for readers copies the
/// rest. Writers are held back for that rest and two fsyncs (7–9 ms here),
/// the pipeline for both steps (5–30 ms); at 5 000 msg/s it runs a few times
/// a second. In the benchmark the WAL stayed under 62 MB and ingest kept its
/// pace, but the publish→alert p99 rose to 58–164 ms on a shared machine
/// (unbounded there: 4–50 ms). Replay (`restartOnTimer`) also keeps the
/// timer's RESTART past `limitFrames`.
///
/// A WAL that has started over keeps its size on disk. Once nothing has
/// been written for `idleSeconds`, a TRUNCATE checkpoint copies everything
/// back and gives the space back, waiting for readers at most 10 ms (tried
/// again at the next tick).
private final class Checkpointer: Sendable {
    private let queue: DatabaseQueue
    private let stop = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)
    /// The WAL's frames after the latest commit.
    private let frames: WALFrames
    /// Past this many frames, `betweenBatches` lets the WAL start over.
    private let startOverFrames: Int
    /// When `betweenBatches` last checkpointed, on the monotonic clock.
    private let lastStartOver = Atomic<UInt64>(0)
    /// 16 384 frames: 64 MB of WAL with 4 KB pages.
    static let limitFrames = 16_384
    static let idleSeconds = 2.0
    /// At most one start-over in this many seconds, however short the batches.
    static let startOverInterval = 0.05

    init(path: String, limitFrames: Int, restartOnTimer: Bool, walFrames: WALFrames) throws {
        frames = walFrames
        startOverFrames = limitFrames / 2
        var config = Configuration()
        config.busyMode = .timeout(10)
        queue = try DatabaseQueue(path: path, configuration: config)
        let idleTicks = Int(Self.idleSeconds / 0.25)
        let thread = Thread { [queue, stop, stopped] in
            var lastFrames = -1
            var unchanged = 0
            while stop.wait(timeout: .now() + 0.25) == .timedOut {
                _ = try? queue.writeWithoutTransaction { db in
                    let (walFrames, _) = try db.checkpoint(.passive)
                    unchanged = walFrames == lastFrames ? unchanged + 1 : 0
                    lastFrames = walFrames
                    // A WAL only starts over when the next commit is written,
                    // so an idle one still counts its frames: idleness first.
                    if walFrames > 0 && unchanged >= idleTicks {
                        try Self.briefly(db, waitMs: 10) { _ = try db.checkpoint(.truncate) }
                        lastFrames = 0
                    } else if restartOnTimer, walFrames > limitFrames {
                        _ = try db.checkpoint(.restart)
                    }
                }
            }
            stopped.signal()
        }
        thread.name = "store checkpoints"
        thread.start()
    }

    /// Lets the WAL start over when it has grown past `startOverFrames`;
    /// called on the pipeline's thread between batches, when it holds no
    /// snapshot (see the type's comment).
    func betweenBatches() {
        guard frames.value.load(ordering: .relaxed) > startOverFrames else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard now &- lastStartOver.load(ordering: .relaxed) > UInt64(Self.startOverInterval * 1e9) else { return }
        lastStartOver.store(now, ordering: .relaxed)
        _ = try? queue.writeWithoutTransaction { db in
            let (walFrames, copied) = try db.checkpoint(.passive)
            // Frames a reader still needs: the RESTART would only fail.
            guard copied == walFrames else { return }
            try Self.briefly(db, waitMs: 0) { _ = try db.checkpoint(.restart) }
        }
    }

    /// Runs a checkpoint that holds writers back while it waits for readers
    /// (RESTART, TRUNCATE), waiting at most `waitMs`: a busy reader or
    /// writer makes it fail with SQLITE_BUSY, and it is tried again later.
    private static func briefly(_ db: Database, waitMs: Int, _ checkpoint: () throws -> Void) throws {
        try db.execute(sql: "PRAGMA busy_timeout = \(waitMs)")
        defer { try? db.execute(sql: "PRAGMA busy_timeout = 10000") }
        try checkpoint()
    }

    deinit {
        stop.signal()
        stopped.wait()
        // A last full checkpoint, so a stopped daemon leaves a small WAL.
        _ = try? queue.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
    }
}

/// How many frames the WAL holds, as SQLite reports after each commit (its
/// WAL hook, which `wal_autocheckpoint` would otherwise use), so that the
/// pipeline knows without asking whether the WAL should start over.
final class WALFrames: Sendable {
    let value = Atomic<Int>(0)

    /// The hook's context is this object, unretained: the pool's
    /// configuration holds the closure that installs it, and so this object,
    /// for as long as the connections live.
    func count(commitsOf db: Database) {
        sqlite3_wal_hook(db.sqliteConnection, { context, _, _, frames in
            guard let context else { return SQLITE_OK }
            Unmanaged<WALFrames>.fromOpaque(context).takeUnretainedValue().value.store(Int(frames), ordering: .relaxed)
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }
}

/// An alert as stored, with its log line.
public struct StoredAlert: Sendable, Equatable {
    public var alertId: String
    public var line: String
}

extension SQLiteStore: EventLedger {
    public func contains(sourceKind: String, source: String, eventId: String, before: Int64?) -> Bool {
        lookup(false) {
            try pool.read { db in
                try Bool.fetchOne(db.cachedStatement(sql: """
                    SELECT EXISTS (SELECT 1 FROM site_events WHERE source_kind = ? AND source = ? AND event_id = ? AND inbox_id < ?)
                    """), arguments: [sourceKind, source, eventId, before ?? Int64.max]) ?? false
            }
        }
    }

    /// The answer of a lookup for the rules, or `fallback` with the failure
    /// kept for `commit` to report.
    func lookup<T>(_ fallback: T, _ read: () throws -> T) -> T {
        do {
            return try read()
        } catch {
            lookupFailure.withLock { if $0 == nil { $0 = error } }
            return fallback
        }
    }
}
