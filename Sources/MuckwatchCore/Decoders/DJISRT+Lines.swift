// How a DJI SRT text falls into lines, subtitle blocks and their time ranges.

extension DJISRT {
    struct Line {
        var number: Int
        var bytes: [UInt8]
    }

    /// Lines split at LF, CRLF or a lone CR, each trimmed of blanks and of a
    /// UTF-8 byte-order mark (files concatenated by tools carry one mid-file).
    static func splitLines(_ bytes: [UInt8]) -> [Line] {
        var lines: [Line] = []
        var start = 0
        var i = 0
        var number = 1
        while i < bytes.count {
            let c = bytes[i]
            if c == lf || c == cr {
                lines.append(Line(number: number, bytes: trimmed(bytes[start..<i])))
                if c == cr, i + 1 < bytes.count, bytes[i + 1] == lf { i += 1 }
                i += 1
                start = i
                number += 1
            } else {
                i += 1
            }
        }
        if start < bytes.count {
            lines.append(Line(number: number, bytes: trimmed(bytes[start..<bytes.count])))
        }
        return lines
    }

    /// Blocks are separated by blank lines; a block that runs straight into
    /// the next one (an index line followed by a time range, or a time range
    /// mid-block) is split there, so one lost blank line loses no block.
    static func splitBlocks(_ lines: [Line]) -> [[Line]] {
        var chunks: [[Line]] = []
        var current: [Line] = []
        for (i, line) in lines.enumerated() {
            if line.bytes.isEmpty {
                if !current.isEmpty { chunks.append(current) }
                current = []
                continue
            }
            if !current.isEmpty {
                let startsBlock: Bool
                if isIndexLine(line.bytes) {
                    startsBlock = i + 1 < lines.count && containsArrow(lines[i + 1].bytes)
                } else if containsArrow(line.bytes) {
                    startsBlock = !(current.count == 1 && isIndexLine(current[0].bytes))
                } else {
                    startsBlock = false
                }
                if startsBlock {
                    chunks.append(current)
                    current = []
                }
            }
            current.append(line)
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }

    static func isIndexLine(_ b: [UInt8]) -> Bool {
        !b.isEmpty && b.count <= 9 && b.allSatisfy(isDigit)
    }

    static func containsArrow(_ b: [UInt8]) -> Bool {
        findArrow(b) != nil
    }

    static func findArrow(_ b: [UInt8]) -> Int? {
        guard b.count >= 3 else { return nil }
        for i in 0...(b.count - 3) where b[i] == minus && b[i + 1] == minus && b[i + 2] == gt {
            return i
        }
        return nil
    }

    /// `HH:MM:SS,mmm --> HH:MM:SS,mmm`, tolerating `.` for `,`, short
    /// fractions and SRT's optional position coordinates after the end.
    static func parseTimeRange(_ b: [UInt8]) -> (Int64, Int64)? {
        guard let arrow = findArrow(b) else { return nil }
        let left = trimmed(b[0..<arrow])
        var right = trimmed(b[(arrow + 3)..<b.count])
        if let space = right.firstIndex(where: isSpace) { right = Array(right[0..<space]) }
        guard let start = parseTimestamp(left), let end = parseTimestamp(right) else { return nil }
        return (start, end)
    }

    static func parseTimestamp(_ b: [UInt8]) -> Int64? {
        var i = 0
        func number(maxDigits: Int) -> Int64? {
            let from = i
            var v: Int64 = 0
            while i < b.count, isDigit(b[i]), i - from < maxDigits {
                v = v * 10 + Int64(b[i] - zero)
                i += 1
            }
            return i > from ? v : nil
        }
        guard let h = number(maxDigits: 6), i < b.count, b[i] == colon else { return nil }
        i += 1
        // Matrice 300 firmware writes the minute's last second's end as
        // "00:00:60,000"; 60 is read as the next minute (or hour).
        guard let m = number(maxDigits: 2), m <= 60, i < b.count, b[i] == colon else { return nil }
        i += 1
        guard let s = number(maxDigits: 2), s <= 60 else { return nil }
        var ms: Int64 = 0
        if i < b.count, b[i] == comma || b[i] == dot {
            i += 1
            let from = i
            guard let f = number(maxDigits: 3) else { return nil }
            ms = f * [100, 10, 1][min(2, i - from - 1)]
        }
        guard i == b.count else { return nil }
        return ((h * 60 + m) * 60 + s) * 1000 + ms
    }
}
