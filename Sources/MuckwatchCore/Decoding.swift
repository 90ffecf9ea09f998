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

/// Turns native JSON payloads (§4) into records, or says exactly why not.
public struct PayloadDecoder: Sendable {
    /// One decoder for every message: it holds no per-message state.
    private let json = JSONDecoder()
    public var routes: TopicRoutes
    /// Payload times further than this ahead of arrival are rejected.
    public var maxFutureSeconds: Double

    public init(routes: TopicRoutes = .defaults, maxFutureSeconds: Double = 24 * 3600) {
        self.routes = routes
        self.maxFutureSeconds = maxFutureSeconds
    }

    public func decode(_ message: InboxMessage) -> Result<Record, DecodeFailure> {
        guard let (kind, topicDevice) = routes.route(message.topic) else {
            return .failure(DecodeFailure(.unknownTopic, "topic '\(message.topic)' matches no configured filter"))
        }
        do {
            let record = try decode(kind: kind, payload: message.payload, topicDevice: topicDevice)
            if record.ts.seconds(since: message.arrivedAt) > maxFutureSeconds {
                return .failure(DecodeFailure(
                    .futureTime,
                    "'ts' \(record.ts) is more than \(Int(maxFutureSeconds / 3600)) h after arrival \(message.arrivedAt)"))
            }
            return .success(record)
        } catch let failure as DecodeFailure {
            return .failure(failure)
        } catch let error as DecodingError {
            return .failure(Self.describe(error))
        } catch {
            return .failure(DecodeFailure(.invalidJSON, "\(error)"))
        }
    }

    private func decode(kind: PayloadKind, payload: [UInt8], topicDevice: String?) throws -> Record {
        let data = Data(payload)
        switch kind {
        case .truckTelemetry:
            let p = try json.decode(TruckPayload.self, from: data)
            return .truck(try p.validated(topicDevice: topicDevice))
        case .fumeReading:
            let p = try json.decode(FumePayload.self, from: data)
            return .fume(try p.validated(topicDevice: topicDevice))
        case .cameraEvent, .droneEvent:
            let p = try json.decode(EventPayload.self, from: data)
            return .event(try p.validated(kind: kind == .cameraEvent ? .camera : .drone, topicDevice: topicDevice))
        case .droneTelemetry:
            let p = try json.decode(DronePayload.self, from: data)
            return .drone(try p.validated(topicDevice: topicDevice))
        }
    }

    static func describe(_ error: DecodingError) -> DecodeFailure {
        func path(_ context: DecodingError.Context, _ key: CodingKey? = nil) -> String {
            let keys = context.codingPath + (key.map { [$0] } ?? [])
            return keys.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return DecodeFailure(.missingField, "required field '\(path(context, key))' is missing")
        case .valueNotFound(_, let context):
            if context.codingPath.isEmpty { return DecodeFailure(.invalidJSON, "payload is JSON null, not an object") }
            return DecodeFailure(.missingField, "required field '\(path(context))' is null")
        case .typeMismatch(let type, let context):
            if context.codingPath.isEmpty {
                return DecodeFailure(.invalidJSON, "payload is JSON but not an object")
            }
            return DecodeFailure(.wrongType, "field '\(path(context))' should be \(typeName(type))")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return DecodeFailure(.invalidJSON, "payload is not valid JSON")
            }
            return DecodeFailure(.invalidValue, "field '\(path(context))': \(context.debugDescription)")
        @unknown default:
            return DecodeFailure(.invalidJSON, "\(error)")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Double.Type, is Int64.Type, is Int.Type: "a number"
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is [String: Any].Type: "an object"
        case is [Any].Type: "an array"
        default: "\(type)"
        }
    }
}

// MARK: - Wire shapes (§4). Unknown fields are ignored by Decodable.

/// `ts` as RFC 3339 text or epoch milliseconds.
struct WireTime: Decodable {
    var instant: Instant

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let ms = try? c.decode(Int64.self) {
            // Years 1970..9999: anything else is not a device clock.
            guard (0...253_402_300_799_000).contains(ms) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "epoch milliseconds \(ms) is outside 1970..9999")
            }
            instant = Instant(millis: ms)
        } else if let text = try? c.decode(String.self) {
            guard let parsed = RFC3339.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: c, debugDescription: "'\(text)' is not an RFC 3339 time with offset")
            }
            instant = parsed
        } else {
            throw DecodingError.typeMismatch(
                String.self,
                .init(codingPath: c.codingPath, debugDescription: "expected RFC 3339 text or epoch milliseconds"))
        }
    }
}

private func state<E: RawRepresentable & CaseIterable>(_ raw: String?, _ field: String, as: E.Type) throws -> E?
where E.RawValue == String {
    guard let raw else { return nil }
    guard let value = E(rawValue: raw) else {
        let allowed = E.allCases.map(\.rawValue).joined(separator: "|")
        throw DecodeFailure(.invalidValue, "field '\(field)' is '\(raw)', expected \(allowed)")
    }
    return value
}

private func inRange(_ value: Double?, _ field: String, _ range: ClosedRange<Double>) throws {
    if let value, !range.contains(value) {
        throw DecodeFailure(.outOfRange, "field '\(field)' is \(value), outside \(range.lowerBound)...\(range.upperBound)")
    }
}

private func checkPosition(lat: Double?, lon: Double?) throws {
    try inRange(lat, "lat", -90...90)
    try inRange(lon, "lon", -180...180)
}

private func deviceID(_ named: String?, _ topicDevice: String?, field: String) throws -> String {
    if let named, !named.isEmpty { return named }
    if let topicDevice { return topicDevice }
    throw DecodeFailure(.missingField, "field '\(field)' is missing and the topic names no device")
}

struct TruckPayload: Decodable {
    var device: String?
    var ts: WireTime
    var plate: String?
    var lat: Double
    var lon: Double
    var speed_kmh: Double?
    var heading_deg: Double?
    var cover: String?
    var load: String?
    var load_kg: Double?
    var body: String?
    /// Decoded as a number first: Foundation reports a fraction in an integer
    /// field as unreadable JSON, which would hide the field's name.
    var seq: Double?

    func validated(topicDevice: String?) throws -> TruckTelemetry {
        try checkPosition(lat: lat, lon: lon)
        try inRange(speed_kmh, "speed_kmh", 0...400)
        try inRange(heading_deg, "heading_deg", 0...360)
        try inRange(load_kg, "load_kg", 0...200_000)
        if let seq, seq != seq.rounded() || abs(seq) > 9e15 {
            throw DecodeFailure(.wrongType, "field 'seq' should be a whole number, not \(seq)")
        }
        return TruckTelemetry(
            device: try deviceID(device, topicDevice, field: "device"),
            ts: ts.instant, plate: plate.flatMap { $0.isEmpty ? nil : $0 },
            lat: lat, lon: lon, speedKmh: speed_kmh, headingDeg: heading_deg,
            cover: try state(cover, "cover", as: CoverState.self) ?? .unknown,
            load: try state(load, "load", as: LoadState.self) ?? .unknown,
            loadKg: load_kg,
            body: try state(body, "body", as: BodyState.self) ?? .unknown,
            seq: seq.map { Int64($0) })
    }
}

struct FumePayload: Decodable {
    var monitor: String?
    var ts: WireTime
    var conc_mg_m3: Double
    var fan: String?
    var purifier: String?
    var flow_m3_h: Double?

    func validated(topicDevice: String?) throws -> FumeReading {
        try inRange(conc_mg_m3, "conc_mg_m3", 0...10_000)
        try inRange(flow_m3_h, "flow_m3_h", 0...10_000_000)
        return FumeReading(
            monitor: try deviceID(monitor, topicDevice, field: "monitor"),
            ts: ts.instant, concMgM3: conc_mg_m3,
            fan: try state(fan, "fan", as: Switch.self) ?? .unknown,
            purifier: try state(purifier, "purifier", as: Switch.self) ?? .unknown,
            flowM3H: flow_m3_h)
    }
}

struct EventPayload: Decodable {
    struct Clip: Decodable {
        var url: String?
        var offset_s: Double?
    }
    var camera: String?
    var drone: String?
    var event_id: String?
    var ts: WireTime
    var type: String
    var plate: String?
    var confidence: Double?
    var lat: Double?
    var lon: Double?
    var clip: Clip?

    func validated(kind: SourceKind, topicDevice: String?) throws -> SiteEvent {
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
            ts: ts.instant,
            type: try state(type, "type", as: SiteEventType.self)!,
            plate: plate.flatMap { $0.isEmpty ? nil : $0 },
            confidence: confidence, lat: lat, lon: lon,
            clipURL: clip?.url, clipOffsetS: clip?.offset_s)
    }
}

struct DronePayload: Decodable {
    var drone: String?
    var ts: WireTime
    var lat: Double
    var lon: Double
    var alt_m: Double?
    var heading_deg: Double?

    func validated(topicDevice: String?) throws -> DroneTelemetry {
        try checkPosition(lat: lat, lon: lon)
        try inRange(alt_m, "alt_m", -500...10_000)
        try inRange(heading_deg, "heading_deg", 0...360)
        return DroneTelemetry(
            drone: try deviceID(drone, topicDevice, field: "drone"),
            ts: ts.instant, lat: lat, lon: lon, altM: alt_m, headingDeg: heading_deg)
    }
}
