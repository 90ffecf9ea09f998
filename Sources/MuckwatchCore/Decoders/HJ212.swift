/// HJ 212 (2005 and 2017) packets from monitoring instruments:
/// `##` + four-digit length + data segment + CRC16 + CRLF, the data segment's
/// QN/ST/CN/PW/MN/Flag/CP fields and the CP records' values and data flags.
public enum HJ212 {
    public struct Field: Sendable, Equatable {
        public var key: String
        public var value: String
    }

    public struct Packet: Sendable, Equatable {
        /// The data segment's own fields (QN, ST, CN, PW, MN, Flag, PNUM, PNO), in order.
        public var header: [Field]
        /// The CP records' fields (`DataTime`, `a34041-Rtd`, `a34041-Flag`, …), in order.
        public var cp: [Field]
        public var declaredCRC: UInt16
        public var computedCRC: UInt16
        public var crcOK: Bool { declaredCRC == computedCRC }

        public func field(_ key: String) -> String? { header.first { $0.key == key }?.value }
        public func value(_ key: String) -> String? { cp.first { $0.key == key }?.value }

        /// Flag bits 2–7 are the protocol version: 1 is HJ 212-2017, 0 (or no Flag) 2005.
        public var version: String {
            guard let flag = field("Flag").flatMap(Int.init) else { return "2005" }
            return flag >> 2 & 0x3f == 1 ? "2017" : "2005"
        }
    }

    /// The data flags of HJ 212-2017 (§6.6.4), by letter.
    public static let dataFlags: [String: String] = [
        "N": "normal", "F": "stopped", "M": "maintenance", "S": "manual", "D": "fault",
        "C": "calibration", "T": "over_range", "B": "communication_error",
    ]

    /// The instruments' clocks are China local time.
    public static let clockOffsetSeconds = UTCOffset.chinaStandardTime

    /// The standard's CRC16 of the data segment: not CRC-16/MODBUS, which
    /// shifts the byte in rather than the register's high byte out.
    public static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0xffff
        for b in bytes {
            crc = (crc >> 8) ^ UInt16(b)
            for _ in 0..<8 {
                let carry = crc & 1
                crc >>= 1
                if carry != 0 { crc ^= 0xa001 }
            }
        }
        return crc
    }

    /// Every packet in a payload, in order. A payload is one packet as the
    /// standard frames it; gateways that batch put several end to end.
    public static func packets(in payload: [UInt8]) throws(DecodeFailure) -> [Packet] {
        var out: [Packet] = []
        var i = 0
        func isSpace(_ b: UInt8) -> Bool { b == 0x0d || b == 0x0a || b == 0x20 || b == 0x09 }
        while i < payload.count {
            if isSpace(payload[i]) { i += 1; continue }
            let n = out.count + 1
            guard payload.count - i >= 6, payload[i] == UInt8(ascii: "#"), payload[i + 1] == UInt8(ascii: "#") else {
                throw DecodeFailure(.badFrame, "packet \(n) does not start with '##' (byte \(i))")
            }
            guard let declared = decimal(payload[(i + 2)..<(i + 6)]) else {
                throw DecodeFailure(.badFrame, "packet \(n): the length after '##' is not four digits")
            }
            let dataStart = i + 6
            // The data segment runs to the CRC: four hex digits before CRLF or the end.
            var end = dataStart
            while end < payload.count, payload[end] != 0x0d, payload[end] != 0x0a,
                  !(payload[end] == UInt8(ascii: "#") && end + 1 < payload.count && payload[end + 1] == UInt8(ascii: "#")) {
                end += 1
            }
            guard end - dataStart >= 4, let declaredCRC = hex16(payload[(end - 4)..<end]) else {
                throw DecodeFailure(.badFrame, "packet \(n) does not end with a four-digit hexadecimal CRC")
            }
            let data = payload[dataStart..<(end - 4)]
            guard data.count == declared else {
                throw DecodeFailure(.badFrame, "packet \(n): header says the data segment is \(declared) bytes but it is \(data.count)")
            }
            var packet = try parse(data)
            packet.declaredCRC = declaredCRC
            packet.computedCRC = crc16(data)
            out.append(packet)
            i = end
        }
        if out.isEmpty { throw DecodeFailure(.badFrame, "payload holds no '##' packet") }
        return out
    }

    /// `QN=…;ST=…;CN=…;PW=…;MN=…;Flag=…;CP=&&…&&`, read as bytes (the
    /// segment is ASCII; values are taken as UTF-8).
    static func parse(_ data: ArraySlice<UInt8>) throws(DecodeFailure) -> Packet {
        let marker = Array("CP=&&".utf8)
        guard let cpStart = data.indices.first(where: { i in
            i + marker.count <= data.endIndex && data[i..<(i + marker.count)].elementsEqual(marker)
        }) else {
            throw DecodeFailure(.badFrame, "the data segment has no 'CP=&&'")
        }
        let bodyStart = cpStart + marker.count
        var cpEnd: Int?
        var i = data.endIndex - 1
        while i > bodyStart {
            if data[i] == UInt8(ascii: "&") && data[i - 1] == UInt8(ascii: "&") { cpEnd = i - 1; break }
            i -= 1
        }
        guard let cpEnd else { throw DecodeFailure(.badFrame, "the CP field is not closed with '&&'") }
        return Packet(header: try fields(data[data.startIndex..<cpStart], cpToo: false, part: "data segment"),
                      cp: try fields(data[bodyStart..<cpEnd], cpToo: true, part: "CP"),
                      declaredCRC: 0, computedCRC: 0)
    }

    /// `key=value` pieces split at `;` (and at `,` inside CP).
    private static func fields(_ text: ArraySlice<UInt8>, cpToo: Bool, part: String) throws(DecodeFailure) -> [Field] {
        var out: [Field] = []
        var start = text.startIndex
        func piece(_ end: Int) throws(DecodeFailure) {
            guard start < end else { return }
            let p = text[start..<end]
            guard let eq = p.firstIndex(of: UInt8(ascii: "=")) else {
                throw DecodeFailure(.badFrame, "\(part) item '\(String(decoding: p.prefix(40), as: UTF8.self))' has no '='")
            }
            out.append(Field(key: String(decoding: p[p.startIndex..<eq], as: UTF8.self),
                             value: String(decoding: p[(eq + 1)...], as: UTF8.self)))
        }
        for i in text.indices where text[i] == UInt8(ascii: ";") || (cpToo && text[i] == UInt8(ascii: ",")) {
            try piece(i)
            start = i + 1
        }
        try piece(text.endIndex)
        return out
    }

    /// `YYYYMMDDhhmmss` or `YYYYMMDDhhmmsszzz` (QN's form), China local time.
    public static func time(_ text: String) -> Instant? {
        let d = Array(text.utf8)
        guard d.count == 14 || d.count == 17, d.allSatisfy({ (48...57).contains($0) }) else { return nil }
        func n(_ at: Int, _ count: Int) -> Int { d[at..<(at + count)].reduce(0) { $0 * 10 + Int($1 - 48) } }
        return civilInstant(year: n(0, 4), month: n(4, 2), day: n(6, 2), hour: n(8, 2), minute: n(10, 2),
                            second: n(12, 2), millis: d.count == 17 ? n(14, 3) : 0, offsetSeconds: clockOffsetSeconds)
    }

    private static func decimal(_ b: ArraySlice<UInt8>) -> Int? {
        var v = 0
        for c in b {
            guard (48...57).contains(c) else { return nil }
            v = v * 10 + Int(c - 48)
        }
        return v
    }

    private static func hex16(_ b: ArraySlice<UInt8>) -> UInt16? {
        guard let bytes = Hex.bytes(String(decoding: b, as: UTF8.self)), bytes.count == 2, !b.contains(32) else { return nil }
        return UInt16(bytes[0]) << 8 | UInt16(bytes[1])
    }
}
