/// JT/T 808 (2013 and 2019) terminal messages as tracker gateways forward
/// them: 0x7e framing, 0x7d escapes, the XOR checksum, the header, and the
/// location reports (0x0200, 0x0201, and 0x0704 batches of buffered points).
public enum JT808 {
    public struct Header: Sendable, Equatable {
        public var messageId: UInt16
        public var bodyLength: Int
        /// Bits 10–12 of the attributes; 0 is a plain body, 1 RSA.
        public var encryption: Int
        public var is2019: Bool
        public var protocolVersion: Int?
        /// The terminal phone number as BCD digits, leading zeros kept.
        public var phone: String
        public var serial: UInt16
        public var packetTotal: Int?
        public var packetIndex: Int?
    }

    public struct Frame: Sendable, Equatable {
        public var header: Header
        public var body: [UInt8]
        public var declaredChecksum: UInt8
        public var computedChecksum: UInt8
        public var checksumOK: Bool { declaredChecksum == computedChecksum }
    }

    /// An additional information item of a location report.
    public struct Item: Sendable, Equatable {
        public var id: UInt8
        public var value: [UInt8]

        public init(id: UInt8, value: [UInt8]) {
            self.id = id
            self.value = value
        }

        /// The value as a big-endian unsigned number (1 to 4 bytes).
        public var unsigned: UInt32? {
            guard (1...4).contains(value.count) else { return nil }
            return value.reduce(0) { $0 << 8 | UInt32($1) }
        }
    }

    public struct Location: Sendable, Equatable {
        public var alarm: UInt32
        public var status: UInt32
        /// Degrees, the sign taken from status bits 2 (south) and 3 (west).
        public var lat: Double
        public var lon: Double
        public var altitudeM: Int
        public var speedKmh: Double
        public var directionDeg: Int
        public var time: Instant
        public var items: [Item]
        /// Why the additional items stop early, if they do.
        public var itemsProblem: String?

        public var isFixed: Bool { status & 0x2 != 0 }
        public func item(_ id: UInt8) -> Item? { items.first { $0.id == id } }
    }

    /// The standard puts the terminal's clock at GMT+8.
    public static let clockOffsetSeconds = UTCOffset.chinaStandardTime

    // MARK: Framing

    /// The escaped contents of each 0x7e-delimited frame in a payload, and
    /// how many bytes lay outside every frame.
    public static func frames(in payload: [UInt8]) throws(DecodeFailure) -> (frames: [Range<Int>], stray: Int) {
        var frames: [Range<Int>] = []
        var stray = 0
        var start: Int?
        for (i, b) in payload.enumerated() where b == 0x7e || start == nil {
            guard b == 0x7e else { stray += 1; continue }
            if let s = start {
                if s == i { start = i + 1; continue } // 7e7e: the next frame opens
                frames.append(s..<i)
                start = nil
            } else {
                start = i + 1
            }
        }
        if let s = start, s < payload.count {
            throw DecodeFailure(.badFrame, "a frame opened by 0x7e at byte \(s - 1) is never closed")
        }
        return (frames, stray)
    }

    public static func unescape(_ payload: [UInt8], _ range: Range<Int>) throws(DecodeFailure) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var i = range.lowerBound
        while i < range.upperBound {
            let b = payload[i]
            if b == 0x7d {
                guard i + 1 < range.upperBound else {
                    throw DecodeFailure(.badFrame, "the frame ends inside a 0x7d escape")
                }
                switch payload[i + 1] {
                case 0x01: out.append(0x7d)
                case 0x02: out.append(0x7e)
                default:
                    throw DecodeFailure(.badFrame, "escape 0x7d 0x\(Hex.string([payload[i + 1]])) is neither 0x7d01 nor 0x7d02")
                }
                i += 2
            } else {
                out.append(b)
                i += 1
            }
        }
        return out
    }

    /// One unescaped frame (header, body, checksum byte). The checksum is
    /// compared but not enforced: whether a bad one is kept is per device.
    /// The body length is checked by `locations`, for the messages whose
    /// body is read.
    public static func frame(_ bytes: [UInt8]) throws(DecodeFailure) -> Frame {
        guard bytes.count >= 13 else {
            throw DecodeFailure(.badFrame, "frame is \(bytes.count) bytes, shorter than the smallest header and checksum (13)")
        }
        var computed: UInt8 = 0
        for b in bytes.dropLast() { computed ^= b }
        var r = ByteReader(bytes, to: bytes.count - 1)
        let messageId = try r.u16("message id")
        let attributes = try r.u16("message attributes")
        let is2019 = attributes & 0x4000 != 0
        var version: Int?
        if is2019 { version = Int(try r.u8("protocol version")) }
        // BCD digits; some terminals put other nibbles there, kept as hex digits.
        let phone = Hex.string(try r.bytes(is2019 ? 10 : 6, "terminal phone"))
        let serial = try r.u16("serial number")
        var total: Int?
        var index: Int?
        if attributes & 0x2000 != 0 {
            total = Int(try r.u16("sub-packet total"))
            index = Int(try r.u16("sub-packet index"))
        }
        let length = Int(attributes & 0x03ff)
        let header = Header(messageId: messageId, bodyLength: length, encryption: Int(attributes >> 10 & 0x7),
                            is2019: is2019, protocolVersion: version, phone: phone, serial: serial,
                            packetTotal: total, packetIndex: index)
        return Frame(header: header, body: try r.bytes(r.remaining, "body"), declaredChecksum: bytes[bytes.count - 1],
                     computedChecksum: computed)
    }

    // MARK: Location reports

    public enum Batch: String, Sendable { case normal, blindArea = "blind_area" }

    /// Whether a message carries locations: 0x0200 report, 0x0201 query reply, 0x0704 batch.
    public static func carriesLocations(_ messageId: UInt16) -> Bool {
        messageId == 0x0200 || messageId == 0x0201 || messageId == 0x0704
    }

    /// The locations a location message carries, and for 0x0704 which kind
    /// of batch it is.
    public static func locations(_ frame: Frame) throws(DecodeFailure) -> (points: [Location], batch: Batch?) {
        let id = frame.header.messageId
        guard frame.header.bodyLength == frame.body.count else {
            throw DecodeFailure(.badFrame, """
                header says the body is \(frame.header.bodyLength) bytes but \(frame.body.count) follow (message 0x\(hex16(id)))
                """)
        }
        var r = ByteReader(frame.body)
        switch id {
        case 0x0200:
            return ([try location(&r, end: frame.body.count)], nil)
        case 0x0201:
            _ = try r.u16("reply serial number")
            return ([try location(&r, end: frame.body.count)], nil)
        case 0x0704:
            let count = Int(try r.u16("batch item count"))
            let kind = try r.u8("batch type")
            var points: [Location] = []
            for n in 0..<count {
                let length = Int(try r.u16("length of batch item \(n + 1)"))
                guard length <= r.remaining else {
                    throw DecodeFailure(.badFrame, "batch item \(n + 1) of \(count) says \(length) bytes but \(r.remaining) remain")
                }
                let end = r.offset + length
                points.append(try location(&r, end: end))
            }
            guard r.remaining == 0 else {
                throw DecodeFailure(.badFrame, "\(r.remaining) bytes follow the \(count) items of the batch")
            }
            return (points, kind == 1 ? .blindArea : .normal)
        default:
            throw DecodeFailure(.unsupported, "message 0x\(hex16(id)) carries no location")
        }
    }

    /// The location information body (28 bytes) and its additional items, up to `end`.
    static func location(_ r: inout ByteReader, end: Int) throws(DecodeFailure) -> Location {
        let alarm = try r.u32("alarm flags")
        let status = try r.u32("status")
        let rawLat = try r.u32("latitude")
        let rawLon = try r.u32("longitude")
        let altitude = try r.u16("altitude")
        let speed = try r.u16("speed")
        let direction = try r.u16("direction")
        let timeBytes = try r.bytes(6, "time")
        guard let digits = bcdDigits(timeBytes) else {
            throw DecodeFailure(.invalidValue, "time \(Hex.string(timeBytes)) is not BCD")
        }
        let t = Array(digits.utf8)
        func two(_ i: Int) -> Int { Int(t[i] - 48) * 10 + Int(t[i + 1] - 48) }
        guard let time = civilInstant(year: 2000 + two(0), month: two(2), day: two(4), hour: two(6), minute: two(8),
                                      second: two(10), offsetSeconds: clockOffsetSeconds)
        else {
            throw DecodeFailure(.invalidValue, "time \(digits) (YYMMDDhhmmss, GMT+8) is not a valid time")
        }
        var items: [Item] = []
        var itemsProblem: String?
        while r.offset < end {
            guard end - r.offset >= 2 else {
                itemsProblem = "\(end - r.offset) byte after the last additional item"
                break
            }
            let id = try r.u8("additional item id")
            let length = Int(try r.u8("length of additional item 0x\(Hex.string([id]))"))
            guard r.offset + length <= end else {
                itemsProblem = "additional item 0x\(Hex.string([id])) says \(length) bytes but \(end - r.offset) remain"
                break
            }
            items.append(Item(id: id, value: try r.bytes(length, "additional item 0x\(Hex.string([id]))")))
        }
        // The position is sound even when a vendor's trailing items are not:
        // it is kept, marked, and the bytes stay in the inbox.
        _ = try r.bytes(end - r.offset, "the rest of the location")
        let lat = Double(rawLat) / 1e6
        let lon = Double(rawLon) / 1e6
        guard lat <= 90 else {
            throw DecodeFailure(.outOfRange, "latitude \(lat) is above 90 (longitude \(lon)): are the two swapped?")
        }
        guard lon <= 180 else {
            throw DecodeFailure(.outOfRange, "longitude \(lon) is above 180")
        }
        return Location(alarm: alarm, status: status,
                        lat: status & 0x4 != 0 ? -lat : lat, lon: status & 0x8 != 0 ? -lon : lon,
                        altitudeM: Int(Int16(bitPattern: altitude)), speedKmh: Double(speed) / 10,
                        directionDeg: Int(direction), time: time, items: items, itemsProblem: itemsProblem)
    }

    static func bcdDigits(_ bytes: [UInt8]) -> String? {
        var out: [UInt8] = []
        for b in bytes {
            guard b >> 4 <= 9, b & 0xf <= 9 else { return nil }
            out.append(48 + b >> 4)
            out.append(48 + b & 0xf)
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func hex16(_ v: UInt16) -> String { Hex.string(v) }

    /// The phone without its leading zeros: 2013 headers carry 12 digits,
    /// 2019 headers 20, for the same terminal.
    public static func canonicalPhone(_ phone: String) -> String {
        let trimmed = phone.drop { $0 == "0" }
        return trimmed.isEmpty ? "0" : String(trimmed)
    }

    // MARK: Names

    public static let alarmNames: [(bit: Int, name: String)] = [
        (0, "emergency"), (1, "overspeed"), (2, "fatigue_driving"), (3, "danger_warning"), (4, "gnss_fault"),
        (5, "gnss_antenna_cut"), (6, "gnss_antenna_short"), (7, "power_undervoltage"), (8, "power_cut"),
        (9, "display_fault"), (10, "tts_fault"), (11, "camera_fault"), (12, "ic_card_fault"),
        (13, "overspeed_warning"), (14, "fatigue_warning"), (18, "driving_overtime"), (19, "parking_overtime"),
        (20, "area_in_out"), (21, "route_in_out"), (22, "route_time"), (23, "route_deviation"), (24, "vss_fault"),
        (25, "fuel_abnormal"), (26, "stolen"), (27, "illegal_ignition"), (28, "illegal_displacement"),
        (29, "collision_warning"), (30, "rollover_warning"), (31, "illegal_door_open"),
    ]

    /// Status bits other than the hemisphere (2–3) and load (8–9) bits, which are
    /// read into the sign of the position and `load`.
    public static let statusNames: [(bit: Int, name: String)] = [
        (0, "acc_on"), (1, "fixed"), (4, "out_of_service"), (5, "position_encrypted"), (10, "oil_cut"),
        (11, "circuit_cut"), (12, "door_locked"), (13, "door1_open"), (14, "door2_open"), (15, "door3_open"),
        (16, "door4_open"), (17, "door5_open"), (18, "gps"), (19, "beidou"), (20, "glonass"), (21, "galileo"),
        (22, "moving"),
    ]

    /// The names of the set bits; a bit the table does not name is `bitN`.
    public static func names(_ word: UInt32, _ table: [(bit: Int, name: String)], skipping: Set<Int> = []) -> [String] {
        (0..<32).compactMap { bit in
            guard word >> UInt32(bit) & 1 == 1, !skipping.contains(bit) else { return nil }
            return table.first { $0.bit == bit }?.name ?? "bit\(bit)"
        }
    }

    /// Status bits 8–9 as the standard defines them.
    public static func loadState(status: UInt32) -> LoadState {
        switch status >> 8 & 0x3 {
        case 0: .empty
        case 1: .partial
        case 3: .full
        default: .unknown
        }
    }
}
