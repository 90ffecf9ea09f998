/// Licence plates as cameras, trackers and clerks write them.
public enum Plate {
    /// The plate in one canonical spelling: full-width ASCII made half-width,
    /// whitespace and separators (· • ・ - _ .) removed, letters uppercased,
    /// Chinese characters kept: "粤b·12345" → "粤B12345".
    public static func normalize(_ text: String) -> String {
        let scalars = text.unicodeScalars
        // Most plates are already canonical: find the first scalar that is not.
        guard let first = scalars.firstIndex(where: { canonical($0) != $0 }) else { return text }
        var out = String.UnicodeScalarView(scalars[..<first])
        for s in scalars[first...] {
            if let c = canonical(s) { out.append(c) }
        }
        return String(out)
    }

    /// The scalar's canonical form, or nil when it is dropped.
    private static func canonical(_ s: Unicode.Scalar) -> Unicode.Scalar? {
        var v = s.value
        if v >= 0xFF01 && v <= 0xFF5E { v -= 0xFEE0 }  // full-width ASCII
        if v < 0x80 {
            switch v {
            case 0x61...0x7A: return Unicode.Scalar(UInt8(v - 0x20))  // a-z
            case 0x2D, 0x2E, 0x5F: return nil  // - . _
            case 0x09...0x0D, 0x20: return nil
            default: return v == s.value ? s : Unicode.Scalar(UInt8(v))
            }
        }
        switch v {
        case 0x00B7, 0x2022, 0x30FB, 0xFF65,  // · • ・ ･
             0x2010...0x2015, 0x2027, 0x2212, 0x2219, 0x22C5,  // dashes, other dots
             0x200B...0x200D, 0x2060, 0xFEFF:  // zero-width
            return nil
        default:
            return s.properties.isWhitespace ? nil : s
        }
    }
}
