import Foundation
import GRDB
import MuckwatchCore
import MuckwatchStore
import XCTest

let chinaOffset = 8 * 3600
let company = "深圳市示例渣土运输有限公司"
let plate = "粤B12345"

/// The camera's spill event of §4.3, byte for byte.
let spillPayload = """
    {"camera":"CAM-07","event_id":"e-8812","ts":"2026-11-24T21:16:40+08:00","type":"spill","plate":"粤B12345",\
    "confidence":0.91,"lat":22.5431,"lon":114.058,\
    "clip":{"url":"file:///var/lib/muckwatch/media/cam07/seg-2116.ts","offset_s":12.4}}
    """
/// `printf '%s' "$spillPayload" | sha256sum`
let spillPayloadSHA256 = "0d45638bbdad22b3547df96d16f71cfa8845f39ace4fb3e4232ab4ce276ccde2"

enum Topic {
    static func truck(_ device: String = "T-0001") -> String { "muckwatch/v1/truck/\(device)/telemetry" }
    static func fume(_ device: String = "F-0101") -> String { "muckwatch/v1/fume/\(device)/reading" }
    static func camera(_ device: String = "CAM-07") -> String { "muckwatch/v1/camera/\(device)/event" }
    static func drone(_ device: String = "D-01") -> String { "muckwatch/v1/drone/\(device)/telemetry" }
    static func droneEvent(_ device: String = "D-01") -> String { "muckwatch/v1/drone/\(device)/event" }
}

func instant(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Instant {
    guard let i = RFC3339.parse(text) else {
        XCTFail("'\(text)' did not parse", file: file, line: line)
        return Instant(millis: 0)
    }
    return i
}

/// Settings with the one registered truck T-0001 and a legal basis for spills.
func testSettings() -> PipelineSettings {
    var s = PipelineSettings()
    s.registry = Registry(trucks: [RegisteredTruck(device: "T-0001", plate: plate, company: company, emptyKg: 12000)])
    s.incidents.legalBasis["spill"] = "《城市市容和环境卫生管理条例》第十五条"
    return s
}

/// A loaded truck with its cover open at 36 km/h, at a +08:00 time.
func truckPayload(_ time: String, cover: String = "open") -> String {
    #"{"device":"T-0001","ts":"\#(time)","plate":"粤B12345","lat":22.54321,"lon":114.05786,"speed_kmh":36,"cover":"\#(cover)","load":"full"}"#
}

func eventPayload(_ time: String, type: String, eventId: String, confidence: Double = 0.9, plate eventPlate: String? = plate,
                  camera: String = "CAM-07") -> String {
    let plateField = eventPlate.map { #","plate":"\#($0)""# } ?? ""
    return #"{"camera":"\#(camera)","event_id":"\#(eventId)","ts":"\#(time)","type":"\#(type)"\#(plateField),"confidence":\#(confidence),"lat":22.5431,"lon":114.058}"#
}

/// A store in a fresh folder, removed after the test.
class StoreTestCase: XCTestCase {
    var folder: URL!
    var path: String { folder.appendingPathComponent("muckwatch.db").path }

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("muckwatch-store-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let folder { try? FileManager.default.removeItem(at: folder) }
    }

    /// Accepts a message arriving at a +08:00 time (QoS 1, not retained).
    @discardableResult
    func accept(_ store: SQLiteStore, _ topic: String, _ payload: String, at time: String) throws -> Accepted {
        try store.accept(topic: topic, payload: Array(payload.utf8), qos: 1, retain: false, arrivedAt: instant(time))
    }

    /// Reads the store file directly, for what no query of the store shows.
    func rows(_ sql: String) throws -> [Row] {
        let queue = try DatabaseQueue(path: path)
        return try queue.read { db in try Row.fetchAll(db, sql: sql) }
    }
}

/// An empty ledger: the pipeline alone, without the store.
struct NoEvents: EventLedger {
    func contains(sourceKind: String, source: String, eventId: String, before: Int64?) -> Bool { false }
}

/// A case's party in one line: kind, id, plate and company ("-" if unknown).
func describe(_ party: CaseRecord.Party) -> String {
    "\(party.kind) \(party.id) \(party.plate ?? "-") \(party.company ?? "-")"
}

/// One batch as the runtime's `PipelineHost` processes it (pending batch,
/// rules in memory, one commit), without the alert log: what the store tests
/// drive the store with.
struct ProcessedBatch {
    var messages: Int
    var alerts: [StoredAlert]
    var ledgerHead: LedgerHead?
    var forgottenDevices: Int
}

func processNext(in store: SQLiteStore, with pipeline: Pipeline, limit: Int = 2048) throws -> ProcessedBatch? {
    let messages = try store.pendingBatch(limit: limit)
    guard !messages.isEmpty else { return nil }
    let outcome = pipeline.process(messages, ledger: store, history: store, fixes: store)
    let committed = try store.commit(outcome, clock: pipeline.now)
    return ProcessedBatch(messages: messages.count, alerts: committed.alerts, ledgerHead: committed.ledgerHead,
                          forgottenDevices: outcome.forgottenDevices)
}

func restoredPipeline(from store: SQLiteStore, settings: PipelineSettings) throws -> Pipeline {
    Pipeline(settings: settings, restoring: try store.restorePoint(historyDays: settings.incidents.historyDays))
}
