import Foundation

/// Why a message was put in the dead-letter table. The raw value is the key
/// `muckwatch stats` reports.
public enum DeadLetterReason: String, Sendable, CaseIterable {
    case invalidJSON = "invalid_json"
    case missingField = "missing_field"
    case wrongType = "wrong_type"
    case invalidValue = "invalid_value"
    case outOfRange = "out_of_range"
    case futureTime = "future_time"
    case unknownTopic = "unknown_topic"
    /// Binary or text framing is broken: delimiters, escapes, lengths.
    case badFrame = "bad_frame"
    /// The frame's checksum or CRC does not match its bytes.
    case badChecksum = "bad_checksum"
    /// Well-formed, but a feature Muckwatch does not decode (encrypted bodies).
    case unsupported = "unsupported"
    /// Above `limits.max_payload_bytes`: only its first 4 KiB are kept.
    case tooLarge = "too_large"
}

public struct DecodeFailure: Error, Sendable, Equatable {
    public var reason: DeadLetterReason
    /// One sentence a person can act on, naming the field.
    public var detail: String

    public init(_ reason: DeadLetterReason, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }
}

/// What one message decoded into. A native payload is one record; a JT/T 808
/// payload may hold several frames and a 0x0704 batch many points.
public struct Decoded: Sendable, Equatable {
    public var records: [Record] = []
    /// Why the message, or part of it, was rejected: all of it when `records` is empty.
    public var failure: DecodeFailure?
    /// What was recognised and deliberately not made a record (`jt808_0x0002`,
    /// `dji_dock_osd`), counted by `muckwatch stats`.
    public var ignored: [String] = []

    public init(records: [Record] = [], failure: DecodeFailure? = nil, ignored: [String] = []) {
        self.records = records
        self.failure = failure
        self.ignored = ignored
    }
}

/// One thing a payload said, with the protocol's other fields for
/// `muckwatch decode` (nil unless asked for).
public enum DecodedItem {
    case record(Record, extra: JSONLine?)
    case ignored(String, extra: JSONLine?)
    case failure(DecodeFailure, extra: JSONLine?)
}

/// Turns payloads into records, or says exactly why not: native JSON (§4),
/// JT/T 808, HJ 212 and DJI Cloud API OSD. Not thread-safe (it reuses one
/// JSON parser): one per pipeline.
public struct PayloadDecoder {
    let json = JSONParser()
    public var routes: TopicRoutes
    /// Maps JT/T 808 phone numbers to trucks.
    public var registry: Registry
    public var protocols: ProtocolSettings
    /// Payload times further than this ahead of arrival are rejected.
    public var maxFutureSeconds: Double
    public var limits: Limits

    public init(routes: TopicRoutes = .defaults, registry: Registry = Registry(), protocols: ProtocolSettings = ProtocolSettings(),
                maxFutureSeconds: Double = 24 * 3600, limits: Limits = Limits()) {
        self.routes = routes
        self.registry = registry
        self.protocols = protocols
        self.maxFutureSeconds = maxFutureSeconds
        self.limits = limits
    }

    public func decode(_ message: InboxMessage) -> Decoded {
        if let oversized = message.oversized {
            return Decoded(failure: oversized.failure(limit: limits.maxPayloadBytes))
        }
        guard let (kind, topicDevice) = routes.route(message.topic) else {
            return Decoded(failure: DecodeFailure(.unknownTopic, "topic '\(message.topic)' matches no configured filter"))
        }
        var out = Decoded()
        var failures: [DecodeFailure] = []
        for item in items(kind: kind, payload: message.payload, topicDevice: topicDevice, extra: false) {
            switch item {
            case .record(let record, _):
                let key = record.keyField
                if key.id.utf8.count > limits.maxDeviceIdBytes {
                    failures.append(DecodeFailure(
                        .invalidValue,
                        "field '\(key.name)' is \(key.id.utf8.count) bytes long, above limits.max_device_id_bytes \(limits.maxDeviceIdBytes)"))
                } else if record.ts.seconds(since: message.arrivedAt) > maxFutureSeconds {
                    failures.append(DecodeFailure(
                        .futureTime,
                        "'ts' \(record.ts) is more than \(Int(maxFutureSeconds / 3600)) h after arrival \(message.arrivedAt)"))
                } else {
                    out.records.append(record)
                }
            case .ignored(let what, _): out.ignored.append(what)
            case .failure(let f, _): failures.append(f)
            }
        }
        if let first = failures.first {
            out.failure = failures.count == 1 ? first
                : DecodeFailure(first.reason, failures.map(\.detail).joined(separator: "; "))
        }
        return out
    }

    /// Everything a payload of `kind` says, one item per record, ignored part or failure.
    public func items(kind: PayloadKind, payload: [UInt8], topicDevice: String?, extra: Bool) -> [DecodedItem] {
        switch kind {
        case .jt808: return jt808(payload, topicDevice: topicDevice, extra: extra)
        case .hj212: return hj212(payload, topicDevice: topicDevice, extra: extra)
        case .djiOSD: return djiOSD(payload, topicDevice: topicDevice, extra: extra)
        default:
            do {
                return [.record(try native(kind: kind, payload: payload, topicDevice: topicDevice), extra: nil)]
            } catch let failure as DecodeFailure {
                return [.failure(failure, extra: nil)]
            } catch {
                return [.failure(DecodeFailure(.invalidJSON, "payload is not valid JSON (\(error))"), extra: nil)]
            }
        }
    }

    private func native(kind: PayloadKind, payload: [UInt8], topicDevice: String?) throws -> Record {
        try json.parse(payload) { root throws(DecodeFailure) -> Record in
            switch root.kind {
            case .object: break
            case .null: throw DecodeFailure(.invalidJSON, "payload is JSON null, not an object")
            default: throw DecodeFailure(.invalidJSON, "payload is JSON but not an object")
            }
            let fields = PayloadFields(root)
            switch kind {
            case .truckTelemetry:
                return .truck(try TruckPayload(fields).validated(topicDevice: topicDevice))
            case .fumeReading:
                return .fume(try FumePayload(fields).validated(topicDevice: topicDevice))
            case .cameraEvent, .droneEvent:
                return .event(try EventPayload(fields).validated(kind: kind == .cameraEvent ? .camera : .drone,
                                                                  topicDevice: topicDevice))
            case .droneTelemetry:
                return .drone(try DronePayload(fields).validated(topicDevice: topicDevice))
            case .videoSegment:
                return .segment(try SegmentPayload(fields).validated(topicDevice: topicDevice))
            case .jt808, .hj212, .djiOSD:
                preconditionFailure("\(kind) payloads are not native JSON")
            }
        }
    }
}

// MARK: - Wire shapes (§4). Unknown fields are ignored.

/// The members of a payload object, read with §4's dead-letter reasons: a
/// required field that is absent or null is `missing_field`, a value of the
/// wrong JSON type `wrong_type`. A null optional field is absent.
struct PayloadFields {
    private let object: JSONValue
    /// Prefix of the field names in messages (`clip.` inside `clip`).
    private let path: String

    init(_ object: JSONValue, path: String = "") {
        self.object = object
        self.path = path
    }

    private func name(_ key: StaticString) -> String { path + key.description }

    private func present(_ key: StaticString) -> JSONValue? {
        guard let v = object[key], !v.isNull else { return nil }
        return v
    }

    private func required(_ key: StaticString) throws(DecodeFailure) -> JSONValue {
        guard let v = object[key] else { throw DecodeFailure(.missingField, "required field '\(name(key))' is missing") }
        guard !v.isNull else { throw DecodeFailure(.missingField, "required field '\(name(key))' is null") }
        return v
    }

    private func wrongType(_ key: StaticString, _ expected: JSONValue.Kind) -> DecodeFailure {
        DecodeFailure(.wrongType, "field '\(name(key))' should be \(expected.described)")
    }

    func number(_ key: StaticString) throws(DecodeFailure) -> Double? {
        guard let v = present(key) else { return nil }
        guard let n = v.number else { throw wrongType(key, .number) }
        return n
    }

    func requiredNumber(_ key: StaticString) throws(DecodeFailure) -> Double {
        guard let n = try required(key).number else { throw wrongType(key, .number) }
        return n
    }

    func string(_ key: StaticString) throws(DecodeFailure) -> String? {
        guard let v = present(key) else { return nil }
        guard let s = v.string else { throw wrongType(key, .string) }
        return s
    }

    func requiredString(_ key: StaticString) throws(DecodeFailure) -> String {
        guard let s = try required(key).string else { throw wrongType(key, .string) }
        return s
    }

    func object(_ key: StaticString) throws(DecodeFailure) -> PayloadFields? {
        guard let v = present(key) else { return nil }
        guard v.kind == .object else { throw wrongType(key, .object) }
        return PayloadFields(v, path: name(key) + ".")
    }

    /// 2000-01-01T00:00:00Z: no device reports from before it.
    static let earliestTime = Instant(millis: 946_684_800_000)
    /// 9999-12-31T23:59:59.999Z: past it a time cannot be written back as RFC 3339.
    static let latestTime = Instant(millis: 253_402_300_799_999)

    /// `ts`-style time: RFC 3339 text with an offset, or epoch milliseconds.
    func time(_ key: StaticString) throws(DecodeFailure) -> Instant {
        let v = try required(key)
        if let text = v.stringBytes {
            guard let parsed = RFC3339.parse(text) else {
                throw DecodeFailure(.invalidValue, "field '\(name(key))': '\(String(decoding: text, as: UTF8.self))' is not an RFC 3339 time with offset")
            }
            guard parsed >= Self.earliestTime else {
                throw DecodeFailure(.outOfRange, "field '\(name(key))': '\(String(decoding: text, as: UTF8.self))' is before 2000-01-01T00:00:00Z, the earliest time accepted")
            }
            guard parsed <= Self.latestTime else {
                throw DecodeFailure(.invalidValue, "field '\(name(key))': '\(String(decoding: text, as: UTF8.self))' is after 9999-12-31 UTC")
            }
            return parsed
        }
        if let ms = v.integer ?? v.number.flatMap(Int64.init(exactly:)) {
            // Years 2000..9999: anything else is not a device clock (an
            // unset one reads 1970 or 0001).
            guard ms >= Self.earliestTime.millis else {
                throw DecodeFailure(.outOfRange, "field '\(name(key))': epoch milliseconds \(ms) is before 2000-01-01T00:00:00Z (\(Self.earliestTime.millis)), the earliest time accepted")
            }
            guard ms <= Self.latestTime.millis else {
                throw DecodeFailure(.invalidValue, "field '\(name(key))': epoch milliseconds \(ms) is after 9999-12-31")
            }
            return Instant(millis: ms)
        }
        if let n = v.number {
            throw DecodeFailure(.invalidValue, "field '\(name(key))': epoch milliseconds \(n) is not a whole number")
        }
        throw DecodeFailure(.wrongType, "field '\(name(key))' should be RFC 3339 text or epoch milliseconds")
    }
}

private func state<E: RawRepresentable & CaseIterable>(_ raw: String?, _ field: String, as: E.Type) throws(DecodeFailure) -> E?
where E.RawValue == String {
    guard let raw else { return nil }
    guard let value = E(rawValue: raw) else {
        let allowed = E.allCases.map(\.rawValue).joined(separator: "|")
        throw DecodeFailure(.invalidValue, "field '\(field)' is '\(raw)', expected \(allowed)")
    }
    return value
}

private func inRange(_ value: Double?, _ field: String, _ range: ClosedRange<Double>) throws(DecodeFailure) {
    if let value, !range.contains(value) {
        throw DecodeFailure(.outOfRange, "field '\(field)' is \(value), outside \(range.lowerBound)...\(range.upperBound)")
    }
}

private func checkPosition(lat: Double?, lon: Double?) throws(DecodeFailure) {
    try inRange(lat, "lat", -90...90)
    try inRange(lon, "lon", -180...180)
}

private func deviceID(_ named: String?, _ topicDevice: String?, field: String) throws(DecodeFailure) -> String {
    if let named, !named.isEmpty { return named }
    if let topicDevice { return topicDevice }
    throw DecodeFailure(.missingField, "field '\(field)' is missing and the topic names no device")
}

struct TruckPayload {
    var device: String?
    var ts: Instant
    var plate: String?
    var lat: Double
    var lon: Double
    var speed_kmh: Double?
    var heading_deg: Double?
    var cover: String?
    var load: String?
    var load_kg: Double?
    var body: String?
    /// Read as a number, so that a fraction is reported as this field's fault.
    var seq: Double?

    init(_ f: PayloadFields) throws(DecodeFailure) {
        device = try f.string("device")
        ts = try f.time("ts")
        plate = try f.string("plate")
        lat = try f.requiredNumber("lat")
        lon = try f.requiredNumber("lon")
        speed_kmh = try f.number("speed_kmh")
        heading_deg = try f.number("heading_deg")
        cover = try f.string("cover")
        load = try f.string("load")
        load_kg = try f.number("load_kg")
        body = try f.string("body")
        seq = try f.number("seq")
    }

    func validated(topicDevice: String?) throws(DecodeFailure) -> TruckTelemetry {
        try checkPosition(lat: lat, lon: lon)
        try inRange(speed_kmh, "speed_kmh", 0...400)
        try inRange(heading_deg, "heading_deg", 0...360)
        try inRange(load_kg, "load_kg", 0...200_000)
        if let seq, seq != seq.rounded() {
            throw DecodeFailure(.wrongType, "field 'seq' should be a whole number, not \(seq)")
        }
        if let seq, abs(seq) > 9_007_199_254_740_992 {
            throw DecodeFailure(.outOfRange, "field 'seq' is \(seq), beyond ±9007199254740992 (2^53)")
        }
        return TruckTelemetry(
            device: try deviceID(device, topicDevice, field: "device"),
            ts: ts, plate: plate.flatMap { $0.isEmpty ? nil : $0 },
            lat: lat, lon: lon, speedKmh: speed_kmh, headingDeg: heading_deg,
            cover: try state(cover, "cover", as: CoverState.self) ?? .unknown,
            load: try state(load, "load", as: LoadState.self) ?? .unknown,
            loadKg: load_kg,
            body: try state(body, "body", as: BodyState.self) ?? .unknown,
            seq: seq.map { Int64($0) })
    }
}

struct FumePayload {
    var monitor: String?
    var ts: Instant
    var conc_mg_m3: Double
    var fan: String?
    var purifier: String?
    var flow_m3_h: Double?

    init(_ f: PayloadFields) throws(DecodeFailure) {
        monitor = try f.string("monitor")
        ts = try f.time("ts")
        conc_mg_m3 = try f.requiredNumber("conc_mg_m3")
        fan = try f.string("fan")
        purifier = try f.string("purifier")
        flow_m3_h = try f.number("flow_m3_h")
    }

    func validated(topicDevice: String?) throws(DecodeFailure) -> FumeReading {
        try inRange(conc_mg_m3, "conc_mg_m3", 0...10_000)
        try inRange(flow_m3_h, "flow_m3_h", 0...10_000_000)
        return FumeReading(
            monitor: try deviceID(monitor, topicDevice, field: "monitor"),
            ts: ts, concMgM3: conc_mg_m3,
            fan: try state(fan, "fan", as: Switch.self) ?? .unknown,
            purifier: try state(purifier, "purifier", as: Switch.self) ?? .unknown,
            flowM3H: flow_m3_h)
    }
}

struct EventPayload {
    struct Clip {
        var url: String?
        var offset_s: Double?
    }
    var camera: String?
    var drone: String?
    var event_id: String?
    var ts: Instant
    var type: String
    var plate: String?
    var confidence: Double?
    var lat: Double?
    var lon: Double?
    var clip: Clip?

    init(_ f: PayloadFields) throws(DecodeFailure) {
        camera = try f.string("camera")
        drone = try f.string("drone")
        event_id = try f.string("event_id")
        ts = try f.time("ts")
        type = try f.requiredString("type")
        plate = try f.string("plate")
        confidence = try f.number("confidence")
        lat = try f.number("lat")
        lon = try f.number("lon")
        if let c = try f.object("clip") {
            clip = Clip(url: try c.string("url"), offset_s: try c.number("offset_s"))
        }
    }

    func validated(kind: SourceKind, topicDevice: String?) throws(DecodeFailure) -> SiteEvent {
        try checkPosition(lat: lat, lon: lon)
        if (lat == nil) != (lon == nil) {
            throw DecodeFailure(.missingField, "field '\(lat == nil ? "lat" : "lon")' is missing while the other coordinate is given")
        }
        try inRange(confidence, "confidence", 0...1)
        try inRange(clip?.offset_s, "clip.offset_s", 0...86_400)
        let field = kind == .camera ? "camera" : "drone"
        return SiteEvent(
            sourceKind: kind,
            source: try deviceID(kind == .camera ? camera : drone, topicDevice, field: field),
            eventId: event_id.flatMap { $0.isEmpty ? nil : $0 },
            ts: ts,
            type: try state(type, "type", as: SiteEventType.self)!,
            plate: plate.flatMap { $0.isEmpty ? nil : $0 },
            confidence: confidence, lat: lat, lon: lon,
            clipURL: clip?.url, clipOffsetS: clip?.offset_s)
    }
}

struct DronePayload {
    var drone: String?
    var ts: Instant
    var lat: Double
    var lon: Double
    var alt_m: Double?
    var heading_deg: Double?

    init(_ f: PayloadFields) throws(DecodeFailure) {
        drone = try f.string("drone")
        ts = try f.time("ts")
        lat = try f.requiredNumber("lat")
        lon = try f.requiredNumber("lon")
        alt_m = try f.number("alt_m")
        heading_deg = try f.number("heading_deg")
    }

    func validated(topicDevice: String?) throws(DecodeFailure) -> DroneTelemetry {
        try checkPosition(lat: lat, lon: lon)
        try inRange(alt_m, "alt_m", -500...10_000)
        try inRange(heading_deg, "heading_deg", 0...360)
        return DroneTelemetry(
            drone: try deviceID(drone, topicDevice, field: "drone"),
            ts: ts, lat: lat, lon: lon, altM: alt_m, headingDeg: heading_deg)
    }
}

struct SegmentPayload {
    var source: String?
    var url: String
    var start: Instant

    init(_ f: PayloadFields) throws(DecodeFailure) {
        source = try f.string("source")
        url = try f.requiredString("url")
        start = try f.time("start")
    }

    func validated(topicDevice: String?) throws(DecodeFailure) -> VideoSegment {
        guard !url.isEmpty else { throw DecodeFailure(.missingField, "required field 'url' is empty") }
        return VideoSegment(source: try deviceID(source, topicDevice, field: "source"), url: url, start: start)
    }
}
