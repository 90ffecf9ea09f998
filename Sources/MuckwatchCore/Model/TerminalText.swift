// TerminalText owns how text that devices (and so anyone who can publish to the
// broker) chose is shown to people: on a terminal, in journald, in a table.
// Such text must never be interpreted by the terminal (an escape sequence that
// sets the title or clears the screen) nor break one record into several lines
// (a forged alert line), nor reorder what is shown around it (a bidi override).

/// Text made safe to print for people: every character a terminal would act on
/// rather than show is written as an escape instead, so one record stays one
/// line and reads exactly as the device sent it.
///
/// - `\` itself → `\\`, so that every escape below is unambiguous: `\x1b` on
///   screen is always an ESC the device sent, `\\x1b` the four characters.
/// - newline, carriage return, tab → `\n`, `\r`, `\t`;
/// - the other C0 controls (U+0000–001F) and DEL (U+007F) → `\x00`…`\x1f`, `\x7f`;
/// - C1 controls (U+0080–009F) → `\u0080`…`\u009f` (written as code points, not
///   bytes: in UTF-8 they are two bytes each);
/// - bidirectional overrides, embeddings, isolates and marks (U+202A–202E,
///   U+2066–2069, U+200E, U+200F, U+061C) and the line and paragraph
///   separators (U+2028, U+2029) → `\u202e` and the like.
///
/// Everything else, CJK included, is kept as it is. A Swift `String` is always
/// valid Unicode: bytes that were not UTF-8 were replaced by U+FFFD when the
/// string was made, and are shown as that.
public enum TerminalText {
    /// `text` with what a terminal would interpret escaped; `text` itself, not
    /// a copy, when there is nothing to escape (the common case).
    public static func escaped(_ text: String) -> String {
        let clean = text.utf8.withContiguousStorageIfAvailable { isClean($0) } ?? isClean(text.utf8)
        if clean { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars { append(scalar, to: &out) }
        return out
    }

    /// JSON text with the code points a terminal would act on written as JSON
    /// escapes (`\u202e`): the same JSON value, safe to print. Only for JSON
    /// text, where such code points can only be inside strings; the encoder
    /// has already escaped the C0 controls.
    public static func escapedJSON(_ json: String) -> String {
        guard json.unicodeScalars.contains(where: { $0.value >= 0x7F && isInterpreted($0.value) }) else { return json }
        var out = ""
        out.reserveCapacity(json.utf8.count + 16)
        for scalar in json.unicodeScalars {
            if scalar.value >= 0x7F && isInterpreted(scalar.value) {
                appendCodePoint(scalar.value, to: &out)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Whether the UTF-8 bytes hold nothing to escape. Looks only at the lead
    /// bytes that can start such a character: ASCII controls and `\`, 0xC2 (C1),
    /// 0xD8 (U+061C) and 0xE2 (U+2000–U+2FFF); CJK text never stops here.
    private static func isClean<Bytes: Collection>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        var i = bytes.startIndex
        while i != bytes.endIndex {
            let b = bytes[i]
            switch b {
            case 0x00..<0x20, 0x5C, 0x7F: return false
            case 0xC2, 0xD8, 0xE2:
                let second = bytes.index(after: i)
                guard second != bytes.endIndex else { return true }
                let s = bytes[second]
                switch b {
                case 0xC2: if s < 0xA0 { return false }   // U+0080–009F is C2 80 … C2 9F
                case 0xD8: if s == 0x9C { return false }  // U+061C is D8 9C
                default:
                    let third = bytes.index(after: second)
                    guard third != bytes.endIndex else { return true }
                    if isFormatControl(0x2000 | UInt32(s & 0x3F) << 6 | UInt32(bytes[third] & 0x3F)) { return false }
                }
            default: break
            }
            i = bytes.index(after: i)
        }
        return true
    }

    /// Whether a terminal (or a viewer of lines) would act on this code point
    /// rather than show it: the controls, DEL and the format characters above.
    static func isInterpreted(_ v: UInt32) -> Bool {
        v < 0x20 || (0x7F..<0xA0).contains(v) || v == 0x061C || isFormatControl(v)
    }

    /// The format characters of U+2000–U+2FFF shown escaped: bidi marks,
    /// embeddings, overrides and isolates, and the line/paragraph separators.
    private static func isFormatControl(_ v: UInt32) -> Bool {
        switch v {
        case 0x200E, 0x200F, 0x2028...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    private static let hexDigits: [Character] = Array("0123456789abcdef")

    private static func append(_ scalar: Unicode.Scalar, to out: inout String) {
        let v = scalar.value
        switch v {
        case 0x5C: out += "\\\\"
        case 0x0A: out += "\\n"
        case 0x0D: out += "\\r"
        case 0x09: out += "\\t"
        case 0x00..<0x20, 0x7F:
            out += "\\x"
            out.append(hexDigits[Int(v >> 4)])
            out.append(hexDigits[Int(v & 0xF)])
        case 0x80..<0xA0, 0x061C:
            appendCodePoint(v, to: &out)
        case _ where isFormatControl(v):
            appendCodePoint(v, to: &out)
        default:
            out.unicodeScalars.append(scalar)
        }
    }

    /// `\u` and four lowercase hex digits (every escaped code point is below U+10000).
    private static func appendCodePoint(_ v: UInt32, to out: inout String) {
        out += "\\u"
        for shift in stride(from: 12, through: 0, by: -4) { out.append(hexDigits[Int((v >> UInt32(shift)) & 0xF)]) }
    }
}

extension String {
    /// This text as it is safe to print for people (see `TerminalText`).
    public var terminalEscaped: String { TerminalText.escaped(self) }
}
