// libFuzzer harness for the native JSON payloads (SPEC §4): every input is
// decoded as each of the six native kinds, twice: as the pipeline enters the
// decoder (PayloadDecoder.decode of a message on the kind's default topic,
// which names device "dev") and with no device from the topic
// (PayloadDecoder.items, topicDevice nil). The decoder must never trap
// (ASan/libFuzzer report any trap, overflow or bad access). What traps here:
// - a message that gives neither exactly one record nor a failure;
// - a record of another kind than its topic's, or with a value outside the
//   range the decoder promises (lat/lon, speeds, confidence, ...), or an
//   empty device id;
// - a record that, written back as `muckwatch decode` prints it
//   (`nativeJSON`), does not decode to the same record.
// Built only with MUCKWATCH_FUZZ set; run with Fuzz/run.sh, seeds in Fuzz/corpus/native-json/.
import MuckwatchCore

/// Each native kind with a topic of its default filter (SPEC §3).
let nativeTopics: [(kind: PayloadKind, topic: String)] = [
    (.truckTelemetry, "muckwatch/v1/truck/dev/telemetry"),
    (.fumeReading, "muckwatch/v1/fume/dev/reading"),
    (.cameraEvent, "muckwatch/v1/camera/dev/event"),
    (.droneTelemetry, "muckwatch/v1/drone/dev/telemetry"),
    (.droneEvent, "muckwatch/v1/drone/dev/event"),
    (.videoSegment, "muckwatch/v1/video/dev/segment"),
]

/// Arrival at the end of year 9999, so that only times past every valid
/// RFC 3339 year meet the future-time check.
let arrival = Instant(millis: 253_402_300_799_999)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // A decoder per input: no state shared across calls, and nothing global to guard.
    let decoder = PayloadDecoder()
    let payload = Array(UnsafeBufferPointer(start: data, count: size))
    for (kind, topic) in nativeTopics {
        // sha256 given: hashing every input would only slow the fuzzer down.
        let message = InboxMessage(id: 1, topic: topic, payload: payload, arrivedAt: arrival, sha256: "-")
        let decoded = decoder.decode(message)
        precondition(decoded.records.count + (decoded.failure == nil ? 0 : 1) == 1,
                     "\(kind): \(decoded.records.count) records and failure \(String(describing: decoded.failure))")
        precondition(decoded.ignored.isEmpty, "\(kind): a native payload ignored \(decoded.ignored)")
        for record in decoded.records { check(record, kind: kind, topicDevice: "dev", decoder: decoder) }

        let items = decoder.items(kind: kind, payload: payload, topicDevice: nil, extra: false)
        precondition(items.count == 1, "\(kind): \(items.count) items for one native payload")
        switch items[0] {
        case .record(let record, _): check(record, kind: kind, topicDevice: nil, decoder: decoder)
        case .failure(let failure, _): precondition(!failure.detail.isEmpty, "\(kind): a failure with no detail")
        case .ignored(let what, _): preconditionFailure("\(kind): a native payload ignored as \(what)")
        }
    }
    return 0
}

func inRange(_ value: Double?, _ range: ClosedRange<Double>, _ field: String) {
    if let value { precondition(range.contains(value), "\(field) \(value) is outside \(range)") }
}

func check(_ record: Record, kind: PayloadKind, topicDevice: String?, decoder: PayloadDecoder) {
    switch (kind, record) {
    case (.truckTelemetry, .truck(let t)):
        precondition(!t.device.isEmpty, "truck with an empty device")
        inRange(t.lat, -90...90, "lat")
        inRange(t.lon, -180...180, "lon")
        inRange(t.speedKmh, 0...400, "speed_kmh")
        inRange(t.headingDeg, 0...360, "heading_deg")
        inRange(t.loadKg, 0...200_000, "load_kg")
    case (.fumeReading, .fume(let f)):
        precondition(!f.monitor.isEmpty, "fume reading with an empty monitor")
        inRange(f.concMgM3, 0...10_000, "conc_mg_m3")
        inRange(f.flowM3H, 0...10_000_000, "flow_m3_h")
    case (.cameraEvent, .event(let e)), (.droneEvent, .event(let e)):
        precondition(e.sourceKind == (kind == .cameraEvent ? .camera : .drone), "\(kind) decoded as \(e.sourceKind)")
        precondition(!e.source.isEmpty, "event with an empty source")
        precondition((e.lat == nil) == (e.lon == nil), "event with half a position")
        inRange(e.lat, -90...90, "lat")
        inRange(e.lon, -180...180, "lon")
        inRange(e.confidence, 0...1, "confidence")
        inRange(e.clipOffsetS, 0...86_400, "clip.offset_s")
    case (.droneTelemetry, .drone(let d)):
        precondition(!d.drone.isEmpty, "drone telemetry with an empty drone")
        inRange(d.lat, -90...90, "lat")
        inRange(d.lon, -180...180, "lon")
        inRange(d.altM, -500...10_000, "alt_m")
        inRange(d.headingDeg, 0...360, "heading_deg")
    case (.videoSegment, .segment(let v)):
        precondition(!v.source.isEmpty && !v.url.isEmpty, "video segment with an empty source or url")
    default:
        preconditionFailure("\(kind) decoded as a \(record.kind) record")
    }
    // What `muckwatch decode` prints must read back as the same record.
    let written = Array(record.nativeJSON(offsetSeconds: 0).text.utf8)
    let again = decoder.items(kind: kind, payload: written, topicDevice: topicDevice, extra: false)
    guard again.count == 1, case .record(let reread, _) = again[0] else {
        preconditionFailure("\(kind): the record written back as \(String(decoding: written, as: UTF8.self)) does not decode: \(again)")
    }
    precondition(reread == record, "\(kind): written back as \(String(decoding: written, as: UTF8.self)), it decodes to \(reread), not \(record)")
}
