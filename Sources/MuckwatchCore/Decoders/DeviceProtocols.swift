/// How the standard device protocols map onto Muckwatch's telemetry: the
/// per-vendor choices the standards leave open (a muck truck's cover, tipper
/// and load weight in JT/T 808; a fume monitor's codes in HJ 212), and which
/// devices are trusted despite a bad checksum.
public struct ProtocolSettings: Sendable, Equatable {
    public var jt808 = JT808Settings()
    public var hj212 = HJ212Settings()

    public init() {}
}

/// A device's own settings: its vendor's mapping and whether frames with a
/// wrong checksum are kept (and marked) rather than rejected.
public struct ProtocolDevice: Sendable, Equatable {
    public var vendor: String?
    public var lenientChecksum: Bool

    public init(vendor: String? = nil, lenientChecksum: Bool = false) {
        self.vendor = vendor
        self.lenientChecksum = lenientChecksum
    }
}

/// JT/T 808 has no wire field for a muck truck's cover, tipper or load
/// weight: vendors put them in status bits or in additional items
/// (0xE0–0xFF are the vendors' own). This says where one vendor puts them.
public struct JT808Profile: Sendable, Equatable {
    public enum Word: Sendable, Equatable {
        case status, alarm
        case item(UInt8)
    }

    /// A state read from bits: `setState` when any bit of `mask` is set.
    public struct Bits: Sendable, Equatable {
        public var word: Word
        public var mask: UInt32
        /// True: a set bit means the closed cover or raised tipper; false: the opposite.
        public var setMeansActive: Bool

        public init(word: Word, mask: UInt32, setMeansActive: Bool = true) {
            self.word = word
            self.mask = mask
            self.setMeansActive = setMeansActive
        }
    }

    /// A number read from an additional item (1–4 bytes, big-endian) times `scale`.
    public struct Scaled: Sendable, Equatable {
        public var item: UInt8
        public var scale: Double

        public init(item: UInt8, scale: Double) {
            self.item = item
            self.scale = scale
        }
    }

    /// Set bits mean the cover is closed.
    public var cover: Bits?
    /// Set bits mean the body is raised (tipping).
    public var tipper: Bits?
    public var loadKg: Scaled?
    /// Read `load` from status bits 8–9 (empty, half, full) as the standard defines them.
    public var loadFromStatus: Bool

    /// Muckwatch's default, documented in the example config: `load` from
    /// the standard's status bits 8–9, and cover, tipper and weight not read
    /// (unknown) until a vendor profile says where they are. Vendors' own
    /// items (0xE0–0xFF) differ; real trackers use 0xE1 for unrelated data,
    /// and reading a guessed one would raise dumping and uncovered-load alerts
    /// on trucks doing nothing wrong.
    public init(cover: Bits? = nil, tipper: Bits? = nil, loadKg: Scaled? = nil, loadFromStatus: Bool = true) {
        self.cover = cover
        self.tipper = tipper
        self.loadKg = loadKg
        self.loadFromStatus = loadFromStatus
    }

    func active(_ bits: Bits?, _ p: JT808.Location) -> Bool? {
        guard let bits else { return nil }
        let word: UInt32?
        switch bits.word {
        case .status: word = p.status
        case .alarm: word = p.alarm
        case .item(let id): word = p.item(id)?.unsigned
        }
        guard let word else { return nil }
        return (word & bits.mask != 0) == bits.setMeansActive
    }

    func telemetry(_ p: JT808.Location, device: String, serial: UInt16, late: Bool, marks: String?) -> TruckTelemetry {
        let cover: CoverState = active(self.cover, p).map { $0 ? .closed : .open } ?? .unknown
        let body: BodyState = active(tipper, p).map { $0 ? .raised : .down } ?? .unknown
        let kg = loadKg.flatMap { s in p.item(s.item)?.unsigned.map { Double($0) * s.scale } }
        var t = TruckTelemetry(
            device: device, ts: p.time, plate: nil, lat: p.lat, lon: p.lon, speedKmh: p.speedKmh,
            headingDeg: p.directionDeg <= 360 ? Double(p.directionDeg) : nil, cover: cover,
            load: loadFromStatus ? JT808.loadState(status: p.status) : .unknown, loadKg: kg, body: body,
            seq: Int64(serial))
        t.late = late
        t.marks = marks
        return t
    }
}

public struct JT808Settings: Sendable, Equatable {
    public var vendors: [String: JT808Profile] = ["default": JT808Profile()]
    /// By phone number without leading zeros (see `JT808.canonicalPhone`).
    public var devices: [String: ProtocolDevice] = [:]

    public init() {}

    func profile(_ device: ProtocolDevice?) -> JT808Profile {
        vendors[device?.vendor ?? "default"] ?? vendors["default"] ?? JT808Profile()
    }
}

/// Catering fume has no national HJ 212 pollutant code; this says which
/// codes one vendor's monitors use.
public struct HJ212Profile: Sendable, Equatable {
    /// The code whose `-Rtd` (CN 2011) or `-Avg` (CN 2051, 2061) value is the concentration in mg/m³.
    public var concentration: String
    /// The equipment codes whose `-RS` running state is the fan's and the purifier's.
    public var fan: String?
    public var purifier: String?
    /// `-RS` values that mean running and stopped; any other value is unknown.
    public var running: Set<String>
    public var stopped: Set<String>

    /// Muckwatch's default, as fume monitors in the field are seen sending:
    /// `a34041` for the concentration, `SB1` the fan, `SB2` the purifier, `-RS` 1
    /// running and 0 stopped (HJ 212-2017 Table C.2's running states).
    public init(concentration: String = "a34041", fan: String? = "SB1", purifier: String? = "SB2",
                running: Set<String> = ["1"], stopped: Set<String> = ["0"]) {
        self.concentration = concentration
        self.fan = fan
        self.purifier = purifier
        self.running = running
        self.stopped = stopped
    }

    func state(_ code: String?, _ packet: HJ212.Packet) -> Switch {
        guard let code, let value = packet.value(code + "-RS") else { return .unknown }
        return running.contains(value) ? .on : stopped.contains(value) ? .off : .unknown
    }
}

public struct HJ212Settings: Sendable, Equatable {
    public var vendors: [String: HJ212Profile] = ["default": HJ212Profile()]
    /// By MN (the instrument's unique code).
    public var devices: [String: ProtocolDevice] = [:]

    public init() {}

    func profile(_ device: ProtocolDevice?) -> HJ212Profile {
        vendors[device?.vendor ?? "default"] ?? vendors["default"] ?? HJ212Profile()
    }
}
