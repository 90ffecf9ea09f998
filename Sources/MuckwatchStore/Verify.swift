import Crypto
import Foundation
import GRDB
import MuckwatchCore

/// What `muckwatch verify` checks and where it looks outside the store.
public struct VerifyOptions: Sendable {
    /// Only this case's rows are re-derived (the whole chain is still walked).
    public var caseId: String?
    /// The heads file to hold the store against; nil: do not (`--no-heads`).
    public var heads: ChainHeads?
    /// An alert log whose `chain` fields are held against the store.
    public var alertLog: String?

    public init(caseId: String? = nil, heads: ChainHeads? = nil, alertLog: String? = nil) {
        self.caseId = caseId
        self.heads = heads
        self.alertLog = alertLog
    }
}

/// What a verification went through.
public struct VerifyReport: Sendable, Equatable {
    public var cases = 0
    public var candidates = 0
    public var statusMoves = 0
    public var evidence = 0
    public var clips = 0
    public var clipFilesRehashed = 0
    public var clipFilesAbsent = 0
    public var head: LedgerHead?
    /// The newest head found outside the store, and where.
    public var newestOutside: (head: LedgerHead, whereFound: String)?
    /// Chain heads named by alert lines, all found in the store.
    public var alertLineHeads = 0

    public static func == (a: VerifyReport, b: VerifyReport) -> Bool {
        a.summary == b.summary
    }

    /// `verified 12 cases, 30 evidence rows, ... chain head 57:ab12…`.
    public var summary: String {
        var parts = ["verified \(cases) case\(cases == 1 ? "" : "s")", "\(evidence) evidence row\(evidence == 1 ? "" : "s") (original bytes re-hashed)",
                     "\(statusMoves) status move\(statusMoves == 1 ? "" : "s")", "\(candidates) candidate\(candidates == 1 ? "" : "s")"]
        if clips > 0 {
            parts.append("\(clips) clip analys\(clips == 1 ? "is" : "es") (\(clipFilesRehashed) file\(clipFilesRehashed == 1 ? "" : "s") re-hashed, \(clipFilesAbsent) no longer present)")
        }
        var text = parts.joined(separator: ", ")
        if let head {
            text += ", chain head \(head)"
            if let outside = newestOutside {
                text += outside.head.seq == head.seq
                    ? " (matches \(outside.whereFound))"
                    : " (\(head.seq - outside.head.seq) fact(s) newer than the newest head outside the store, \(outside.head.seq) in \(outside.whereFound))"
            }
        } else {
            text += ", the case ledger is empty"
        }
        if alertLineHeads > 0 { text += "; \(alertLineHeads) alert line head(s) found in the chain" }
        return text
    }
}

/// The first broken item, named for the person who has to look at it.
public struct VerifyFailure: Error, CustomStringConvertible {
    public var description: String
}

/// `muckwatch verify`: recomputes the case ledger (`CaseLedger`) from the
/// rows it covers, re-hashes each evidence message's original bytes in the
/// inbox and each clip file still present, checks that every case's status
/// and last_seen are what its chained facts say, and holds the chain against
/// the heads written outside the store (the heads file and the alert lines).
/// It opens the store read-only.
public enum StoreVerifier {
    public static func verify(path: String, options: VerifyOptions) throws -> VerifyReport {
        guard FileManager.default.fileExists(atPath: path) else {
            throw VerifyFailure(description: "there is no store at \(path)")
        }
        var config = Configuration()
        config.readonly = true
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: config)
        } catch {
            throw StoreError(action: "cannot open the store \(path) read-only", underlying: error)
        }
        // What is outside the store is read first: heads are written after
        // their commit, so every head read now is in the snapshot read next,
        // even while the daemon goes on writing.
        let headEntries: [ChainHeads.Entry]?
        do {
            headEntries = try options.heads?.read()
        } catch {
            throw VerifyFailure(description: "\(error)")
        }
        let alertLines = try options.alertLog.flatMap { path in
            FileManager.default.fileExists(atPath: path) ? try Data(contentsOf: URL(fileURLWithPath: path)) : nil
        }
        return try queue.read { db in
            guard try db.tableExists("case_ledger") else {
                throw VerifyFailure(description: """
                    \(path) has no case ledger (its schema is older than this version's): start this version's muckwatchd \
                    on it once, which chains what it holds
                    """)
            }
            var walk = Walk(caseId: options.caseId)
            try walk.chain(db)
            try walk.rows(db)
            if let caseId = options.caseId, walk.report.cases == 0 {
                throw VerifyFailure(description: "there is no case \(caseId) in \(path); `muckwatch cases list` shows the ids")
            }
            try walk.caseStates(db)
            if let heads = options.heads, let headEntries { try walk.outside(heads: heads, entries: headEntries) }
            if let alertLog = options.alertLog, let alertLines { try walk.alertLines(alertLines, path: alertLog) }
            return walk.report
        }
    }

    private struct Entry {
        var seq: Int64
        var caseId: String
        var factSHA256: String
    }

    private struct Walk {
        let caseId: String?
        var report = VerifyReport()
        /// Chained facts not yet matched with their row, by fact and ref.
        var pending: [CaseLedger.Fact: [Int64: [Entry]]] = [:]
        var headsBySeq: [LedgerHead] = []
        var seqOfHead: [String: Int64] = [:]

        init(caseId: String?) { self.caseId = caseId }

        func wanted(_ id: String) -> Bool { caseId == nil || caseId == id }

        /// Recomputes every head from the facts' hashes.
        mutating func chain(_ db: Database) throws {
            let cursor = try Row.fetchCursor(db, sql: "SELECT seq, case_id, fact, ref, fact_sha256, head FROM case_ledger ORDER BY seq")
            var previous: String?
            var expected: Int64 = 1
            while let row = try cursor.next() {
                let seq: Int64 = row[0]
                let caseId: String = row[1]
                guard seq == expected else {
                    throw VerifyFailure(description: "case ledger: entry \(expected) is missing (the next is \(seq)): facts were removed")
                }
                guard let fact = CaseLedger.Fact(rawValue: row[2]) else {
                    throw VerifyFailure(description: "case ledger entry \(seq) (case \(caseId)): unknown fact '\(row[2] as String)'")
                }
                let factSHA: String = row[4]
                let head: String = row[5]
                guard CaseLedger.nextHead(after: previous, factSHA256: factSHA) == head else {
                    throw VerifyFailure(description: "case \(caseId): ledger entry \(seq) (\(fact.rawValue)): its head does not follow from the one before: the chain was rewritten")
                }
                if wanted(caseId) {
                    pending[fact, default: [:]][row[3], default: []].append(Entry(seq: seq, caseId: caseId, factSHA256: factSHA))
                }
                headsBySeq.append(LedgerHead(seq: seq, head: head))
                seqOfHead[head] = seq
                previous = head
                expected += 1
            }
            report.head = headsBySeq.last
        }

        /// Takes the chained entry of a row, or says what is wrong with it.
        mutating func match(_ fact: CaseLedger.Fact, ref: Int64, caseId: String, row: Row, name: () -> String) throws {
            guard var entries = pending[fact]?[ref],
                  let i = entries.firstIndex(where: { $0.caseId == caseId }) else {
                throw VerifyFailure(description: "case \(caseId): \(name()): not in the case ledger (added, or moved to another case, after it was written)")
            }
            let entry = entries.remove(at: i)
            pending[fact]?[ref] = entries.isEmpty ? nil : entries
            guard CaseLedger.factHash(fact, caseId: caseId, row: row) == entry.factSHA256 else {
                throw VerifyFailure(description: "case \(caseId): \(name()): changed since it was written (ledger entry \(entry.seq) no longer matches the row)")
            }
        }

        mutating func rows(_ db: Database) throws {
            let filter = caseId == nil ? "" : " WHERE case_id = ?"
            let arguments: StatementArguments = caseId.map { [$0] } ?? []

            let opened = try Row.fetchCursor(db, sql: CaseLedger.Fact.opened.select + filter, arguments: arguments)
            while let row = try opened.next() {
                let id: String = row["case_id"]
                try match(.opened, ref: row["ref"], caseId: id, row: row) { "its opening facts (rule, subject, place, times, summary, legal basis)" }
                report.cases += 1
            }
            let candidates = try Row.fetchCursor(db, sql: CaseLedger.Fact.candidate.select + filter, arguments: arguments)
            while let row = try candidates.next() {
                let rank: Int = row["rank"]
                try match(.candidate, ref: row["ref"], caseId: row["case_id"], row: row) { "candidate \(rank)" }
                report.candidates += 1
            }
            var moves: [String: Int] = [:]
            let statuses = try Row.fetchCursor(db, sql: CaseLedger.Fact.status.select + filter + " ORDER BY ref", arguments: arguments)
            while let row = try statuses.next() {
                let id: String = row["case_id"]
                moves[id, default: 0] += 1
                let n = moves[id]!
                try match(.status, ref: row["ref"], caseId: id, row: row) {
                    "status move \(n) (\(row["status"] as String? ?? "?") by \(row["actor"] as String? ?? "?"))"
                }
                report.statusMoves += 1
            }
            var ordinal: [String: Int] = [:]
            let payload = try db.makeStatement(sql: "SELECT payload FROM inbox WHERE id = ?")
            let evidence = try Row.fetchCursor(db, sql: CaseLedger.Fact.evidence.select + filter + " ORDER BY ref", arguments: arguments)
            while let row = try evidence.next() {
                let id: String = row["case_id"]
                ordinal[id, default: 0] += 1
                let n = ordinal[id]!
                try match(.evidence, ref: row["ref"], caseId: id, row: row) { "evidence \(n)" }
                let inboxId: Int64 = row["inbox_id"]
                let sha: String = row["sha256"]
                guard let bytes = try Data.fetchOne(payload, arguments: [inboxId]) else {
                    throw VerifyFailure(description: "case \(id): evidence \(n): its original message (inbox \(inboxId)) is gone from the inbox")
                }
                let actual = Digest.sha256Hex(bytes)
                guard actual == sha else {
                    throw VerifyFailure(description: "case \(id): evidence \(n): original bytes (inbox \(inboxId)) do not match sha256 \(sha) (they hash to \(actual))")
                }
                report.evidence += 1
            }
            let clip = try db.makeStatement(sql: CaseLedger.Fact.clip.select + " WHERE ref = ?")
            for (ref, entries) in pending[.clip] ?? [:] {
                for entry in entries {
                    guard let row = try Row.fetchOne(clip, arguments: [ref]) else { continue }   // reported below as gone
                    try match(.clip, ref: ref, caseId: entry.caseId, row: row) { "the analysis of the clip of inbox \(ref)" }
                    report.clips += 1
                    try rehashClip(caseId: entry.caseId, inboxId: ref, row: row)
                }
            }
            // What the chain holds and no row answered: deleted rows.
            for fact in CaseLedger.Fact.allCases {
                if let entry = (pending[fact] ?? [:]).values.joined().min(by: { $0.seq < $1.seq }) {
                    throw VerifyFailure(description: "case \(entry.caseId): a \(fact.rawValue) fact (ledger entry \(entry.seq)) is chained but its row is gone (deleted)")
                }
            }
        }

        mutating func rehashClip(caseId: String, inboxId: Int64, row: Row) throws {
            guard let expected: String = row["file_sha256"], let url: String = row["url"] else { return }
            let path: String
            if url.hasPrefix("file:") {
                guard let u = URL(string: url), u.isFileURL else { return }
                path = u.path
            } else if !url.contains("://") {
                path = url
            } else {
                return   // a network source: nothing to re-read
            }
            guard let handle = FileHandle(forReadingAtPath: path) else {
                report.clipFilesAbsent += 1
                return
            }
            defer { try? handle.close() }
            var hasher = SHA256()
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
            let actual = Hex.string(hasher.finalize())
            guard actual == expected else {
                throw VerifyFailure(description: "case \(caseId): clip \(path) (inbox \(inboxId)): the file does not match sha256 \(expected) recorded when it was demuxed (it hashes to \(actual))")
            }
            report.clipFilesRehashed += 1
        }

        /// A case's status is its last chained move, reached forward only;
        /// its last_seen is the latest its chained evidence set.
        mutating func caseStates(_ db: Database) throws {
            let filter = caseId == nil ? "" : " WHERE c.case_id = ?"
            let rows = try Row.fetchCursor(db, sql: """
                SELECT c.case_id, c.status, c.first_seen, c.last_seen,
                  (SELECT group_concat(status, ' ') FROM (SELECT status FROM case_status_history h WHERE h.case_id = c.case_id ORDER BY id)),
                  (SELECT max(last_seen) FROM evidence e WHERE e.case_id = c.case_id),
                  (SELECT count(*) FROM evidence e WHERE e.case_id = c.case_id AND e.last_seen IS NULL)
                FROM cases c
                """ + filter, arguments: caseId.map { [$0] } ?? [])
            while let row = try rows.next() {
                let id: String = row[0]
                let status: String = row[1]
                let moves = (row[4] as String? ?? "").split(separator: " ").map(String.init)
                guard moves.first == CaseStatus.draft.rawValue else {
                    throw VerifyFailure(description: "case \(id): its status history does not start with draft (\(moves.joined(separator: " → ")))")
                }
                for (from, to) in zip(moves, moves.dropFirst()) {
                    guard let f = CaseStatus(rawValue: from), let t = CaseStatus(rawValue: to), f.next.contains(t) else {
                        throw VerifyFailure(description: "case \(id): status history moves \(from) → \(to), which the procedure does not allow")
                    }
                }
                guard status == moves.last else {
                    throw VerifyFailure(description: "case \(id): status is \(status) but its last recorded move is to \(moves.last ?? "nothing")")
                }
                let legacy: Int = row[6]
                let firstSeen: Int64 = row[2]
                let lastSeen: Int64 = row[3]
                let chained = max(firstSeen, row[5] as Int64? ?? firstSeen)
                if legacy == 0 ? lastSeen != chained : lastSeen < chained {
                    throw VerifyFailure(description: "case \(id): last_seen is \(lastSeen) but its evidence says \(chained)")
                }
            }
        }

        /// Every head written outside the store must be in the store's chain
        /// at its place: a store cut back has fewer facts, a rewritten one
        /// other heads.
        mutating func outside(heads: ChainHeads, entries: [ChainHeads.Entry]) throws {
            guard let newest = entries.max(by: { $0.head.seq < $1.head.seq }) else {
                if let head = report.head {
                    throw VerifyFailure(description: """
                        no chain head outside the store: \(heads.path) is missing or empty, while the store's case ledger \
                        holds \(head.seq) facts; without it a store cut back or rewritten cannot be told (pass --heads FILE, \
                        or --no-heads to check the store's own chain only)
                        """)
                }
                return
            }
            for entry in entries {
                try check(entry.head, whereFound: "\(heads.path) line \(entry.line)")
            }
            report.newestOutside = (newest.head, "\(heads.path) line \(newest.line)")
        }

        func check(_ head: LedgerHead, whereFound: String) throws {
            let count = Int64(headsBySeq.count)
            guard head.seq <= count else {
                throw VerifyFailure(description: """
                    the store's case ledger ends at fact \(count), but \(whereFound) names head \(head.seq): \
                    \(head.seq - count) fact(s) were removed from the store
                    """)
            }
            guard head.seq >= 1, headsBySeq[Int(head.seq - 1)].head == head.head else {
                throw VerifyFailure(description: "\(whereFound) names head \(head) but the store's chain has another head there: the store was rewritten")
            }
        }

        /// Each alert line's `chain` field must be a head of the store's chain.
        mutating func alertLines(_ data: Data, path: String) throws {
            let key = Array("\"chain\":\"".utf8)
            var newest: (LedgerHead, Int)?
            for (i, line) in data.split(separator: 0x0a).enumerated() {
                guard let start = line.firstRange(of: key)?.upperBound, line.endIndex - start >= 64 else { continue }
                let head = String(decoding: line[start..<start + 64], as: UTF8.self)
                guard let seq = seqOfHead[head] else {
                    throw VerifyFailure(description: """
                        \(path) line \(i + 1) names chain head \(head), which the store's case ledger does not hold: \
                        the store was cut back or rewritten after that alert
                        """)
                }
                alertLineHeads += 1
                if newest.map({ seq > $0.0.seq }) ?? true { newest = (LedgerHead(seq: seq, head: head), i + 1) }
            }
            if let (head, line) = newest, head.seq > (report.newestOutside?.head.seq ?? 0) {
                report.newestOutside = (head, "\(path) line \(line)")
            }
        }

        var alertLineHeads: Int {
            get { report.alertLineHeads }
            set { report.alertLineHeads = newValue }
        }
    }
}
