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

    static func quote(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            // Also DEL, C1 and bidi controls, which JSON allows raw but a
            // terminal showing the log would act on (`TerminalText`).
            case _ where scalar.value < 0x20 || (scalar.value >= 0x7F && TerminalText.isInterpreted(scalar.value)):
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
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
