// MISB0601.swift owns the decoding of MISB ST 0601 (UAS Datalink Local Set)
// KLV packets: finding them in a byte buffer that holds any number of
// concatenated packets (as an MPEG-TS KLV stream delivers them), checking the
// key, the BER lengths and the BCC-16 checksum, and turning the items that
// the dispatch centre uses (time, platform attitude, sensor and frame-centre
// position, the identifying strings, the LS version) into numbers. Every
// other item, nested sets included, is kept as raw bytes. It never traps on
// any input: every index is checked against the buffer first.
//
// Decisions worth knowing:
// - The key is matched on every byte except octet 8 (index 7), the UL
//   version byte: SMPTE ST 298/336 make it the registry "era" in which the
//   entry was defined, and two ULs differing only in it are not allowed, so
//   a sender using another version byte still means ST 0601.
// - A packet whose checksum is wrong, or which has none, is `.bad`; its
//   values are only reachable through `Problem.untrusted`.
// - A value with the wrong length for its tag (or a repeated tag) does not
//   sink a packet whose checksum holds: that field stays nil, the raw item is
//   kept in `otherItems`, and the packet's `problems` says why. A broken item
//   structure (an item running past its set) does make the packet `.bad`.
// - The standard's "reported as error / out of range" values (0x8000,
//   0x80000000 for the signed angles and positions) decode as nil, and their
//   tags are listed in `errorTags` so they are not confused with absence.

/// One ST 0601 packet whose checksum holds. Angles in degrees, distances in
/// metres, positions WGS84 degrees; nil when the item is absent, reported as
/// an error, or could not be decoded (then see `problems`).
public struct MISB0601Packet: Sendable, Equatable {
    /// Tag 2 truncated to the millisecond.
    public var time: Instant?
    /// Tag 2 as sent: microseconds since 1970 (UTC, no leap seconds).
    public var timeMicros: Int64?
    public var missionId: String?
    public var platformTailNumber: String?
    public var platformDesignation: String?
    public var imageSourceSensor: String?
    public var imageCoordinateSystem: String?
    public var platformHeadingDeg: Double?
    public var platformPitchDeg: Double?
    public var platformRollDeg: Double?
    public var sensorLat: Double?
    public var sensorLon: Double?
    public var sensorAltM: Double?
    public var sensorHFOVDeg: Double?
    public var sensorVFOVDeg: Double?
    public var sensorRelAzimuthDeg: Double?
    public var sensorRelElevationDeg: Double?
    public var sensorRelRollDeg: Double?
    public var slantRangeM: Double?
    public var frameCenterLat: Double?
    public var frameCenterLon: Double?
    public var frameCenterElevationM: Double?
    /// Tag 65, the UAS LS version number.
    public var version: Int?
    /// Tag 1 as declared (for a `.packet`, it equals the computed one).
    public var checksum: UInt16
    /// Every item not decoded into a field above, in packet order: unknown
    /// tags, nested sets (48 security, 74 VMTI, ...), and known tags whose
    /// value could not be decoded or was repeated.
    public var otherItems: [MISB0601.RawItem]
    /// Tags present with the standard's "reported as error" value.
    public var errorTags: [UInt]
    /// Values that could not be decoded; the rest of the packet stands.
    public var problems: [MISB0601.Problem]

    public init() {
        checksum = 0
        otherItems = []
        errorTags = []
        problems = []
    }
}

public enum MISB0601 {
    /// 06 0E 2B 34 02 0B 01 01 0E 01 03 01 01 00 00 00. Octet 8 (index 7) is
    /// not compared: see the header comment.
    public static let universalKey: [UInt8] = [
        0x06, 0x0E, 0x2B, 0x34, 0x02, 0x0B, 0x01, 0x01,
        0x0E, 0x01, 0x03, 0x01, 0x01, 0x00, 0x00, 0x00,
    ]
    static let versionByteIndex = 7
    /// Every SMPTE UL starts so; it is what the scanner resynchronises on.
    static let smptePrefix: [UInt8] = [0x06, 0x0E, 0x2B, 0x34]

    /// One local-set item kept undecoded.
    public struct RawItem: Sendable, Equatable {
        public var tag: UInt
        public var bytes: [UInt8]
        public init(tag: UInt, bytes: [UInt8]) {
            self.tag = tag
            self.bytes = bytes
        }
    }

    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public enum Kind: Sendable, Equatable {
            /// The packet's tag 1 disagrees with the BCC-16 of its bytes.
            case checksumMismatch(declared: UInt16, computed: UInt16)
            /// The packet does not end with a tag 1 of length 2.
            case missingChecksum
            /// The buffer ends (or the next key starts) before the packet does.
            case truncated
            /// A KLV set under another SMPTE key (e.g. ST 0903 VMTI), skipped.
            case notST0601(key: [UInt8])
            /// Lengths or items that break the KLV structure, or a value that
            /// cannot be decoded for its tag.
            case malformed
            /// Bytes before a key that belong to no packet.
            case skipped
        }

        /// Where it starts, counted from the first byte given to `scan`
        /// (for a value problem: the item's tag byte).
        public var offset: Int
        /// How many bytes it covers.
        public var length: Int
        public var kind: Kind
        /// The item concerned, for a value problem.
        public var tag: UInt?
        /// One sentence.
        public var reason: String
        /// For a checksum mismatch: what the packet would have said, if its
        /// items parse. Not to be trusted.
        public var untrusted: MISB0601Packet?

        public init(offset: Int, length: Int, kind: Kind, tag: UInt? = nil, reason: String, untrusted: MISB0601Packet? = nil) {
            self.offset = offset
            self.length = length
            self.kind = kind
            self.tag = tag
            self.reason = reason
            self.untrusted = untrusted
        }

        public var description: String { "byte \(offset): \(reason)" }
    }

    public enum Item: Sendable, Equatable {
        case packet(MISB0601Packet)
        case bad(Problem)
    }

    /// Every packet in `bytes`, in order, with a `.bad` for each stretch
    /// that is not a good ST 0601 packet.
    public static func scan(_ bytes: some Collection<UInt8>) -> [Item] {
        scan(Array(bytes))
    }

    /// Every packet in `bytes`, in order, with a `.bad` for each stretch
    /// that is not a good ST 0601 packet.
    public static func scan(_ bytes: [UInt8]) -> [Item] {
        var scanner = Scanner(bytes: bytes)
        scanner.run()
        return scanner.items
    }

    /// The ST 0601 BCC-16: a 16-bit running sum in which the bytes at even
    /// offsets from the start of the key count as high bytes.
    static func bcc16(_ bytes: [UInt8], from start: Int, to end: Int) -> UInt16 {
        var sum: UInt16 = 0
        var i = max(start, 0)
        let stop = min(end, bytes.count)
        while i < stop {
            let b = UInt16(bytes[i])
            sum &+= (i - start) % 2 == 0 ? b << 8 : b
            i += 1
        }
        return sum
    }

    static func hex16(_ v: UInt16) -> String { "0x" + Hex.string(v).uppercased() }
}

// MARK: - BER

extension MISB0601 {
    enum Parsed<T> {
        case ok(T, next: Int)
        /// The encoding needs bytes beyond `end`.
        case incomplete
        /// The bytes cannot be a valid encoding.
        case invalid(String)
    }

    /// A BER length (short form, or long form of 1...8 octets).
    static func berLength(_ b: [UInt8], at i: Int, end: Int) -> Parsed<Int> {
        guard i < end, i < b.count else { return .incomplete }
        let first = b[i]
        if first < 0x80 { return .ok(Int(first), next: i + 1) }
        let count = Int(first & 0x7F)
        // 0x80 is BER's indefinite form, which KLV does not allow.
        guard count > 0 else { return .invalid("BER length 0x80 (indefinite) is not allowed in KLV") }
        guard count <= 8 else { return .invalid("BER length of \(count) octets is too long") }
        guard count <= end - (i + 1), i + 1 + count <= b.count else { return .incomplete }
        var value: UInt64 = 0
        for k in 0..<count { value = value << 8 | UInt64(b[i + 1 + k]) }
        guard value <= UInt64(Int.max) else { return .invalid("BER length \(value) is beyond any buffer") }
        return .ok(Int(value), next: i + 1 + count)
    }

    /// A BER-OID tag: 7 bits an octet, high bit set on all but the last.
    static func berOID(_ b: [UInt8], at i: Int, end: Int) -> Parsed<UInt> {
        var value: UInt = 0
        var j = i
        // ST 0601 tags need at most 2 octets; 4 leaves room and can't overflow.
        while j < end, j < b.count, j - i < 4 {
            let octet = b[j]
            value = value << 7 | UInt(octet & 0x7F)
            j += 1
            if octet & 0x80 == 0 { return .ok(value, next: j) }
        }
        if j - i >= 4 { return .invalid("tag longer than 4 octets") }
        return .incomplete
    }
}

// MARK: - Scanner

extension MISB0601 {
    struct Scanner {
        let b: [UInt8]
        var items: [Item] = []
        private var garbageStart: Int?

        init(bytes: [UInt8]) { b = bytes }

        mutating func run() {
            var i = 0
            let n = b.count
            while i < n {
                if hasPrefix(at: i) {
                    flushGarbage(upTo: i)
                    i = readSet(at: i)
                } else if n - i < MISB0601.smptePrefix.count, isKeyPrefix(from: i) {
                    // A key cut short by the end of the buffer.
                    flushGarbage(upTo: i)
                    bad(i, n - i, .truncated, "ST 0601 key cut short: only \(n - i) of 16 bytes before the end of the buffer")
                    i = n
                } else {
                    if garbageStart == nil { garbageStart = i }
                    i += 1
                }
            }
            flushGarbage(upTo: n)
        }

        private mutating func bad(_ offset: Int, _ length: Int, _ kind: Problem.Kind, _ reason: String, untrusted: MISB0601Packet? = nil) {
            items.append(.bad(Problem(offset: offset, length: length, kind: kind, reason: reason, untrusted: untrusted)))
        }

        private mutating func flushGarbage(upTo end: Int) {
            guard let start = garbageStart else { return }
            garbageStart = nil
            // Its tail may be the start of an ST 0601 key, cut short by the next one.
            var cut = end
            for k in stride(from: min(15, end - start), to: 0, by: -1) where isKeyPrefix(from: end - k, count: k) {
                cut = end - k
                break
            }
            if cut > start {
                bad(start, cut - start, .skipped, "\(cut - start) bytes skipped: no KLV key there")
            }
            if cut < end {
                bad(cut, end - cut, .truncated, "ST 0601 key cut short after \(end - cut) of its 16 bytes")
            }
        }

        private func hasPrefix(at i: Int) -> Bool {
            let p = MISB0601.smptePrefix
            guard b.count - i >= p.count else { return false }
            for k in 0..<p.count where b[i + k] != p[k] { return false }
            return true
        }

        /// Whether b[i...] (all of it, up to 16 bytes, or `count` bytes) could
        /// begin an ST 0601 key.
        private func isKeyPrefix(from i: Int, count limit: Int = 16) -> Bool {
            let key = MISB0601.universalKey
            let count = min(b.count - i, key.count, limit)
            guard i >= 0, count > 0 else { return false }
            for k in 0..<count where k != MISB0601.versionByteIndex && b[i + k] != key[k] { return false }
            return true
        }

        private func isST0601Key(at i: Int) -> Bool {
            b.count - i >= 16 && isKeyPrefix(from: i)
        }

        /// The next SMPTE key prefix in (from, limit), if any.
        private func nextPrefix(after from: Int, before limit: Int) -> Int? {
            var j = from + 1
            while j < min(limit, b.count) {
                if hasPrefix(at: j) { return j }
                j += 1
            }
            return nil
        }

        /// Reads the set whose key starts at `i`; returns where to go on.
        private mutating func readSet(at i: Int) -> Int {
            let n = b.count
            let st0601 = isKeyPrefix(from: i)
            guard n - i >= 16 else {
                if st0601 {
                    bad(i, n - i, .truncated, "ST 0601 key cut short: only \(n - i) of 16 bytes before the end of the buffer")
                } else {
                    bad(i, n - i, .skipped, "\(n - i) bytes skipped: a KLV key cut short by the end of the buffer, not ST 0601")
                }
                return n
            }
            // Another key starting inside this one means this one was cut short.
            if let inner = nextPrefix(after: i, before: i + 16) {
                if isKeyPrefix(from: i, count: inner - i) {
                    bad(i, inner - i, .truncated, "ST 0601 key cut short: only \(inner - i) of 16 bytes before the next key")
                } else {
                    bad(i, inner - i, .skipped, "\(inner - i) bytes skipped: a KLV key cut short by the next key")
                }
                return inner
            }
            let key = Array(b[i..<(i + 16)])
            let what = st0601 ? "ST 0601 packet" : "KLV set under key \(Hex.string(key))"
            switch MISB0601.berLength(b, at: i + 16, end: n) {
            case .incomplete:
                bad(i, n - i, st0601 ? .truncated : .notST0601(key: key),
                    "\(what) cut short: its length field runs past the end of the buffer")
                return n
            case .invalid(let why):
                // Not a real key after all, most likely: look again one byte on.
                bad(i, 17, .malformed, "\(what) has an unusable length (\(why))")
                return i + 1
            case .ok(let length, let valueStart):
                let available = n - valueStart
                guard length <= available else {
                    // A cut packet may be followed by a whole one; resume at its key.
                    let resume = nextPrefix(after: i, before: n) ?? n
                    if st0601 {
                        bad(i, resume - i, .truncated,
                            "ST 0601 packet declares \(length) value bytes but only \(max(0, resume - valueStart)) follow before \(resume < n ? "the next key" : "the end of the buffer")")
                    } else {
                        bad(i, resume - i, .notST0601(key: key),
                            "KLV set under key \(Hex.string(key)) is not ST 0601 (and is cut short), skipped")
                    }
                    return resume
                }
                let end = valueStart + length
                guard st0601 else {
                    // A cut foreign set must not swallow the ST 0601 packet after it.
                    let stop = firstST0601Key(after: i, before: end) ?? end
                    bad(i, stop - i, .notST0601(key: key),
                        "KLV set under key \(Hex.string(key)) is not ST 0601, skipped\(stop < end ? " (cut short by an ST 0601 key)" : "")")
                    return stop
                }
                return readPacket(start: i, valueStart: valueStart, end: end)
            }
        }

        private mutating func readPacket(start: Int, valueStart: Int, end: Int) -> Int {
            // A packet that fails its checksum and has a key inside was cut
            // short and its length swallowed the start of the next packet:
            // say so, and resume at that key.
            func cutByNextKey() -> Int? {
                guard let inner = firstST0601Key(after: start, before: end) else { return nil }
                bad(start, inner - start, .truncated, "ST 0601 packet cut short by the next key, \(inner - start) bytes in")
                return inner
            }
            // Tag 1, length 2, two checksum bytes: the standard's last item.
            guard end - valueStart >= 4, b[end - 4] == 0x01, b[end - 3] == 0x02 else {
                if let inner = cutByNextKey() { return inner }
                bad(start, end - start, .missingChecksum, "ST 0601 packet does not end with a checksum (tag 1, length 2)")
                return end
            }
            let declared = UInt16(b[end - 2]) << 8 | UInt16(b[end - 1])
            let computed = MISB0601.bcc16(b, from: start, to: end - 2)
            let decoded = MISB0601.decodeItems(b, from: valueStart, to: end)
            guard declared == computed else {
                if let inner = cutByNextKey() { return inner }
                var untrusted: MISB0601Packet?
                if case .ok(var p) = decoded {
                    p.checksum = declared
                    untrusted = p
                }
                bad(start, end - start, .checksumMismatch(declared: declared, computed: computed),
                    "checksum \(MISB0601.hex16(declared)) declared, \(MISB0601.hex16(computed)) computed",
                    untrusted: untrusted)
                return end
            }
            switch decoded {
            case .broken(let problem):
                items.append(.bad(problem))
            case .ok(var p):
                p.checksum = declared
                items.append(.packet(p))
            }
            return end
        }

        private func firstST0601Key(after start: Int, before end: Int) -> Int? {
            var j = start + 1
            while j < end {
                if isST0601Key(at: j) { return j }
                j += 1
            }
            return nil
        }
    }
}

// MARK: - Items

extension MISB0601 {
    enum Decoded {
        case ok(MISB0601Packet)
        /// The item structure is broken: no packet can be had.
        case broken(Problem)
    }

    /// Decodes the items of a local set in b[from..<to]; the last item, the
    /// checksum, is expected there and is left to the caller to verify.
    static func decodeItems(_ b: [UInt8], from: Int, to end: Int) -> Decoded {
        var p = MISB0601Packet()
        var seen = Set<UInt>()
        var j = from
        var lastTag: UInt?
        var lastTagAt = from
        while j < end {
            let itemStart = j
            let tag: UInt
            switch berOID(b, at: j, end: end) {
            case .ok(let t, let next):
                tag = t
                j = next
            case .incomplete:
                return .broken(Problem(offset: itemStart, length: end - itemStart, kind: .malformed,
                                        reason: "item tag runs past the end of its packet"))
            case .invalid(let why):
                return .broken(Problem(offset: itemStart, length: end - itemStart, kind: .malformed,
                                        reason: "unusable item tag (\(why))"))
            }
            let length: Int
            switch berLength(b, at: j, end: end) {
            case .ok(let l, let next):
                length = l
                j = next
            case .incomplete:
                return .broken(Problem(offset: itemStart, length: end - itemStart, kind: .malformed, tag: tag,
                                        reason: "tag \(tag)'s length runs past the end of its packet"))
            case .invalid(let why):
                return .broken(Problem(offset: itemStart, length: end - itemStart, kind: .malformed, tag: tag,
                                        reason: "tag \(tag) has an unusable length (\(why))"))
            }
            guard length <= end - j else {
                return .broken(Problem(offset: itemStart, length: end - itemStart, kind: .malformed, tag: tag,
                                        reason: "tag \(tag) declares \(length) bytes but only \(end - j) remain in its packet"))
            }
            let value = Array(b[j..<(j + length)])
            j += length
            lastTag = tag
            lastTagAt = itemStart
            if j == end, tag == 1 { break }  // the checksum, handled by the caller
            if seen.contains(tag) {
                p.otherItems.append(RawItem(tag: tag, bytes: value))
                p.problems.append(Problem(offset: itemStart, length: j - itemStart, kind: .malformed, tag: tag,
                                          reason: "tag \(tag) repeated; the first value is kept"))
                continue
            }
            seen.insert(tag)
            if let why = apply(tag: tag, value: value, to: &p) {
                p.otherItems.append(RawItem(tag: tag, bytes: value))
                p.problems.append(Problem(offset: itemStart, length: j - itemStart, kind: .malformed, tag: tag, reason: why))
            }
        }
        guard lastTag == 1, end - lastTagAt == 4 else {
            return .broken(Problem(offset: from, length: end - from, kind: .missingChecksum,
                                    reason: "the packet's last item is not its checksum (tag 1, length 2)"))
        }
        return .ok(p)
    }

    /// Puts one item into `p`; a reason when its value cannot be decoded.
    /// Unknown tags go to `otherItems`.
    static func apply(tag: UInt, value v: [UInt8], to p: inout MISB0601Packet) -> String? {
        // A fixed-size value with the wrong length, in one sentence.
        func wrong(_ expected: Int) -> String {
            "tag \(tag) has \(v.count) bytes, expected \(expected); value dropped"
        }
        // Unsigned, with no error value in the standard.
        func unsigned(_ size: Int, _ range: Double, _ offset: Double = 0) -> (Double?, String?) {
            guard v.count == size else { return (nil, wrong(size)) }
            let max = Double(UInt64.max >> (64 - 8 * size))
            return (Double(bigEndian(v)) * range / max + offset, nil)
        }
        // Signed, ±range mapped to ±(2^(n-1)-1); -(2^(n-1)) means "reported as error".
        func signed(_ size: Int, _ range: Double) -> (Double?, String?) {
            guard v.count == size else { return (nil, wrong(size)) }
            let bits = 8 * size
            let raw = bigEndian(v)
            let errorValue: UInt64 = 1 << (bits - 1)
            if raw == errorValue {
                p.errorTags.append(tag)
                return (nil, nil)
            }
            // Sign-extend from `bits` to 64.
            let shift = UInt64(64 - bits)
            let s = Int64(bitPattern: raw << shift) >> Int64(shift)
            let max = Double((Int64(1) << Int64(bits - 1)) - 1)
            return (Double(s) * range / max, nil)
        }
        func text() -> String { String(decoding: v, as: UTF8.self) }

        var why: String?
        func set(_ r: (Double?, String?), _ field: WritableKeyPath<MISB0601Packet, Double?>) {
            p[keyPath: field] = r.0
            why = r.1
        }
        switch tag {
        case 2:
            guard v.count == 8 else { return wrong(8) }
            let raw = bigEndian(v)
            guard raw <= UInt64(Int64.max) else {
                return "tag 2 time stamp \(raw) µs is beyond any representable time; value dropped"
            }
            let micros = Int64(raw)
            p.timeMicros = micros
            p.time = Instant(millis: micros / 1000)
        case 3: p.missionId = text()
        case 4: p.platformTailNumber = text()
        case 10: p.platformDesignation = text()
        case 11: p.imageSourceSensor = text()
        case 12: p.imageCoordinateSystem = text()
        case 5: set(unsigned(2, 360), \.platformHeadingDeg)
        case 6: set(signed(2, 20), \.platformPitchDeg)
        case 7: set(signed(2, 50), \.platformRollDeg)
        case 13: set(signed(4, 90), \.sensorLat)
        case 14: set(signed(4, 180), \.sensorLon)
        case 15: set(unsigned(2, 19_900, -900), \.sensorAltM)
        case 16: set(unsigned(2, 180), \.sensorHFOVDeg)
        case 17: set(unsigned(2, 180), \.sensorVFOVDeg)
        case 18: set(unsigned(4, 360), \.sensorRelAzimuthDeg)
        case 19: set(signed(4, 180), \.sensorRelElevationDeg)
        case 20: set(unsigned(4, 360), \.sensorRelRollDeg)
        case 21: set(unsigned(4, 5_000_000), \.slantRangeM)
        case 23: set(signed(4, 90), \.frameCenterLat)
        case 24: set(signed(4, 180), \.frameCenterLon)
        case 25: set(unsigned(2, 19_900, -900), \.frameCenterElevationM)
        case 65:
            guard v.count == 1 else { return wrong(1) }
            p.version = Int(v[0])
        default:
            p.otherItems.append(RawItem(tag: tag, bytes: v))
        }
        return why
    }

    /// Big-endian unsigned value of up to 8 bytes (callers check the size).
    static func bigEndian(_ v: [UInt8]) -> UInt64 {
        var r: UInt64 = 0
        for byte in v.prefix(8) { r = r << 8 | UInt64(byte) }
        return r
    }
}
