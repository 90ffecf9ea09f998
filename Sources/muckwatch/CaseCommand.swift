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

    @Option(help: "Who is moving the case (the officer's name or badge number); required.")
    var by: String?

    @Option(help: "Why: what was verified, or why the case is dismissed; required.")
    var note: String?

    @OptionGroup var store: StoreOptions

    func validate() throws {
        if (by ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw ValidationError("--by is required: say who is moving the case (the officer's name or badge number)")
        }
        if (note ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw ValidationError("--note is required: say what was verified, or why the case is dismissed")
        }
    }

    func run() throws {
        let by = (by ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let note = (note ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let (db, config) = try store.openStore()
        // When the officer acted: the wall clock (unlike the pipeline, which
        // takes its times from the messages).
        let now = Instant(millis: Int64((Date().timeIntervalSince1970 * 1000).rounded()))
        let previous: CaseStatus
        do {
            previous = try db.moveCase(id: id, to: action.status, by: by, note: note, at: now)
        } catch let error as CaseMoveError {
            throw CLIError(error.description)
        } catch {
            throw CLIError("cannot move case \(id) in \(db.path): \(error)")
        }
        // The name is shown as stored, escaped: one move, one line.
        print(TerminalText.escaped("\(id): \(previous.rawValue) → \(action.status.rawValue) by \(by) at \(Self.localTime(now, offsetSeconds: config.pipeline.incidents.utcOffsetSeconds))"))
    }

    /// `2026-12-01 21:10:00 (+08:00)`.
    static func localTime(_ t: Instant, offsetSeconds: Int) -> String {
        let text = RFC3339.format(t, offsetSeconds: offsetSeconds)
        let zone = offsetSeconds == 0 ? "+00:00" : String(text.suffix(6))
        return text.prefix(19).replacingOccurrences(of: "T", with: " ") + " (\(zone))"
    }
}
