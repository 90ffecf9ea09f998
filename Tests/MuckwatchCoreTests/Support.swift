import Foundation
import MuckwatchCore
import XCTest

/// The centre's offset (+08:00) in seconds.
let chinaOffset = 8 * 3600
let company = "深圳市示例渣土运输有限公司"
let plate = "粤B12345"

struct TestFailure: Error, CustomStringConvertible {
    var description: String
}

/// An `EventLedger` backed by a set, as the store's table would be.
struct SetLedger: EventLedger {
    var known: Set<String> = []

    func contains(sourceKind: String, source: String, eventId: String, before: Int64?) -> Bool {
        known.contains("\(sourceKind)|\(source)|\(eventId)")
    }
}

/// An RFC 3339 time that must parse.
func instant(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Instant {
    guard let i = RFC3339.parse(text) else {
        XCTFail("'\(text)' did not parse", file: file, line: line)
        return Instant(millis: 0)
    }
    return i
}

/// The time as a payload would write it, at +08:00.
func local(_ i: Instant) -> String { RFC3339.format(i, offsetSeconds: chinaOffset) }

func message(_ topic: String, _ json: String, id: Int64 = 1, arrivedAt: Instant) -> InboxMessage {
    InboxMessage(id: id, topic: topic, payload: Array(json.utf8), arrivedAt: arrivedAt)
}

/// A JSON object's text from a dictionary (key order does not matter to the decoder).
func json(_ object: [String: Any]) -> String {
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    return String(decoding: data, as: UTF8.self)
}

func success(_ result: Result<Record, DecodeFailure>, file: StaticString = #filePath, line: UInt = #line) throws -> Record {
    switch result {
    case .success(let record): return record
    case .failure(let failure):
        XCTFail("expected a record, got \(failure.reason.rawValue): \(failure.detail)", file: file, line: line)
        throw TestFailure(description: failure.detail)
    }
}

func failure(_ result: Result<Record, DecodeFailure>, file: StaticString = #filePath, line: UInt = #line) throws -> DecodeFailure {
    switch result {
    case .success(let record):
        XCTFail("expected a dead letter, got \(record)", file: file, line: line)
        throw TestFailure(description: "decoded")
    case .failure(let failure): return failure
    }
}

enum Topic {
    static func truck(_ device: String = "T-0001") -> String { "muckwatch/v1/truck/\(device)/telemetry" }
    static func fume(_ device: String = "F-0101") -> String { "muckwatch/v1/fume/\(device)/reading" }
    static func camera(_ device: String = "CAM-07") -> String { "muckwatch/v1/camera/\(device)/event" }
    static func drone(_ device: String = "D-01") -> String { "muckwatch/v1/drone/\(device)/telemetry" }
    static func droneEvent(_ device: String = "D-01") -> String { "muckwatch/v1/drone/\(device)/event" }
}

/// Settings with the one registered truck T-0001 (粤B12345, empty 12 000 kg).
func testSettings() -> PipelineSettings {
    var s = PipelineSettings()
    s.registry = Registry(trucks: [RegisteredTruck(device: "T-0001", plate: plate, company: company, emptyKg: 12000)])
    return s
}

/// Builds messages with increasing inbox ids, each arriving at its own payload time.
struct Feed {
    let start: Instant
    private(set) var messages: [InboxMessage] = []
    private var nextId: Int64 = 1

    init(start: Instant) { self.start = start }

    /// A truck report `after` seconds from the start; fields default to a
    /// loaded truck with its cover open at 36 km/h.
    @discardableResult
    mutating func truck(after seconds: Double, device: String = "T-0001", plate truckPlate: String? = plate,
                        cover: String = "open", load: String? = "full", loadKg: Double? = nil,
                        speed: Double? = 36, lat: Double = 22.54321, lon: Double = 114.05786) -> InboxMessage {
        let ts = start.adding(seconds: seconds)
        var o: [String: Any] = ["device": device, "ts": local(ts), "lat": lat, "lon": lon, "cover": cover]
        if let truckPlate { o["plate"] = truckPlate }
        if let load { o["load"] = load }
        if let loadKg { o["load_kg"] = loadKg }
        if let speed { o["speed_kmh"] = speed }
        return add(Topic.truck(device), json(o), ts)
    }

    /// A camera (or drone) detection `after` seconds from the start.
    @discardableResult
    mutating func event(after seconds: Double, type: String, confidence: Double? = 0.9, plate eventPlate: String? = plate,
                        camera: String = "CAM-07", drone: Bool = false, eventId: String? = nil,
                        lat: Double? = 22.5431, lon: Double? = 114.058) -> InboxMessage {
        let ts = start.adding(seconds: seconds)
        var o: [String: Any] = ["ts": local(ts), "type": type]
        o[drone ? "drone" : "camera"] = camera
        if let confidence { o["confidence"] = confidence }
        if let eventPlate { o["plate"] = eventPlate }
        if let eventId { o["event_id"] = eventId }
        if let lat { o["lat"] = lat }
        if let lon { o["lon"] = lon }
        return add(drone ? Topic.droneEvent(camera) : Topic.camera(camera), json(o), ts)
    }

    @discardableResult
    mutating func add(_ topic: String, _ payload: String, _ arrivedAt: Instant) -> InboxMessage {
        let m = message(topic, payload, id: nextId, arrivedAt: arrivedAt)
        nextId += 1
        messages.append(m)
        return m
    }

    /// Takes the messages built so far (the next ones keep counting ids).
    mutating func take() -> [InboxMessage] {
        defer { messages = [] }
        return messages
    }
}

extension Decoded {
    /// A native message's outcome: its one record, or why it was rejected.
    var single: Result<Record, DecodeFailure> {
        if let failure { return .failure(failure) }
        guard records.count == 1 else {
            return .failure(DecodeFailure(.invalidValue, "test expected one record, got \(records.count) (ignored: \(ignored))"))
        }
        return .success(records[0])
    }
}

func success(_ decoded: Decoded, file: StaticString = #filePath, line: UInt = #line) throws -> Record {
    try success(decoded.single, file: file, line: line)
}

func failure(_ decoded: Decoded, file: StaticString = #filePath, line: UInt = #line) throws -> DecodeFailure {
    try failure(decoded.single, file: file, line: line)
}
