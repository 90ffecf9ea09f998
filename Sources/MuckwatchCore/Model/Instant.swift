// MuckwatchCore owns the domain: what a message says (decoding), what it means
// (rules), and what the dispatch centre gets from it (incidents, alerts, draft
// cases). It does no I/O: the daemon, replay and the tests drive it alike.

/// A point in time as milliseconds since the Unix epoch. The pipeline never
/// reads the system clock: every instant comes from a message or a feed.
public struct Instant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var millis: Int64

    public init(millis: Int64) { self.millis = millis }

    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.millis < rhs.millis }

    public func adding(seconds: Double) -> Instant {
        Instant(millis: millis + Int64((seconds * 1000).rounded()))
    }

    /// Seconds from `earlier` to `self`.
    public func seconds(since earlier: Instant) -> Double {
        Double(millis - earlier.millis) / 1000
    }

    public var description: String { RFC3339.format(self, offsetSeconds: 0) }
}

/// RFC 3339 timestamps, as the payloads and outputs use them. A fixed,
/// strict grammar, so it is parsed directly rather than through a locale-aware
/// formatter (whose fractional-second rounding differs across platforms).
/// UTC offsets the product knows by name.
public enum UTCOffset {
    /// China Standard Time (UTC+8): the default zone, and the clock JT/T 808
    /// and HJ 212 devices report in.
    public static let chinaStandardTime = 8 * 3600
}

public enum RFC3339 {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fff...](Z|±HH:MM)`; `nil` if malformed.
    public static func parse(_ text: String) -> Instant? {
        var text = text
        return text.withUTF8 { parse($0) }
    }

    /// As `parse(_:)`, from UTF-8 bytes.
    public static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Instant? {
        func digits(_ at: Int, _ count: Int) -> Int? {
            guard at + count <= b.count else { return nil }
            var v = 0
            for i in at..<(at + count) {
                let c = b[i]
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard b.count >= 20,
              let year = digits(0, 4), b[4] == UInt8(ascii: "-"),
              let month = digits(5, 2), b[7] == UInt8(ascii: "-"),
              let day = digits(8, 2), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == UInt8(ascii: " "),
              let hour = digits(11, 2), b[13] == UInt8(ascii: ":"),
              let minute = digits(14, 2), b[16] == UInt8(ascii: ":"),
              let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
              hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var millis = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 100
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                millis += Int(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        switch b[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            i += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
            guard let oh = digits(i + 1, 2), i + 3 < b.count, b[i + 3] == UInt8(ascii: ":"),
                  let om = digits(i + 4, 2), oh < 24, om < 60
            else { return nil }
            offset = sign * (oh * 3600 + om * 60)
            i += 6
        default:
            return nil
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let secs = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offset)
        return Instant(millis: secs * 1000 + Int64(millis))
    }

    /// Formats with millisecond precision at a fixed UTC offset, e.g.
    /// `2026-11-24T21:16:41.005+08:00` (`Z` for offset 0).
    public static func format(_ instant: Instant, offsetSeconds: Int) -> String {
        let local = instant.millis + Int64(offsetSeconds) * 1000
        let ms = Int(((local % 1000) + 1000) % 1000)
        let totalSeconds = (local - Int64(ms)) / 1000
        let days = Int(floorDiv(totalSeconds, 86_400))
        let secOfDay = Int(totalSeconds - Int64(days) * 86_400)
        let (y, m, d) = civilFromDays(days)
        var s = pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) + "T"
        s += pad(secOfDay / 3600, 2) + ":" + pad(secOfDay / 60 % 60, 2) + ":" + pad(secOfDay % 60, 2)
        s += "." + pad(ms, 3)
        if offsetSeconds == 0 { return s + "Z" }
        let sign = offsetSeconds < 0 ? "-" : "+"
        let a = abs(offsetSeconds)
        return s + sign + pad(a / 3600, 2) + ":" + pad(a / 60 % 60, 2)
    }

    /// `YYYYMMDD` of the local date at the given offset (for case ids).
    public static func compactDate(_ instant: Instant, offsetSeconds: Int) -> String {
        let local = floorDiv(instant.millis, 1000) + Int64(offsetSeconds)
        let (y, m, d) = civilFromDays(Int(floorDiv(local, 86_400)))
        return pad(y, 4) + pad(m, 2) + pad(d, 2)
    }

    private static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// Days in a month of the proleptic Gregorian calendar.
    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 1970-01-01 to a civil date: Howard Hinnant's days-from-civil
    /// (proleptic Gregorian), with wrapping arithmetic so that any values a
    /// parser holds give a number, not a trap.
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year &- 1 : year
        let era = (y >= 0 ? y : y &- 399) / 400
        let yoe = y &- era &* 400
        let mp = (month &+ 9) % 12
        let doy = (153 &* mp &+ 2) / 5 &+ day &- 1
        let doe = yoe &* 365 &+ yoe / 4 &- yoe / 100 &+ doy
        return era &* 146_097 &+ doe &- 719_468
    }

    /// (year, month, day) of the day `z0` days after 1970-01-01.
    public static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
