/// A JSON object written with its keys in a fixed order, for outputs people
/// read and diff (the alert log). Foundation's encoder does not keep order.
public struct JSONLine {
    private var out = "{"
    private var first = true

    public init() {}

    private mutating func key(_ k: String) {
        if !first { out += "," }
        first = false
        Self.quote(k, into: &out)
        out += ":"
    }

    public mutating func add(_ k: String, _ v: String?) {
        guard let v else { return }
        key(k)
        Self.quote(v, into: &out)
    }

    public mutating func add(_ k: String, _ v: Double?) {
        guard let v, v.isFinite else { return }
        key(k)
        out += v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }

    public mutating func add(_ k: String, _ v: Int?) {
        guard let v else { return }
        key(k)
        out += String(v)
    }

    public mutating func addBool(_ k: String, _ v: Bool?) {
        guard let v else { return }
        key(k)
        out += v ? "true" : "false"
    }

    public mutating func add(_ k: String, _ v: [String]) {
        key(k)
        out += "["
        for (i, s) in v.enumerated() {
            if i > 0 { out += "," }
            Self.quote(s, into: &out)
        }
        out += "]"
    }

    public mutating func add(_ k: String, object: JSONLine) {
        key(k)
        out += object.text
    }

    public var text: String { out + "}" }

    /// Appends `s` as a JSON string literal, quotes included.
    public static func quote(_ s: String, into out: inout String) {
        out += "\""
        // Most values (ids, hashes, times) are plain ASCII: copied whole.
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }) {
            out += s
            out += "\""
            return
        }
        let scalars = s.unicodeScalars
        var run = scalars.startIndex
        var i = run
        while i < scalars.endIndex {
            let scalar = scalars[i]
            let escape: String?
            switch scalar {
            case "\"": escape = "\\\""
            case "\\": escape = "\\\\"
            case "\n": escape = "\\n"
            case "\r": escape = "\\r"
            case "\t": escape = "\\t"
            // Also DEL, C1 and bidi controls, which JSON allows raw but a
            // terminal showing the log would act on (`TerminalText`).
            case _ where scalar.value < 0x20 || (scalar.value >= 0x7F && TerminalText.isInterpreted(scalar.value)):
                let hex = String(scalar.value, radix: 16)
                escape = "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: escape = nil
            }
            if let escape {
                out.unicodeScalars.append(contentsOf: scalars[run..<i])
                out += escape
                run = scalars.index(after: i)
            }
            i = scalars.index(after: i)
        }
        out.unicodeScalars.append(contentsOf: scalars[run..<scalars.endIndex])
        out += "\""
    }
}

extension Alert {
    /// The alert-log line (§7.1), keys in the documented order; unknown
    /// values are left out rather than written as zero.
    public var jsonLine: String {
        var subject = JSONLine()
        subject.add("kind", self.subject.kind)
        subject.add("id", self.subject.id)
        subject.add("plate", self.subject.plate)
        subject.add("company", self.subject.company)
        var line = JSONLine()
        line.add("ts", ts)
        line.add("alert_id", alertId)
        line.add("rule", rule)
        line.add("severity", severity.rawValue)
        line.add("subject", object: subject)
        line.add("lat", lat)
        line.add("lon", lon)
        line.add("summary", summary)
        line.add("case_id", caseId)
        line.add("suggested_action", suggestedAction.rawValue)
        line.add("evidence", evidence)
        line.add("chain", chain)
        return line.text
    }
}
