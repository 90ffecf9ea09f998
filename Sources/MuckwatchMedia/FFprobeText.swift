import CFFmpeg

/// Values written the way ffprobe writes them, so that `probe --json`
/// records compare equal to ffprobe's.
public enum FFprobeText {
    /// C's "%f" of `value`: six decimals of the exact binary value, rounded
    /// half to even, as glibc's printf does (ffprobe's `pts_time`,
    /// `duration_time`, ...). Appended as UTF-8.
    ///
    /// Worked out with 128-bit integers rather than by calling printf, whose
    /// arbitrary-precision path was a tenth of `probe --json`'s time; values
    /// of 2^63 and more go to printf.
    public static func appendFixed(_ value: Double, to bytes: inout [UInt8]) {
        guard value.isFinite else { return appendFixedWithPrintf(value, to: &bytes) }
        let bits = value.bitPattern
        let biased = Int((bits >> 52) & 0x7FF)
        let fraction = bits & ((1 << 52) - 1)
        let mantissa = UInt128(biased == 0 ? fraction : fraction | (1 << 52))
        let exponent = biased == 0 ? -1074 : biased - 1075
        let micros: UInt128   // round-half-even(|value| * 10^6)
        if exponent >= 0 {
            guard exponent <= 10 else { return appendFixedWithPrintf(value, to: &bytes) }
            micros = (mantissa << exponent) * 1_000_000
        } else {
            let shift = -exponent
            let scaled = mantissa * 1_000_000   // < 2^73
            if shift >= 128 {
                micros = 0
            } else {
                var q = scaled >> shift
                let r = scaled & ((UInt128(1) << shift) - 1)
                let half = UInt128(1) << (shift - 1)
                if r > half || (r == half && q & 1 == 1) { q += 1 }
                micros = q
            }
        }
        if value.sign == .minus { bytes.append(UInt8(ascii: "-")) }
        appendDigits(UInt64(micros / 1_000_000), to: &bytes)
        bytes.append(UInt8(ascii: "."))
        let decimals = UInt64(micros % 1_000_000)
        var divisor: UInt64 = 100_000
        while divisor > 0 {
            bytes.append(UInt8(48 + decimals / divisor % 10))
            divisor /= 10
        }
    }

    private static func appendDigits(_ v: UInt64, to bytes: inout [UInt8]) {
        let start = bytes.count
        var m = v
        repeat {
            bytes.append(UInt8(48 + m % 10))
            m /= 10
        } while m > 0
        bytes[start...].reverse()
    }

    /// The same through the C library's printf (the reference it is tested against).
    static func appendFixedWithPrintf(_ value: Double, to bytes: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 512) { buffer in
            let n = Int(cffmpeg_format_fixed(value, buffer.baseAddress, buffer.count))
            buffer.withMemoryRebound(to: UInt8.self) { bytes.append(contentsOf: $0.prefix(max(0, min(n, 511)))) }
        }
    }

    public static func fixed(_ value: Double) -> String {
        var bytes: [UInt8] = []
        appendFixed(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
