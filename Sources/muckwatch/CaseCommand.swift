import ArgumentParser
import Foundation
import MuckwatchCore
import MuckwatchStore

/// `muckwatch case ID register|dismiss --by NAME --note TEXT`: moves a draft
/// case forward in the procedure, recording who, when and why.
struct CaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "case",
        abstract: "Move a case forward: register it (登记) or dismiss it, saying who and why.",
        discussion: """
            A case moves forward only: draft → registered → dismissed, or draft → dismissed. \
            Each move is recorded with who, when and why; earlier records are never changed.
            """)

    enum Action: String, ExpressibleByArgument, CaseIterable {
        case register, dismiss

        var status: CaseStatus { self == .register ? .registered : .dismissed }
    }

    @Argument(help: "Case id, e.g. MW-20261124-0001.")
    var id: String

    @Argument(help: "register or dismiss.")
    var action: Action

    @Option(help: "Who is moving the case (the officer's name or badge number).")
    var by: String

    @Option(help: "Why: what was verified, or why the case is dismissed.")
    var note: String

    @OptionGroup var store: StoreOptions

    func validate() throws {
        if by.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw ValidationError("--by must name who is moving the case")
        }
        if note.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw ValidationError("--note must say why")
        }
    }

    func run() throws {
        let (db, config) = try store.openStore()
        let now = Instant(millis: Int64((Date().timeIntervalSince1970 * 1000).rounded()))
        let previous: CaseStatus
        do {
            previous = try db.moveCase(id: id, to: action.status, by: by, note: note, at: now)
        } catch let error as CaseMoveError {
            throw CLIError(error.description)
        }
        let offset = config.pipeline.incidents.utcOffsetSeconds
        print("\(id): \(previous.rawValue) → \(action.status.rawValue) by \(by) at \(RFC3339.format(now, offsetSeconds: offset))")
    }
}
