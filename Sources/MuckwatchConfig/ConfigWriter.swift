import Yams

// Writing a config file, the other half of ConfigLoader. A program that makes a config for someone
// else (`muckwatch scenario`) builds it here from keys and values, and Yams decides how each value is
// quoted and escaped: a name with a colon, a quote, a `#` or a line break reads back exactly as written.
// This knows YAML, not the config's keys; what they mean stays with the loader.

/// A config file: comment lines on top, then an ordered mapping of keys to values.
public struct ConfigDocument: Sendable {
    /// Lines written above the YAML, each behind `# `.
    public var header: [String]
    public var root: ConfigMapping

    public init(header: [String] = [], root: ConfigMapping) {
        self.header = header
        self.root = root
    }

    /// The file's text; `MuckwatchConfiguration.parse` reads it back to the same keys and values.
    public func yaml() throws(ConfigError) -> String {
        let body: String
        do {
            // No line width, so long texts stay on one line; Chinese stays readable, not \u-escaped.
            body = try Yams.serialize(node: ConfigValue.mapping(root).node, indent: 2, width: -1, allowUnicode: true)
        } catch {
            throw ConfigError(file: nil, line: nil, key: "", problem: "cannot be written as YAML: \(error)")
        }
        let comments = header.flatMap { $0.split(separator: "\n", omittingEmptySubsequences: false) }
            .map { $0.isEmpty ? "#\n" : "# \($0)\n" }
        return comments.isEmpty ? body : comments.joined() + "\n" + body
    }
}

/// A value in a config file.
public indirect enum ConfigValue: Sendable {
    /// Text: it reads back as exactly this string, whatever characters it holds.
    case text(String)
    /// A number, in the shortest spelling that reads back as this value (`20`, `0.6`).
    case number(Double)
    /// A whole number spelled in hex (`0xE1`), as JT/T 808 item ids and bit masks are written.
    case hex(UInt64)
    /// A list; `flow` writes it on one line, `[a, b]`.
    case list([ConfigValue], flow: Bool)
    case mapping(ConfigMapping)

    var node: Node {
        switch self {
        case .text(let text):
            // Quoted where it would otherwise read as a number, a date, a boolean or null.
            return .scalar(text.represented())
        case .number(let value):
            return .scalar(Node.Scalar(Self.spelling(value), .implicit, .plain))
        case .hex(let value):
            return .scalar(Node.Scalar("0x" + String(value, radix: 16, uppercase: true).leftPadded(to: 2), .implicit, .plain))
        case .list(let items, let flow):
            return .sequence(Node.Sequence(items.map(\.node), .implicit, flow ? .flow : .block))
        case .mapping(let mapping):
            return .mapping(Node.Mapping(mapping.entries.map { (Node.scalar($0.key.represented()), $0.value.node) },
                                         .implicit, mapping.flow ? .flow : .block))
        }
    }

    /// Whole numbers without a fraction; others as Swift's shortest round-trip spelling,
    /// which YAML's float syntax accepts (`0.6`, `1e-05`).
    static func spelling(_ value: Double) -> String {
        if value.isNaN { return ".nan" }
        if value.isInfinite { return value < 0 ? "-.inf" : ".inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}

/// Keys and their values, in the order they are added.
public struct ConfigMapping: Sendable {
    public private(set) var entries: [(key: String, value: ConfigValue)] = []
    /// Written on one line, `{a: 1, b: 2}`.
    public var flow: Bool

    public init(flow: Bool = false) {
        self.flow = flow
    }

    public init(flow: Bool = false, _ entries: KeyValuePairs<String, ConfigValue>) {
        self.flow = flow
        for (key, value) in entries { add(key, value) }
    }

    /// Sets `key`; a key added again keeps its place and takes the new value.
    public mutating func add(_ key: String, _ value: ConfigValue) {
        if let i = entries.firstIndex(where: { $0.key == key }) {
            entries[i].value = value
        } else {
            entries.append((key, value))
        }
    }

    public mutating func add(_ key: String, _ text: String) { add(key, .text(text)) }
    public mutating func add(_ key: String, _ number: Double) { add(key, .number(number)) }
    public mutating func add(_ key: String, _ number: Int) { add(key, .number(Double(number))) }
    public mutating func add(_ key: String, _ mapping: ConfigMapping) { add(key, .mapping(mapping)) }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
