import ArgumentParser
import Foundation
import MuckwatchCore
import MuckwatchStore

/// `muckwatch verify`: proves the cases in a store are as they were written,
/// or names the first thing that is not.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that every case, its evidence and its history are as they were written.",
        discussion: """
            Recomputes the case ledger's hash chain from the rows it covers (opening facts, candidates, status moves \
            with who/when/why, evidence, clip analyses), re-hashes each evidence message's original bytes in the \
            inbox and each clip file still present, and holds the chain against the heads written outside the store: \
            the heads file beside the alert log and the alert lines' `chain` fields. Opens the store read-only. \
            Exits 0 with a one-line summary, or 1 naming the first broken item.
            """)

    @OptionGroup var store: StoreOptions

    @Option(name: .customLong("case"), help: "Check only this case's rows (the whole chain is still walked).")
    var caseId: String?

    @Option(help: "Alert log to check the `chain` fields of; its folder holds the heads file (default: the config's alert_log).")
    var alertLog: String?

    @Option(help: "Chain heads file (default: chain-heads.jsonl beside the alert log).")
    var heads: String?

    @Flag(help: "Do not hold the store against the heads file (a copied store checked on its own).")
    var noHeads = false

    func run() throws {
        let config = try store.loadConfig()
        let path = store.db ?? config.storePath
        let alertLogPath = alertLog ?? config.alertLogPath
        let options = VerifyOptions(
            caseId: caseId,
            heads: noHeads ? nil : heads.map(ChainHeads.init(path:)) ?? ChainHeads(besideAlertLog: alertLogPath),
            alertLog: noHeads && alertLog == nil ? nil : alertLogPath)
        do {
            let report = try StoreVerifier.verify(path: path, options: options)
            print(TerminalText.escaped(report.summary))
        } catch let failure as VerifyFailure {
            FileHandle.standardError.write(Data("verify: FAILED: \(TerminalText.escaped(failure.description))\n".utf8))
            throw ExitCode(1)
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError("\(error)")
        }
    }
}
