import ArgumentParser
import MuckwatchCore

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Counts from the store: messages, records, dead letters, alerts, cases.")

    @OptionGroup var store: StoreOptions

    @Flag(help: "Print one JSON object (keys documented in the README).")
    var json = false

    func run() throws {
        let (db, _) = try store.openStore()
        let s = try db.stats()
        if json {
            print(try Output.json(s))
            return
        }
        func megabytes(_ bytes: Int64) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }
        let perMessage = s.bytesPerMessage.map { String(format: " (%.0f bytes per message)", $0) } ?? ""
        // The keys are kinds and reasons, some of them named by devices.
        func map(_ m: [String: Int]) -> String {
            m.isEmpty ? "none" : m.sorted { $0.key < $1.key }.map { "\($0.key.terminalEscaped) \($0.value)" }.joined(separator: ", ")
        }
        print("""
            Store:        \(db.path.terminalEscaped)
            Messages:     \(s.messages) kept (\(s.pending) not yet processed), \(s.duplicates) duplicate(s) recognised
            Records:      \(map(s.records))
            Dead letters: \(map(s.deadLetters))
            Ignored:      \(map(s.ignored))
            Alerts:       \(map(s.alerts))
            Cases:        \(map(s.cases))
            Videos:       \(map(s.videos))
            On disk:      \(megabytes(s.storeBytes)) database, \(megabytes(s.walBytes)) write-ahead log\(perMessage)
            Oldest:       \(s.oldestMessageAt.map { "message arrived \($0)" } ?? "no message yet")
            """)
    }
}
