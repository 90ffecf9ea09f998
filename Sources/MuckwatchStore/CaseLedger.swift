import Foundation
import GRDB
import MuckwatchCore

/// A position in the case ledger: how many facts it holds and the hash that
/// covers all of them.
public struct LedgerHead: Sendable, Equatable, CustomStringConvertible {
    public var seq: Int64
    public var head: String

    public init(seq: Int64, head: String) {
        self.seq = seq
        self.head = head
    }

    public var description: String { "\(seq):\(head)" }
}

/// The case ledger (`case_ledger`): one hash chain over every fact a case
/// records — its opening facts, each candidate, each status move with who,
/// when and why, each evidence row (with the SHA-256 of the message's original
/// bytes), and what demuxing each evidence clip found (with the file's
/// SHA-256). A fact's hash is taken over the row as the store holds it, read
/// back after it is written, so that `verify` recomputes exactly the same text
/// from the same row; each head covers the previous head and the fact.
///
/// A chain inside the file cannot show that its newest facts were cut off, or
/// the whole file rewritten: the head is also written outside the store, on
/// the incident's alert line and in the heads file (`ChainHeads`).
enum CaseLedger {
    enum Fact: String, CaseIterable {
        case opened, candidate, status, evidence, clip

        /// The columns a fact covers, `ref` first; `WHERE ref = ?` selects one.
        /// `cases.status` and `cases.last_seen` are not among the opening
        /// facts: they move, and the status and evidence facts cover them.
        var select: String {
            switch self {
            case .opened:
                """
                SELECT * FROM (SELECT rowid AS ref, case_id, rule, severity, legal_basis, penalty, subject_kind, subject_id,
                  plate, company, lat, lon, first_seen, created_at, verify_by, suggested_action, prior_incidents, summary
                  FROM cases)
                """
            case .candidate:
                """
                SELECT * FROM (SELECT rowid AS ref, case_id, rank, device, plate, company, distance_m, passed_at, lat, lon
                  FROM case_candidates)
                """
            case .status:
                "SELECT * FROM (SELECT id AS ref, case_id, status, actor, os_user, at, note FROM case_status_history)"
            case .evidence:
                """
                SELECT * FROM (SELECT id AS ref, case_id, kind, source, ts, sha256, inbox_id, clip_url, frame_offset_s, last_seen
                  FROM evidence)
                """
            case .clip:
                """
                SELECT * FROM (SELECT inbox_id AS ref, url, status, reason, file_sha256, format_name, duration_s, clock_source,
                  target_s, frame_pts, frame_s, frame_wall, keyframe_pts, keyframe_s, keyframe_wall, track_points,
                  untrusted_samples FROM video_analyses)
                """
            }
        }
    }

    /// The canonical text of a fact: its kind, the case, then the row's
    /// columns after `ref` in order, as JSON (nulls left out).
    /// `columns` are the row's column names (`Array(row.columnNames)`),
    /// given by a caller that reads many rows of one statement.
    static func text(_ fact: Fact, caseId: String, row: Row, columns: [String]? = nil) -> String {
        let columns = columns ?? Array(row.columnNames)
        var line = JSONLine()
        line.add("fact", fact.rawValue)
        line.add("case", caseId)
        for i in 1..<columns.count {
            let column = columns[i]
            let value: DatabaseValue = row[i]
            switch value.storage {
            case .null: continue
            case .int64(let v): line.add(column, Int(v))
            case .double(let v): line.add(column, v)
            case .string(let v): line.add(column, v)
            case .blob(let v): line.add(column, Hex.string(v))
            }
        }
        return line.text
    }

    static func factHash(_ fact: Fact, caseId: String, row: Row, columns: [String]? = nil) -> String {
        Digest.sha256Hex(text(fact, caseId: caseId, row: row, columns: columns))
    }

    static func nextHead(after previous: String?, factSHA256: String) -> String {
        Digest.sha256Hex((previous ?? "") + "\n" + factSHA256)
    }

    static func newest(_ db: Database) throws -> LedgerHead? {
        try Row.fetchOne(db, sql: "SELECT seq, head FROM case_ledger ORDER BY seq DESC LIMIT 1")
            .map { LedgerHead(seq: $0[0], head: $0[1]) }
    }

    /// Appends facts within one transaction.
    struct Writer {
        private(set) var last: LedgerHead?

        init(_ db: Database) throws {
            last = try CaseLedger.newest(db)
        }

        /// Chains the row `ref` of `fact` (already written in this
        /// transaction) to case `caseId`.
        @discardableResult
        mutating func append(_ fact: Fact, caseId: String, ref: Int64, _ db: Database) throws -> LedgerHead {
            guard let row = try Row.fetchOne(db.cachedStatement(sql: fact.select + " WHERE ref = ?"), arguments: [ref]) else {
                throw StoreError(.ledger, action: "cannot chain the \(fact.rawValue) fact of case \(caseId)",
                                 underlying: CaseMoveError(.rowMissing, "row \(ref) was not found"))
            }
            let factSHA = CaseLedger.factHash(fact, caseId: caseId, row: row)
            let head = LedgerHead(seq: (last?.seq ?? 0) + 1, head: CaseLedger.nextHead(after: last?.head, factSHA256: factSHA))
            try db.cachedStatement(sql: """
                INSERT INTO case_ledger (seq, case_id, fact, ref, fact_sha256, head) VALUES (?, ?, ?, ?, ?, ?)
                """).execute(arguments: [head.seq, caseId, fact.rawValue, ref, factSHA, head.head])
            last = head
            return head
        }

        /// Chains the analysis of `inboxId`'s clip to every case that has the
        /// message as evidence and has not chained it yet.
        mutating func appendClip(inboxId: Int64, _ db: Database) throws {
            let cases = try String.fetchAll(db, sql: """
                SELECT DISTINCT e.case_id FROM evidence e JOIN video_analyses v ON v.inbox_id = e.inbox_id
                WHERE e.inbox_id = ? AND NOT EXISTS (
                  SELECT 1 FROM case_ledger l WHERE l.fact = 'clip' AND l.ref = e.inbox_id AND l.case_id = e.case_id)
                ORDER BY e.case_id
                """, arguments: [inboxId])
            for caseId in cases { try append(.clip, caseId: caseId, ref: inboxId, db) }
        }
    }

    /// Chains what a store held before the ledger existed, case by case in
    /// the order they were opened.
    static func chainExisting(_ db: Database) throws {
        var writer = try Writer(db)
        let cases = try Row.fetchAll(db, sql: "SELECT rowid, case_id FROM cases ORDER BY created_at, rowid")
        for c in cases {
            let caseId: String = c[1]
            try writer.append(.opened, caseId: caseId, ref: c[0], db)
            for ref in try Int64.fetchAll(db, sql: "SELECT rowid FROM case_candidates WHERE case_id = ? ORDER BY rank", arguments: [caseId]) {
                try writer.append(.candidate, caseId: caseId, ref: ref, db)
            }
            for ref in try Int64.fetchAll(db, sql: "SELECT id FROM case_status_history WHERE case_id = ? ORDER BY id", arguments: [caseId]) {
                try writer.append(.status, caseId: caseId, ref: ref, db)
            }
            for row in try Row.fetchAll(db, sql: "SELECT id, inbox_id FROM evidence WHERE case_id = ? ORDER BY id", arguments: [caseId]) {
                try writer.append(.evidence, caseId: caseId, ref: row[0], db)
                try writer.appendClip(inboxId: row[1], db)
            }
        }
    }
}

/// The heads file: the ledger's head written outside the store at every
/// append, one JSON line each, beside the alert log. `muckwatch verify`
/// checks the store against the newest head it finds here, so a store cut
/// back or rewritten is found even though its own chain is consistent.
public struct ChainHeads: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// `chain-heads.jsonl` in the alert log's folder.
    public init(besideAlertLog alertLog: String) {
        let dir = (alertLog as NSString).deletingLastPathComponent
        path = dir.isEmpty ? "chain-heads.jsonl" : dir + "/chain-heads.jsonl"
    }

    public struct Entry: Sendable, Equatable {
        public var head: LedgerHead
        /// The line it was read from (1-based).
        public var line: Int
    }

    /// Appends a head: one `write` on a file opened with `O_APPEND`, created
    /// 0640.
    public func append(_ head: LedgerHead, caseId: String?, at: Instant) throws {
        var line = JSONLine()
        line.add("seq", Int(head.seq))
        line.add("head", head.head)
        line.add("case_id", caseId)
        line.add("at", RFC3339.format(at, offsetSeconds: 0))
        try AppendOnlyFile.append(Array((line.text + "\n").utf8), to: path)
    }

    /// Every head the file holds, in file order; empty when there is no file.
    public func read() throws -> [Entry] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        var entries: [Entry] = []
        for (i, line) in data.split(separator: 0x0a, omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            entries.append(Entry(head: try head(line, lineNumber: i + 1), line: i + 1))
        }
        return entries
    }

    /// The newest head, read from the file's end only (the daemon's start
    /// needs no more, and the file grows for as long as the store lives);
    /// its `line` counts from the end (-1: the last line).
    public func newest() throws -> Entry? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size > 4096 ? size - 4096 : 0)
        let tail = try handle.readToEnd() ?? Data()
        guard let line = tail.split(separator: 0x0a).last else { return nil }
        return Entry(head: try head(line, lineNumber: -1), line: -1)
    }

    private func head(_ line: Data.SubSequence, lineNumber: Int) throws -> LedgerHead {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
              let seq = (object["seq"] as? NSNumber)?.int64Value, let head = object["head"] as? String else {
            throw ChainHeadsError(description: "\(path), line \(lineNumber == -1 ? "last" : String(lineNumber)): not a chain head line")
        }
        return LedgerHead(seq: seq, head: head)
    }
}

public struct ChainHeadsError: Error, CustomStringConvertible {
    public var description: String
}

/// Appends to files the operators and `verify` read: opened with `O_APPEND`
/// each time, so a copytruncate by logrotate, or another writer, never leaves
/// a hole, and created 0640 whatever the umask.
enum AppendOnlyFile {
    static func openForAppend(_ path: String) throws -> Int32 {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path,
                                                               NSLocalizedDescriptionKey: String(cString: strerror(errno))])
        }
        return fd
    }

    static func append(_ bytes: [UInt8], to path: String) throws {
        let fd = try openForAppend(path)
        defer { close(fd) }
        try write(bytes, to: fd, path: path)
    }

    /// Writes all of `bytes`, or none: a full disk can take the first part
    /// of a line and refuse the rest, and a caller that tries again once
    /// there is space would leave the part behind a torn line. The part is
    /// cut off again, unless another writer appended since (then the file is
    /// not touched). The error carries the system's code (`POSIXError`
    /// under `NSUnderlyingErrorKey`), so callers can tell a full disk.
    static func write(_ bytes: [UInt8], to fd: Int32, path: String) throws {
        var offset = 0
        var start = stat()
        let startKnown = fstat(fd, &start) == 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                let code = errno
                if code == EINTR { continue }
                var now = stat()
                if offset > 0, startKnown, fstat(fd, &now) == 0, now.st_size == start.st_size + off_t(offset) {
                    _ = ftruncate(fd, start.st_size)
                }
                throw CocoaError(.fileWriteUnknown, userInfo: [
                    NSFilePathErrorKey: path,
                    NSLocalizedDescriptionKey: String(cString: strerror(code)),
                    NSUnderlyingErrorKey: POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO),
                ])
            }
            offset += n
        }
    }
}

extension SQLiteStore {
    /// The case ledger's newest head; nil while it is empty.
    public func ledgerHead() throws -> LedgerHead? {
        try pool.read { db in try CaseLedger.newest(db) }
    }

    /// The head at `seq`; nil if the ledger is shorter.
    public func ledgerHead(at seq: Int64) throws -> LedgerHead? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT seq, head FROM case_ledger WHERE seq = ?", arguments: [seq])
                .map { LedgerHead(seq: $0[0], head: $0[1]) }
        }
    }
}
