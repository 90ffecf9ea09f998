import Foundation
import MuckwatchCore

/// Writing JT/T 808 and HJ 212 messages: for the scenario generator, the
/// decode benchmark and tests, which need real frames with known contents.
extension JT808 {
    /// A location body (0x0200's, or one 0x0704 item): the 28 fixed bytes
    /// and the additional items. `time` is written as GMT+8 BCD.
    public static func locationBody(alarm: UInt32 = 0, status: UInt32, lat: Double, lon: Double, altitudeM: Int = 0,
                                    speedKmh: Double, directionDeg: Int, time: Instant, items: [Item] = []) -> [UInt8] {
        var status = status
        if lat < 0 { status |= 0x4 }
        if lon < 0 { status |= 0x8 }
        // Out-of-range values are clamped to what the fields hold, never trapped on.
        func u32(_ v: Double) -> UInt32 { v.isFinite ? UInt32(max(0, min(Double(UInt32.max), v.rounded()))) : 0 }
        func u16(_ v: Double) -> UInt16 { v.isFinite ? UInt16(max(0, min(Double(UInt16.max), v.rounded()))) : 0 }
        var body = be32(alarm) + be32(status)
        body += be32(u32(abs(lat) * 1e6)) + be32(u32(abs(lon) * 1e6))
        body += be16(UInt16(truncatingIfNeeded: altitudeM)) + be16(u16(speedKmh * 10)) + be16(UInt16(clamping: directionDeg))
        let local = RFC3339.format(time, offsetSeconds: clockOffsetSeconds)
        let d = Array(local.utf8)
        let digits = d[2..<4] + d[5..<7] + d[8..<10] + d[11..<13] + d[14..<16] + d[17..<19]
        body += bcd(Array(digits))
        for item in items { body += [item.id, UInt8(clamping: item.value.count)] + item.value.prefix(255) }
        return body
    }

    /// A 0x0704 body: the items, each with its length.
    public static func batchBody(_ locations: [[UInt8]], blindArea: Bool) -> [UInt8] {
        var body = be16(UInt16(clamping: locations.count)) + [blindArea ? 1 : 0]
        for l in locations { body += be16(UInt16(clamping: l.count)) + l }
        return body
    }

    /// A whole frame: header, body, checksum, escaped and framed by 0x7e.
    /// `phone` is digits (12 for 2013, 20 for 2019; shorter is zero-padded).
    public static func frame(messageId: UInt16, phone: String, serial: UInt16, body: [UInt8], is2019: Bool = false,
                             encryption: Int = 0, corruptChecksum: Bool = false) -> [UInt8] {
        var attributes = UInt16(body.count & 0x3ff) | UInt16(encryption & 0x7) << 10
        if is2019 { attributes |= 0x4000 }
        var raw = be16(messageId) + be16(attributes)
        if is2019 { raw.append(1) }
        let width = is2019 ? 20 : 12
        let padded = String(repeating: "0", count: max(0, width - phone.count)) + phone.suffix(width)
        raw += bcd(Array(padded.utf8)) + be16(serial) + body
        raw.append(raw.reduce(0, ^) ^ (corruptChecksum ? 0x5a : 0))
        var out: [UInt8] = [0x7e]
        for b in raw {
            switch b {
            case 0x7e: out += [0x7d, 0x02]
            case 0x7d: out += [0x7d, 0x01]
            default: out.append(b)
            }
        }
        out.append(0x7e)
        return out
    }

    private static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
    private static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }
    /// ASCII digits, two to a byte.
    private static func bcd(_ digits: [UInt8]) -> [UInt8] {
        stride(from: 0, to: digits.count - 1, by: 2).map { (digits[$0] - 48) << 4 | (digits[$0 + 1] - 48) }
    }
}

extension HJ212 {
    /// `##` + length + the data segment + its CRC16 + CRLF.
    public static func packet(_ dataSegment: String, corruptCRC: Bool = false) -> [UInt8] {
        let data = Array(dataSegment.utf8)
        let length = String(data.count)
        let crc = crc16(data) ^ (corruptCRC ? 0x0101 : 0)
        let crcText = JT808.hex16(crc).uppercased()
        return Array(("##" + String(repeating: "0", count: max(0, 4 - length.count)) + length).utf8) + data
            + Array((crcText + "\r\n").utf8)
    }

    /// `YYYYMMDDhhmmss` in China local time.
    public static func timeText(_ t: Instant) -> String {
        let d = RFC3339.format(t, offsetSeconds: clockOffsetSeconds)
        return d.prefix(19).filter(\.isNumber)
    }
}
