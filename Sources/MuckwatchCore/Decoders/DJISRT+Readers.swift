// The small byte-level readers the DJI SRT parser is built from.

extension DJISRT {
    /// A date at `p`: `YYYY[-.]M[-.]D H:MM:SS` and an optional fraction
    /// (`.373`, `,774,808`, `:774.808`), returning the time (nil if the
    /// fields are out of range) and where the match ends.
    static func matchDate(_ b: [UInt8], at p: Int) -> (DJISRTRecord.LocalTime?, Int)? {
        var i = p
        func digits(_ minCount: Int, _ maxCount: Int) -> Int? {
            let from = i
            var v = 0
            while i < b.count, isDigit(b[i]), i - from < maxCount {
                v = v * 10 + Int(b[i] - zero)
                i += 1
            }
            return i - from >= minCount ? v : nil
        }
        guard let year = digits(4, 4), i < b.count, b[i] == minus || b[i] == dot else { return nil }
        let sep = b[i]
        i += 1
        guard let month = digits(1, 2), i < b.count, b[i] == sep else { return nil }
        i += 1
        guard let day = digits(1, 2), i < b.count, isSpace(b[i]) else { return nil }
        while i < b.count, isSpace(b[i]) { i += 1 }
        guard let hour = digits(1, 2), i < b.count, b[i] == colon else { return nil }
        i += 1
        guard let minute = digits(2, 2), i < b.count, b[i] == colon else { return nil }
        i += 1
        guard let second = digits(2, 2) else { return nil }
        var millis = 0
        if i + 1 < b.count, b[i] == dot || b[i] == comma || b[i] == colon, isDigit(b[i + 1]) {
            i += 1
            let from = i
            while i < b.count, isDigit(b[i]) { i += 1 }
            let fraction = b[from..<min(i, from + 3)]
            for (n, d) in fraction.enumerated() { millis += Int(d - zero) * [100, 10, 1][n] }
            // Mavic 2 adds microseconds (and sometimes more) in further groups.
            while i + 1 < b.count, b[i] == comma || b[i] == dot, isDigit(b[i + 1]) {
                i += 1
                while i < b.count, isDigit(b[i]) { i += 1 }
            }
        }
        guard (1...12).contains(month), day >= 1, day <= RFC3339.daysIn(month: month, year: year),
              hour < 24, minute < 60, second < 60
        else { return (nil, i) }
        return (DJISRTRecord.LocalTime(year: year, month: month, day: day, hour: hour, minute: minute,
                                       second: second, millis: millis), i)
    }

    /// A plain decimal (`-20.2533`, `+0.7`, `117.000000`), optionally followed
    /// by a unit (`m`, `M`, `m/s`) when `unit` is set. Stricter than
    /// `Double(_:)`, which would take "nan", "inf" and hexadecimal.
    static func decimal(_ s: String, unit: Bool = false) -> Double? {
        var b = Array(s.utf8)
        if unit {
            while let last = b.last, isLetter(last) || last == slash { b.removeLast() }
        }
        guard !b.isEmpty, b.count <= 40 else { return nil }
        var i = 0
        if b[0] == plus || b[0] == minus { i = 1 }
        var digitsSeen = 0
        var dotSeen = false
        while i < b.count {
            if isDigit(b[i]) {
                digitsSeen += 1
            } else if b[i] == dot, !dotSeen {
                dotSeen = true
            } else {
                return nil
            }
            i += 1
        }
        guard digitsSeen > 0, let v = Double(text(b)), v.isFinite else { return nil }
        return v
    }

    /// "0.0M", "87.9m": a number with a metre unit.
    static func hasMetreUnit(_ s: String) -> Bool {
        guard let last = s.utf8.last, last == UInt8(ascii: "M") || last == UInt8(ascii: "m") else { return false }
        return decimal(String(s.dropLast())) != nil
    }

    /// `<font size="28">` and `</font>`, which DJI wraps the text in.
    static func withoutTags(_ b: [UInt8]) -> [UInt8] {
        guard b.contains(lt) else { return b }
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            if b[i] == lt, i + 1 < b.count, isLetter(b[i + 1]) || b[i + 1] == slash,
               let close = b[(i + 1)...].firstIndex(of: gt) {
                out.append(space)
                i = close + 1
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return out
    }

    static func isKey(_ b: [UInt8]) -> Bool {
        guard let first = b.first, isLetter(first), b.count <= 32 else { return false }
        return b.allSatisfy(isNameByte)
    }

    static func looksLikeValue(_ b: [UInt8]) -> Bool {
        guard let first = b.first else { return false }
        if isDigit(first) || first == plus || first == minus || first == dot { return true }
        return text(b).lowercased() == "n/a"
    }

    static func trimmed(_ b: ArraySlice<UInt8>, also extra: UInt8? = nil) -> [UInt8] {
        var lo = b.startIndex
        var hi = b.endIndex
        while lo < hi {
            if isSpace(b[lo]) || b[lo] == extra {
                lo += 1
            } else if hi - lo >= 3, b[lo] == 0xEF, b[lo + 1] == 0xBB, b[lo + 2] == 0xBF {
                lo += 3
            } else {
                break
            }
        }
        while lo < hi, isSpace(b[hi - 1]) || b[hi - 1] == extra { hi -= 1 }
        return Array(b[lo..<hi])
    }

    static func trimmed(_ b: [UInt8], also extra: UInt8? = nil) -> [UInt8] {
        trimmed(b[...], also: extra)
    }

    static func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }

    /// A line quoted in a problem, cut short so one garbage line cannot make
    /// a huge message.
    static func clip(_ b: [UInt8]) -> String {
        b.count <= 60 ? text(b) : text(Array(b[0..<60])) + "..."
    }

    static let lf: UInt8 = 0x0A, cr: UInt8 = 0x0D, space: UInt8 = 0x20, tab: UInt8 = 0x09
    static let colon = UInt8(ascii: ":"), comma = UInt8(ascii: ","), dot = UInt8(ascii: ".")
    static let minus = UInt8(ascii: "-"), plus = UInt8(ascii: "+"), slash = UInt8(ascii: "/")
    static let lt = UInt8(ascii: "<"), gt = UInt8(ascii: ">"), zero = UInt8(ascii: "0")
    static let lbracket = UInt8(ascii: "["), rbracket = UInt8(ascii: "]")
    static let lparen = UInt8(ascii: "("), rparen = UInt8(ascii: ")")

    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    static func isLetter(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
    static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0B || c == 0x0C || c == 0 }
    /// Letters, digits, `_` and `.`: enough for `focal_len`, `F.PRY`, `H.S`.
    static func isNameByte(_ c: UInt8) -> Bool { isLetter(c) || isDigit(c) || c == 0x5F || c == dot }
}
