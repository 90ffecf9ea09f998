/// Big-endian fields from network bytes. Every read checks the length first
/// and throws a `bad_frame` failure naming the field, so a short or lying
/// frame is an error, never a trap.
struct ByteReader {
    private let bytes: [UInt8]
    private(set) var offset: Int
    let end: Int

    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.offset = start
        self.end = min(end ?? bytes.count, bytes.count)
    }

    var remaining: Int { max(0, end - offset) }

    /// `what` names the field for the error; it is only built when the read fails.
    private mutating func take(_ n: Int, _ what: () -> String) throws(DecodeFailure) -> Int {
        guard n >= 0, n <= remaining else {
            throw DecodeFailure(.badFrame, "\(what()) needs \(n) bytes at offset \(offset) but only \(remaining) remain")
        }
        defer { offset += n }
        return offset
    }

    mutating func u8(_ what: @autoclosure () -> String) throws(DecodeFailure) -> UInt8 {
        bytes[try take(1, what)]
    }

    mutating func u16(_ what: @autoclosure () -> String) throws(DecodeFailure) -> UInt16 {
        let i = try take(2, what)
        return UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])
    }

    mutating func u32(_ what: @autoclosure () -> String) throws(DecodeFailure) -> UInt32 {
        let i = try take(4, what)
        return UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3])
    }

    mutating func bytes(_ n: Int, _ what: @autoclosure () -> String) throws(DecodeFailure) -> [UInt8] {
        let i = try take(n, what)
        return Array(bytes[i..<(i + n)])
    }
}

/// Hexadecimal text, as operators paste captured frames.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func string(_ bytes: some Sequence<UInt8>) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A 16-bit value as four digits, most significant first (`0200`).
    public static func string(_ value: UInt16) -> String { string([UInt8(value >> 8), UInt8(value & 0xff)]) }

    /// Hexadecimal text (spaces and a `0x` prefix allowed) as bytes, or nil.
    public static func bytes(_ text: some StringProtocol) -> [UInt8]? {
        var out: [UInt8] = []
        var high: UInt8?
        var chars = Substring(text).utf8[...]
        if chars.starts(with: "0x".utf8) || chars.starts(with: "0X".utf8) { chars = chars.dropFirst(2) }
        for c in chars {
            let v: UInt8
            switch c {
            case 48...57: v = c - 48
            case 65...70: v = c - 55
            case 97...102: v = c - 87
            case 32, 9, 13: continue
            default: return nil
            }
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        return high == nil ? out : nil
    }
}

/// Local civil time at a fixed offset (the protocols' GMT+8) as an instant,
/// or nil when a field is out of its range.
func civilInstant(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millis: Int = 0,
                  offsetSeconds: Int) -> Instant? {
    guard (1970...9999).contains(year), (1...12).contains(month), day >= 1,
          day <= RFC3339.daysIn(month: month, year: year),
          hour < 24, minute < 60, second < 60, (0..<1000).contains(millis)
    else { return nil }
    let days = Int64(RFC3339.daysFromCivil(year: year, month: month, day: day))
    let secs = days * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetSeconds)
    return Instant(millis: secs * 1000 + Int64(millis))
}
