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

public struct CaseMoveError: Error, Sendable, CustomStringConvertible {
    public var description: String
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
        guard !actor.isEmpty else { throw CaseMoveError(description: "say who is moving the case: --by NAME must not be empty") }
        guard !note.isEmpty else { throw CaseMoveError(description: "say why: --note TEXT must not be empty") }
        return try pool.write { db in
            guard let text = try String.fetchOne(db, sql: "SELECT status FROM cases WHERE case_id = ?", arguments: [id]) else {
                throw CaseMoveError(description: "there is no case \(id) in \(path); `muckwatch cases list` shows the ids")
            }
            guard let current = CaseStatus(rawValue: text) else {
                throw CaseMoveError(description: "case \(id) has status '\(text)', which this version does not know")
            }
            guard current.next.contains(status) else {
                let allowed = current.next.isEmpty ? "it is closed to further moves"
                    : "from \(current.rawValue) it can only go to \(current.next.map(\.rawValue).joined(separator: " or "))"
                throw CaseMoveError(description: "case \(id) is \(current.rawValue); a \(current.rawValue) case cannot be \(status.rawValue) (\(allowed))")
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
