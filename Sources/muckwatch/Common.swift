import ArgumentParser
import Foundation
import MuckwatchConfig
import MuckwatchCore
import MuckwatchStore

/// A failure the user can act on, said in one sentence: on one line, with
/// what it quotes (a device's URL, a stored value) shown escaped.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = TerminalText.escaped(description) }
}

/// The config at `path` (the defaults without one); its error, which names
/// the file, line and key, as the command's own.
func loadConfiguration(_ path: String?) throws -> MuckwatchConfiguration {
    do {
        return try path.map { try MuckwatchConfiguration.load(path: $0) } ?? MuckwatchConfiguration()
    } catch {
        throw CLIError("\(error)")
    }
}

/// `--db` and `--config`, shared by every subcommand that reads the store.
struct StoreOptions: ParsableArguments {
    @Option(help: "SQLite store (default: the config's store.path, else ./var/muckwatch.db).")
    var db: String?

    @Option(help: "Config file, for the store path and the time zone.")
    var config: String?

    func loadConfig() throws -> MuckwatchConfiguration { try loadConfiguration(config) }

    /// Opens an existing store; a missing file is an error, not a new store.
    func openStore() throws -> (SQLiteStore, MuckwatchConfiguration) {
        let config = try loadConfig()
        let path = db ?? config.storePath
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIError("there is no store at \(path); pass --db with the path muckwatchd writes to")
        }
        do {
            return (try SQLiteStore(path: path), config)
        } catch {
            throw CLIError("\(error)")
        }
    }
}

enum Output {
    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return TerminalText.escapedJSON(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// Left-aligned columns; widths count characters, so wide CJK text may
    /// still misalign slightly in a terminal. Cells are shown escaped
    /// (`TerminalText`): a cell is the store's, and so often a device's, text.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = ([header] + rows).map { $0.map(TerminalText.escaped) }
        let widths = header.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

/// Lines for people, each shown escaped as it is appended (`TerminalText`),
/// so that a line built from a device's text cannot become two, nor reach
/// the terminal as an escape sequence. Tables come already escaped, cell by
/// cell, to keep their columns.
struct TerminalLines: ExpressibleByArrayLiteral {
    private var lines: [String] = []

    init(arrayLiteral elements: String...) { lines = elements.map(TerminalText.escaped) }

    mutating func append(_ line: String) { lines.append(TerminalText.escaped(line)) }

    /// A table from `Output.table`.
    mutating func append(table: String) { lines.append(table) }

    static func += (lhs: inout TerminalLines, rhs: [String]) { for line in rhs { lhs.append(line) } }

    var text: String { lines.joined(separator: "\n") }
}
