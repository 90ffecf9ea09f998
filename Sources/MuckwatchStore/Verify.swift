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
public struct VerifyReport: Sendable {
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
            throw StoreError(.cannotOpen, action: "cannot open the store \(path) read-only", underlying: error)
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
        let alertHeads = try options.alertLog.map { path in
            FileManager.default.fileExists(atPath: path) ? try Self.chainFields(of: Data(contentsOf: URL(fileURLWithPath: path))) : []
        } ?? []
        return try queue.read { db in
            guard try db.tableExists("case_ledger") else {
                throw VerifyFailure(description: """
                    \(path) has no case ledger (its schema is older than this version's): start this version's muckwatchd \
                    on it once, which chains what it holds
                    """)
            }
            var walk = Walk(caseId: options.caseId, outside: headEntries ?? [], headsPath: options.heads?.path ?? "",
                            alertHeads: alertHeads, alertLog: options.alertLog ?? "")
            if let heads = options.heads, headEntries?.isEmpty ?? true, try CaseLedger.newest(db) != nil {
                throw VerifyFailure(description: """
                    no chain head outside the store: \(heads.path) is missing or empty, while the store's case ledger \
                    holds facts; without it a store cut back or rewritten cannot be told (pass --heads FILE, \
                    or --no-heads to check the store's own chain only)
                    """)
            }
            try walk.chain(db)
            try walk.rows(db)
            if let caseId = options.caseId, walk.report.cases == 0 {
                throw VerifyFailure(description: "there is no case \(caseId) in \(path); `muckwatch cases list` shows the ids")
            }
            try walk.caseStates(db)
            return walk.report
        }
    }

    private struct Entry {
        var seq: Int64
        var caseId: String
        var factSHA256: String
    }

    /// A clip analysis is chained once per case that holds it.
    private struct ClipKey: Hashable {
        var ref: Int64
        var caseId: String
    }

    /// The `chain` field of each alert line, with its line number.
    static func chainFields(of data: Data) -> [(head: String, line: Int)] {
        let key = Array("\"chain\":\"".utf8)
        var found: [(String, Int)] = []
        for (i, line) in data.split(separator: 0x0a, omittingEmptySubsequences: false).enumerated() {
            guard let start = line.firstRange(of: key)?.upperBound, line.endIndex - start >= 64 else { continue }
            found.append((String(decoding: line[start..<start + 64], as: UTF8.self), i + 1))
        }
        return found
    }

    private struct Walk {
        let caseId: String?
        var report = VerifyReport()
        /// Chained facts not yet matched with their row, by fact and ref.
        var pending: [CaseLedger.Fact: [Int64: Entry]] = [:]
        var pendingClips: [ClipKey: Entry] = [:]
        /// Heads written outside the store, by their place in the chain.
        let outside: [Int64: [ChainHeads.Entry]]
        let headsPath: String
        /// Heads named by alert lines: the first line naming each.
        var alertHeads: [String: Int]
        let alertLog: String
        var length: Int64 = 0

        init(caseId: String?, outside: [ChainHeads.Entry], headsPath: String, alertHeads: [(head: String, line: Int)],
             alertLog: String) {
            self.caseId = caseId
            self.outside = Dictionary(grouping: outside, by: \.head.seq)
            self.headsPath = headsPath
            self.alertHeads = [:]
            for (head, line) in alertHeads where self.alertHeads[head] == nil { self.alertHeads[head] = line }
            self.alertLog = alertLog
            if let newest = outside.max(by: { $0.head.seq < $1.head.seq }) {
                report.newestOutside = (newest.head, "\(headsPath) line \(newest.line)")
            }
        }

        func wanted(_ id: String) -> Bool { caseId == nil || caseId == id }

        /// Recomputes every head from the facts' hashes, and holds each
        /// against the heads written outside the store at its place.
        mutating func chain(_ db: Database) throws {
            let cursor = try Row.fetchCursor(db, sql: "SELECT seq, case_id, fact, ref, fact_sha256, head FROM case_ledger ORDER BY seq")
            var previous: String?
            var expected: Int64 = 1
            var newestAlert: (seq: Int64, head: String, line: Int)?
            while let row = try cursor.next() {
                let seq: Int64 = row[0]
                let caseId: String = row[1]
                guard seq == expected else {
                    throw VerifyFailure(description: "case ledger: entry \(expected) is missing (the next is \(seq)): facts were removed")
                }
                let factName: String = row[2]
                guard let fact = CaseLedger.Fact(rawValue: factName) else {
                    throw VerifyFailure(description: "case ledger entry \(seq) (case \(caseId)): unknown fact '\(factName)'")
                }
                let factSHA: String = row[4]
                let head: String = row[5]
                guard CaseLedger.nextHead(after: previous, factSHA256: factSHA) == head else {
                    throw VerifyFailure(description: "case \(caseId): ledger entry \(seq) (\(fact.rawValue)): its head does not follow from the one before: the chain was rewritten")
                }
                if wanted(caseId) {
                    let entry = Entry(seq: seq, caseId: caseId, factSHA256: factSHA)
                    if fact == .clip {
                        pendingClips[ClipKey(ref: row[3], caseId: caseId)] = entry
                    } else {
                        pending[fact, default: [:]][row[3]] = entry
                    }
                }
                for written in outside[seq] ?? [] where written.head.head != head {
                    throw VerifyFailure(description: "\(headsPath) line \(written.line) names head \(written.head) but the store's chain has another head there: the store was rewritten")
                }
                if let line = alertHeads.removeValue(forKey: head) {
                    report.alertLineHeads += 1
                    if newestAlert.map({ seq > $0.seq }) ?? true { newestAlert = (seq, head, line) }
                }
                previous = head
                expected += 1
            }
            length = expected - 1
            report.head = previous.map { LedgerHead(seq: length, head: $0) }
            if let (seq, written) = outside.filter({ $0.key > length }).min(by: { $0.key < $1.key }).map({ ($0.key, $0.value[0]) }) {
                throw VerifyFailure(description: """
                    the store's case ledger ends at fact \(length), but \(headsPath) line \(written.line) names head \(seq): \
                    \(seq - length) fact(s) were removed from the store
                    """)
            }
            if let (head, line) = alertHeads.min(by: { $0.value < $1.value }).map({ ($0.key, $0.value) }) {
                throw VerifyFailure(description: """
                    \(alertLog) line \(line) names chain head \(head), which the store's case ledger does not hold: \
                    the store was cut back or rewritten after that alert
                    """)
            }
            if let newestAlert, newestAlert.seq > (report.newestOutside?.head.seq ?? 0) {
                report.newestOutside = (LedgerHead(seq: newestAlert.seq, head: newestAlert.head), "\(alertLog) line \(newestAlert.line)")
            }
        }

        /// Takes the chained entry of a row, or says what is wrong with it.
        mutating func match(_ fact: CaseLedger.Fact, ref: Int64, caseId: String, row: Row, columns: [String],
                            name: () -> String) throws {
            let taken = fact == .clip ? pendingClips.removeValue(forKey: ClipKey(ref: ref, caseId: caseId))
                : pending[fact]?.removeValue(forKey: ref)
            guard let entry = taken, entry.caseId == caseId else {
                throw VerifyFailure(description: "case \(caseId): \(name()): not in the case ledger (added, or moved to another case, after it was written)")
            }
            guard CaseLedger.factHash(fact, caseId: caseId, row: row, columns: columns) == entry.factSHA256 else {
                throw VerifyFailure(description: "case \(caseId): \(name()): changed since it was written (ledger entry \(entry.seq) no longer matches the row)")
            }
        }

        mutating func rows(_ db: Database) throws {
            let filter = caseId == nil ? "" : " WHERE case_id = ?"
            let arguments: StatementArguments = caseId.map { [$0] } ?? []
            // Each fact's columns as `CaseLedger.Fact.select` lists them: ref
            // first, case_id second (but for clips).
            func scan(_ fact: CaseLedger.Fact, order: String = "", _ body: (Row, [String], String) throws -> Void) throws {
                let statement = try db.makeStatement(sql: fact.select + filter + order)
                let columns = statement.columnNames
                let cursor = try Row.fetchCursor(statement, arguments: arguments)
                while let row = try cursor.next() { try body(row, columns, row[1]) }
            }
            try scan(.opened) { row, columns, id in
                try match(.opened, ref: row[0], caseId: id, row: row, columns: columns) {
                    "its opening facts (rule, subject, place, times, summary, legal basis)"
                }
                report.cases += 1
            }
            try scan(.candidate) { row, columns, id in
                let rank: Int = row[2]
                try match(.candidate, ref: row[0], caseId: id, row: row, columns: columns) { "candidate \(rank)" }
                report.candidates += 1
            }
            var moves: [String: Int] = [:]
            try scan(.status, order: " ORDER BY ref") { row, columns, id in
                moves[id, default: 0] += 1
                let n = moves[id]!
                try match(.status, ref: row[0], caseId: id, row: row, columns: columns) {
                    "status move \(n) (\(row[2] as String? ?? "?") by \(row[3] as String? ?? "?"))"
                }
                report.statusMoves += 1
            }
            var ordinal: [String: Int] = [:]
            let payload = try db.makeStatement(sql: "SELECT payload FROM inbox WHERE id = ?")
            try scan(.evidence, order: " ORDER BY ref") { row, columns, id in
                ordinal[id, default: 0] += 1
                let n = ordinal[id]!
                try match(.evidence, ref: row[0], caseId: id, row: row, columns: columns) { "evidence \(n)" }
                let sha: String = row[5]
                let inboxId: Int64 = row[6]
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
            for key in pendingClips.keys.sorted(by: { ($0.ref, $0.caseId) < ($1.ref, $1.caseId) }) {
                guard let row = try Row.fetchOne(clip, arguments: [key.ref]) else { continue }   // reported below as gone
                try match(.clip, ref: key.ref, caseId: key.caseId, row: row, columns: clip.columnNames) {
                    "the analysis of the clip of inbox \(key.ref)"
                }
                report.clips += 1
                try rehashClip(caseId: key.caseId, inboxId: key.ref, row: row)
            }
            // What the chain holds and no row answered: deleted rows.
            let left = pending.values.flatMap(\.values) + pendingClips.values
            if let entry = left.min(by: { $0.seq < $1.seq }) {
                let fact = pending.first { $0.value.values.contains { $0.seq == entry.seq } }?.key ?? .clip
                throw VerifyFailure(description: "case \(entry.caseId): a \(fact.rawValue) fact (ledger entry \(entry.seq)) is chained but its row is gone (deleted)")
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
    }
}
