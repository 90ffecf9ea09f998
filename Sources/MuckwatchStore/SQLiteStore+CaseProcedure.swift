import Foundation
import GRDB
import MuckwatchCore

/// The case procedure (§1, §7.2): a case moves forward only — draft →
/// registered (登记) → dismissed, or draft → dismissed — and every move is a
/// new `case_status_history` row with who, when and why. Nothing written
/// before is changed: the schema's triggers refuse it too.
public enum CaseStatus: String, Sendable, CaseIterable {
    case draft, registered, dismissed

    /// The statuses a case in this one may move to.
    public var next: [CaseStatus] {
        switch self {
        case .draft: [.registered, .dismissed]
        case .registered: [.dismissed]
        case .dismissed: []
        }
    }
}

/// Why a case could not be moved: `code` for callers to match, the
/// description for the person who asked.
public struct CaseMoveError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String { case missingActor, missingNote, noSuchCase, unknownStatus, notAllowed, rowMissing }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// `--by` was empty: every move names who made it.
        public static let missingActor = Code(.missingActor)
        /// `--note` was empty: every move says why.
        public static let missingNote = Code(.missingNote)
        public static let noSuchCase = Code(.noSuchCase)
        /// The case has a status this version does not know (a newer store).
        public static let unknownStatus = Code(.unknownStatus)
        /// The procedure does not allow the move (cases only move forward).
        public static let notAllowed = Code(.notAllowed)
        /// A row a ledger fact refers to is gone.
        public static let rowMissing = Code(.rowMissing)

        public var description: String { base.rawValue }
    }

    public var code: Code
    public var description: String

    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}

extension SQLiteStore {
    /// Moves a case to `status`, recording who did it (`actor`, free text,
    /// and `osUser`, the account that ran the command), when and why; returns
    /// the status it had and the case ledger's head after the move.
    @discardableResult
    public func moveCase(id: String, to status: CaseStatus, by actor: String, osUser: String? = nil, note: String,
                         at: Instant) throws -> (previous: CaseStatus, head: LedgerHead) {
        let actor = actor.trimmingCharacters(in: .whitespacesAndNewlines)
        let note = note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !actor.isEmpty else { throw CaseMoveError(.missingActor, "say who is moving the case: --by NAME must not be empty") }
        guard !note.isEmpty else { throw CaseMoveError(.missingNote, "say why: --note TEXT must not be empty") }
        return try pool.write { db in
            guard let text = try String.fetchOne(db, sql: "SELECT status FROM cases WHERE case_id = ?", arguments: [id]) else {
                throw CaseMoveError(.noSuchCase, "there is no case \(id) in \(path); `muckwatch cases list` shows the ids")
            }
            guard let current = CaseStatus(rawValue: text) else {
                throw CaseMoveError(.unknownStatus, "case \(id) has status '\(text)', which this version does not know")
            }
            guard current.next.contains(status) else {
                let allowed = current.next.isEmpty ? "it is closed to further moves"
                    : "from \(current.rawValue) it can only go to \(current.next.map(\.rawValue).joined(separator: " or "))"
                throw CaseMoveError(.notAllowed, "case \(id) is \(current.rawValue); a \(current.rawValue) case cannot be \(status.rawValue) (\(allowed))")
            }
            try db.execute(sql: "UPDATE cases SET status = ? WHERE case_id = ?", arguments: [status.rawValue, id])
            try db.execute(sql: """
                INSERT INTO case_status_history (case_id, status, actor, os_user, at, note) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [id, status.rawValue, actor, osUser, at.millis, note])
            var ledger = try CaseLedger.Writer(db)
            let head = try ledger.append(.status, caseId: id, ref: db.lastInsertedRowID, db)
            return (current, head)
        }
    }
}
