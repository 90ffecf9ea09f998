import Crypto

/// One MQTT message as it was accepted into the whole-process record.
public struct InboxMessage: Sendable, Equatable {
    public var id: Int64
    public var arrival: Arrival
    /// SHA-256 of the payload bytes exactly as received (of the whole, when
    /// only its head was kept).
    public var sha256: String

    public init(id: Int64, arrival: Arrival, sha256: String? = nil) {
        self.id = id
        self.arrival = arrival
        self.sha256 = sha256 ?? arrival.oversized?.sha256 ?? Digest.sha256Hex(arrival.payload)
    }

    public init(id: Int64, topic: String, payload: [UInt8], arrivedAt: Instant, sha256: String? = nil,
                decoded: Decoded? = nil, oversized: OversizedPayload? = nil) {
        self.init(id: id, arrival: Arrival(topic: topic, payload: payload, arrivedAt: arrivedAt,
                                           decoded: decoded, oversized: oversized), sha256: sha256)
    }

    public var topic: String { arrival.topic }
    public var payload: [UInt8] { arrival.payload }
    public var arrivedAt: Instant { arrival.arrivedAt }
    public var decoded: Decoded? { arrival.decoded }
    public var oversized: OversizedPayload? {
        get { arrival.oversized }
        set { arrival.oversized = newValue }
    }
}

public enum Digest {
    public static func sha256Hex(_ bytes: some Sequence<UInt8>) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(bytes))
        return Hex.string(hasher.finalize())
    }

    /// The SHA-256 as hex, and its first 8 bytes as a big-endian signed
    /// integer (the inbox's redelivery key), from one hashing.
    public static func sha256(_ bytes: [UInt8]) -> (hex: String, prefix: Int64) {
        let digest = SHA256.hash(data: bytes)
        let prefix = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return (Hex.string(digest), Int64(bitPattern: prefix))
    }

    public static func sha256Hex(_ text: String) -> String { sha256Hex(Array(text.utf8)) }
}

public enum CoverState: String, Sendable, CaseIterable, Codable { case closed, open, unknown }
public enum LoadState: String, Sendable, CaseIterable, Codable { case empty, partial, full, unknown }
public enum BodyState: String, Sendable, CaseIterable, Codable { case down, raised, unknown }
public enum Switch: String, Sendable, CaseIterable { case on, off, unknown }

public struct TruckTelemetry: Sendable, Equatable, Codable {
    public var device: String
    public var ts: Instant
    public var plate: String?
    public var lat: Double
    public var lon: Double
    public var speedKmh: Double?
    public var headingDeg: Double?
    public var cover: CoverState
    public var load: LoadState
    public var loadKg: Double?
    public var body: BodyState
    public var seq: Int64?
    /// A point the tracker buffered while out of coverage and sent later
    /// (JT/T 808 0x0704 blind-area batch): a past position, never the truck's current state.
    public var late = false
    /// What is doubtful about it, comma-separated (`bad_checksum` for a frame kept by a lenient device).
    public var marks: String?

    public init(device: String, ts: Instant, plate: String?, lat: Double, lon: Double, speedKmh: Double?,
                headingDeg: Double?, cover: CoverState, load: LoadState, loadKg: Double?, body: BodyState, seq: Int64?) {
        self.device = device
        self.ts = ts
        self.plate = plate
        self.lat = lat
        self.lon = lon
        self.speedKmh = speedKmh
        self.headingDeg = headingDeg
        self.cover = cover
        self.load = load
        self.loadKg = loadKg
        self.body = body
        self.seq = seq
    }
}

public struct FumeReading: Sendable, Equatable {
    public var monitor: String
    public var ts: Instant
    public var concMgM3: Double
    public var fan: Switch
    public var purifier: Switch
    public var flowM3H: Double?
    /// The HJ 212 data flag of the concentration (N, F, M, S, D, C, T, B), if the monitor sent one.
    public var dataFlag: String?
    /// What is doubtful about it, comma-separated (`bad_crc` for a packet kept by a lenient device).
    public var marks: String?

    /// Whether the concentration measured the air: not taken while the
    /// instrument was stopped, in maintenance, faulty, calibrating, entered by
    /// hand or cut off (HJ 212 flags F, M, D, C, S, B). N is normal, T over range.
    public var isMeasurement: Bool { dataFlag == nil || dataFlag == "N" || dataFlag == "T" }
}

public enum SiteEventType: String, Sendable, CaseIterable {
    case uncoveredLoad = "uncovered_load"
    case spill
    case muckTruck = "muck_truck"
    case unwashedExit = "unwashed_exit"
    case bareSoil = "bare_soil"
    case sprinklerOff = "sprinkler_off"
}

public enum SourceKind: String, Sendable { case camera, drone }

/// An AI detection reported by a site camera or a drone (§4.3).
public struct SiteEvent: Sendable, Equatable {
    public var sourceKind: SourceKind
    public var source: String
    public var eventId: String?
    public var ts: Instant
    public var type: SiteEventType
    public var plate: String?
    public var confidence: Double?
    public var lat: Double?
    public var lon: Double?
    public var clipURL: String?
    public var clipOffsetS: Double?
}

public struct DroneTelemetry: Sendable, Equatable {
    public var drone: String
    public var ts: Instant
    public var lat: Double
    public var lon: Double
    public var altM: Double?
    public var headingDeg: Double?
    /// For a position read from a video segment: the telemetry it came from
    /// (`misb_st0601`, `dji_srt`, `dji_srt_sidecar`); nil for the drone's own reports.
    public var origin: String?

    public init(drone: String, ts: Instant, lat: Double, lon: Double, altM: Double?, headingDeg: Double?,
                origin: String? = nil) {
        self.origin = origin
        self.drone = drone
        self.ts = ts
        self.lat = lat
        self.lon = lon
        self.altM = altM
        self.headingDeg = headingDeg
    }
}

/// A recorded segment or a stream announced for demuxing (§4.5).
public struct VideoSegment: Sendable, Equatable {
    /// The camera or drone that recorded it.
    public var source: String
    public var url: String
    /// When its first frame was taken: the wall clock of last resort.
    public var start: Instant
}

/// A decoded message.
public enum Record: Sendable, Equatable {
    case truck(TruckTelemetry)
    case fume(FumeReading)
    case event(SiteEvent)
    case drone(DroneTelemetry)
    case segment(VideoSegment)

    public var ts: Instant {
        switch self {
        case .truck(let r): r.ts
        case .fume(let r): r.ts
        case .event(let r): r.ts
        case .drone(let r): r.ts
        case .segment(let r): r.start
        }
    }

    /// The id the rules key their state by, and the payload field it is read from.
    public var keyField: (name: String, id: String) {
        switch self {
        case .truck(let r): ("device", r.device)
        case .fume(let r): ("monitor", r.monitor)
        case .event(let e): (e.sourceKind == .camera ? "camera" : "drone", e.source)
        case .drone(let r): ("drone", r.drone)
        case .segment(let r): ("source", r.source)
        }
    }

    /// The key under which `muckwatch stats` counts it.
    public var kind: String {
        switch self {
        case .truck: "truck"
        case .fume: "fume"
        case .event(let e): e.sourceKind == .camera ? "camera_event" : "drone_event"
        case .drone: "drone"
        case .segment: "video_segment"
        }
    }
}

/// A message as decoded, with the message it came from.
public struct DecodedMessage: Sendable, Equatable {
    public var message: InboxMessage
    public var record: Record
    /// Which of the message's records (a JT/T 808 batch holds many), from 0.
    public var part: Int = 0
}
