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

    @Option(help: "Alert log, whose folder holds the chain heads file (default: the config's alert_log).")
    var alertLog: String?

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
        let now = Instant.wallClock
        let previous: CaseStatus
        let head: LedgerHead
        do {
            (previous, head) = try db.moveCase(id: id, to: action.status, by: by, osUser: Self.osUser(), note: note, at: now)
        } catch let error as CaseMoveError {
            throw CLIError(error.description)
        } catch {
            throw CLIError("cannot move case \(id) in \(db.path): \(error)")
        }
        let heads = ChainHeads(besideAlertLog: alertLog ?? config.alertLogPath)
        do {
            try heads.append(head, caseId: id, at: now)
        } catch {
            FileHandle.standardError.write(Data("""
                warning: the move is recorded, but its chain head could not be written to \(heads.path): \(error); \
                `muckwatch verify` will report the store ahead of the heads file until muckwatchd next starts\n
                """.utf8))
        }
        // The name is shown as stored, escaped: one move, one line.
        print(TerminalText.escaped("\(id): \(previous.rawValue) → \(action.status.rawValue) by \(by) at \(Self.localTime(now, offsetSeconds: config.utcOffsetSeconds))"))
    }

    /// The account that ran the command, as the OS says (the uid cannot be
    /// made up; `SUDO_USER` names who ran `sudo`).
    static func osUser() -> String {
        let uid = getuid()
        let name = getpwuid(uid).map { String(cString: $0.pointee.pw_name) } ?? "?"
        if let sudo = ProcessInfo.processInfo.environment["SUDO_USER"], !sudo.isEmpty, uid == 0 {
            return "\(sudo) via sudo as \(name) (uid \(uid))"
        }
        return "\(name) (uid \(uid))"
    }

    /// `2026-12-01 21:10:00 (+08:00)`.
    static func localTime(_ t: Instant, offsetSeconds: Int) -> String {
        let text = RFC3339.format(t, offsetSeconds: offsetSeconds)
        let zone = offsetSeconds == 0 ? "+00:00" : String(text.suffix(6))
        return text.prefix(19).replacingOccurrences(of: "T", with: " ") + " (\(zone))"
    }
}
