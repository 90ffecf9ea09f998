import MuckwatchCore
import XCTest

/// Native JSON payloads (§4): what a valid message decodes to, and the exact
/// dead-letter reason and detail for each kind of invalid one.
final class DecodingTests: XCTestCase {
    let decoder = PayloadDecoder()
    let arrival = instant("2026-11-24T21:20:00+08:00")

    func decode(_ topic: String, _ payload: String) -> Result<Record, DecodeFailure> {
        decoder.decode(message(topic, payload, arrivedAt: arrival)).single
    }

    // MARK: Valid payloads

    func testTruckTelemetryWithEveryField() throws {
        let payload = """
            {"device":"T-0001","ts":"2026-11-24T21:15:03+08:00","plate":"粤B12345",
             "lat":22.54321,"lon":114.05786,"speed_kmh":35.2,"heading_deg":90,
             "cover":"closed","load":"full","load_kg":18250,"body":"down","seq":123}
            """
        let record = try success(decode(Topic.truck(), payload))
        guard case .truck(let t) = record else { return XCTFail("not a truck record: \(record)") }
        XCTAssertEqual(t.device, "T-0001")
        XCTAssertEqual(t.ts, Instant(millis: 1_795_526_103_000))
        XCTAssertEqual(t.plate, "粤B12345")
        XCTAssertEqual(t.lat, 22.54321)
        XCTAssertEqual(t.lon, 114.05786)
        XCTAssertEqual(t.speedKmh, 35.2)
        XCTAssertEqual(t.headingDeg, 90)
        XCTAssertEqual(t.cover, .closed)
        XCTAssertEqual(t.load, .full)
        XCTAssertEqual(t.loadKg, 18250)
        XCTAssertEqual(t.body, .down)
        XCTAssertEqual(t.seq, 123)
        XCTAssertEqual(record.kind, "truck")
        XCTAssertEqual(record.ts, t.ts)
    }

    func testTruckTelemetryOtherStates() throws {
        let payload = #"{"ts":"2026-11-24T21:15:03+08:00","lat":22.5,"lon":114.0,"cover":"open","load":"partial","body":"raised"}"#
        guard case .truck(let t) = try success(decode(Topic.truck(), payload)) else { return XCTFail("not a truck") }
        XCTAssertEqual(t.cover, .open)
        XCTAssertEqual(t.load, .partial)
        XCTAssertEqual(t.body, .raised)
    }

    func testFumeReadingWithEpochMillis() throws {
        let payload = #"{"monitor":"F-0101","ts":1764000000000,"conc_mg_m3":1.35,"fan":"on","purifier":"off","flow_m3_h":5200}"#
        let record = try success(decoder.decode(message(Topic.fume("F-9999"), payload, arrivedAt: Instant(millis: 1_764_000_000_000))).single)
        guard case .fume(let f) = record else { return XCTFail("not a fume record: \(record)") }
        XCTAssertEqual(f.monitor, "F-0101", "the payload's monitor overrides the topic's")
        XCTAssertEqual(f.ts, Instant(millis: 1_764_000_000_000))
        XCTAssertEqual(RFC3339.format(f.ts, offsetSeconds: 0), "2025-11-24T16:00:00.000Z")
        XCTAssertEqual(f.concMgM3, 1.35)
        XCTAssertEqual(f.fan, .on)
        XCTAssertEqual(f.purifier, .off)
        XCTAssertEqual(f.flowM3H, 5200)
        XCTAssertEqual(record.kind, "fume")
    }

    func testCameraEventWithClip() throws {
        let payload = """
            {"camera":"CAM-07","event_id":"e-8812","ts":"2026-11-24T21:16:40+08:00",
             "type":"uncovered_load","plate":"粤B12345","confidence":0.91,
             "lat":22.5431,"lon":114.0580,
             "clip":{"url":"file:///var/lib/muckwatch/media/cam07/seg-2116.ts","offset_s":12.4}}
            """
        let record = try success(decode(Topic.camera("CAM-99"), payload))
        guard case .event(let e) = record else { return XCTFail("not an event: \(record)") }
        XCTAssertEqual(e.sourceKind, .camera)
        XCTAssertEqual(e.source, "CAM-07")
        XCTAssertEqual(e.eventId, "e-8812")
        XCTAssertEqual(e.ts, instant("2026-11-24T13:16:40Z"))
        XCTAssertEqual(e.type, .uncoveredLoad)
        XCTAssertEqual(e.plate, "粤B12345")
        XCTAssertEqual(e.confidence, 0.91)
        XCTAssertEqual(e.lat, 22.5431)
        XCTAssertEqual(e.lon, 114.058)
        XCTAssertEqual(e.clipURL, "file:///var/lib/muckwatch/media/cam07/seg-2116.ts")
        XCTAssertEqual(e.clipOffsetS, 12.4)
        XCTAssertEqual(record.kind, "camera_event")
    }

    func testEveryEventType() throws {
        let types: [(String, SiteEventType)] = [
            ("uncovered_load", .uncoveredLoad), ("spill", .spill), ("muck_truck", .muckTruck),
            ("unwashed_exit", .unwashedExit), ("bare_soil", .bareSoil), ("sprinkler_off", .sprinklerOff),
        ]
        for (text, type) in types {
            let payload = #"{"ts":"2026-11-24T21:16:40+08:00","type":"\#(text)"}"#
            guard case .event(let e) = try success(decode(Topic.camera(), payload)) else { return XCTFail(text) }
            XCTAssertEqual(e.type, type, text)
        }
    }

    func testDroneEventUsesDroneKey() throws {
        let payload = #"{"drone":"D-07","event_id":"d-1","ts":"2026-11-24T21:16:40+08:00","type":"bare_soil","confidence":0.7,"lat":22.55,"lon":114.06}"#
        let record = try success(decode(Topic.droneEvent("D-01"), payload))
        guard case .event(let e) = record else { return XCTFail("not an event: \(record)") }
        XCTAssertEqual(e.sourceKind, .drone)
        XCTAssertEqual(e.source, "D-07")
        XCTAssertEqual(e.eventId, "d-1")
        XCTAssertEqual(e.type, .bareSoil)
        XCTAssertEqual(e.confidence, 0.7)
        XCTAssertNil(e.plate)
        XCTAssertNil(e.clipURL)
        XCTAssertNil(e.clipOffsetS)
        XCTAssertEqual(record.kind, "drone_event")
    }

    func testDroneEventWithoutDroneKeyTakesTopicDevice() throws {
        // A `camera` key on a drone topic is not the drone's name.
        let payload = #"{"camera":"CAM-07","ts":"2026-11-24T21:16:40+08:00","type":"spill"}"#
        guard case .event(let e) = try success(decode(Topic.droneEvent("D-03"), payload)) else { return XCTFail("not an event") }
        XCTAssertEqual(e.sourceKind, .drone)
        XCTAssertEqual(e.source, "D-03")
    }

    func testDroneTelemetry() throws {
        let payload = #"{"drone":"D-01","ts":"2026-11-24T21:16:40.250+08:00","lat":22.55,"lon":114.06,"alt_m":120.5,"heading_deg":270}"#
        let record = try success(decode(Topic.drone("D-02"), payload))
        guard case .drone(let d) = record else { return XCTFail("not drone telemetry: \(record)") }
        XCTAssertEqual(d.drone, "D-01")
        XCTAssertEqual(d.ts, instant("2026-11-24T13:16:40.250Z"))
        XCTAssertEqual(d.lat, 22.55)
        XCTAssertEqual(d.lon, 114.06)
        XCTAssertEqual(d.altM, 120.5)
        XCTAssertEqual(d.headingDeg, 270)
        XCTAssertEqual(record.kind, "drone")
    }

    // MARK: Times

    func testRFC3339WithOffsetAndFractionAndEpochMillisAgree() throws {
        let a = try success(decode(Topic.truck(), #"{"ts":"2026-11-24T21:15:03.200+08:00","lat":22.5,"lon":114}"#))
        let b = try success(decode(Topic.truck(), #"{"ts":"2026-11-24T13:15:03.2Z","lat":22.5,"lon":114}"#))
        let c = try success(decode(Topic.truck(), #"{"ts":1795526103200,"lat":22.5,"lon":114}"#))
        XCTAssertEqual(a.ts, Instant(millis: 1_795_526_103_200))
        XCTAssertEqual(b.ts, a.ts)
        XCTAssertEqual(c.ts, a.ts)
    }

    // MARK: Device ids

    func testTopicSegmentIsTheDefaultDevice() throws {
        let truck = try success(decode(Topic.truck("T-0042"), #"{"ts":1764000000000,"lat":22.5,"lon":114}"#))
        let fume = try success(decode(Topic.fume("F-0042"), #"{"ts":1764000000000,"conc_mg_m3":0.5}"#))
        let camera = try success(decode(Topic.camera("CAM-42"), #"{"ts":1764000000000,"type":"spill"}"#))
        let drone = try success(decode(Topic.drone("D-42"), #"{"ts":1764000000000,"lat":22.5,"lon":114}"#))
        guard case .truck(let t) = truck, case .fume(let f) = fume, case .event(let e) = camera, case .drone(let d) = drone
        else { return XCTFail("wrong kinds") }
        XCTAssertEqual(t.device, "T-0042")
        XCTAssertEqual(f.monitor, "F-0042")
        XCTAssertEqual(e.source, "CAM-42")
        XCTAssertEqual(d.drone, "D-42")
    }

    func testPayloadDeviceOverridesTopic() throws {
        let truck = try success(decode(Topic.truck("gw-1"), #"{"device":"T-0001","ts":1764000000000,"lat":22.5,"lon":114}"#))
        let camera = try success(decode(Topic.camera("gw-2"), #"{"camera":"CAM-07","ts":1764000000000,"type":"spill"}"#))
        let drone = try success(decode(Topic.drone("gw-3"), #"{"drone":"D-01","ts":1764000000000,"lat":22.5,"lon":114}"#))
        guard case .truck(let t) = truck, case .event(let e) = camera, case .drone(let d) = drone
        else { return XCTFail("wrong kinds") }
        XCTAssertEqual(t.device, "T-0001")
        XCTAssertEqual(e.source, "CAM-07")
        XCTAssertEqual(d.drone, "D-01")
    }

    // MARK: Unknown and missing fields

    func testUnknownFieldsAreIgnored() throws {
        let payload = #"{"ts":1764000000000,"lat":22.5,"lon":114,"firmware":"v9","extra":{"a":[1,2,3]},"cover":"open"}"#
        guard case .truck(let t) = try success(decode(Topic.truck(), payload)) else { return XCTFail("not a truck") }
        XCTAssertEqual(t.cover, .open)
        XCTAssertEqual(t.lat, 22.5)
    }

    func testMissingOptionalFieldsAreUnknownNotZero() throws {
        guard case .truck(let t) = try success(decode(Topic.truck(), #"{"ts":1764000000000,"lat":22.5,"lon":114}"#))
        else { return XCTFail("not a truck") }
        XCTAssertNil(t.plate)
        XCTAssertNil(t.speedKmh)
        XCTAssertNil(t.headingDeg)
        XCTAssertNil(t.loadKg)
        XCTAssertNil(t.seq)
        XCTAssertEqual(t.cover, .unknown)
        XCTAssertEqual(t.load, .unknown)
        XCTAssertEqual(t.body, .unknown)

        guard case .fume(let f) = try success(decode(Topic.fume(), #"{"ts":1764000000000,"conc_mg_m3":0}"#))
        else { return XCTFail("not fume") }
        XCTAssertEqual(f.concMgM3, 0)
        XCTAssertEqual(f.fan, .unknown)
        XCTAssertEqual(f.purifier, .unknown)
        XCTAssertNil(f.flowM3H)

        guard case .event(let e) = try success(decode(Topic.camera(), #"{"ts":1764000000000,"type":"spill"}"#))
        else { return XCTFail("not an event") }
        XCTAssertNil(e.eventId)
        XCTAssertNil(e.plate)
        XCTAssertNil(e.confidence)
        XCTAssertNil(e.lat)
        XCTAssertNil(e.lon)
        XCTAssertNil(e.clipURL)

        guard case .drone(let d) = try success(decode(Topic.drone(), #"{"ts":1764000000000,"lat":22.5,"lon":114}"#))
        else { return XCTFail("not a drone") }
        XCTAssertNil(d.altM)
        XCTAssertNil(d.headingDeg)
    }

    func testNullOptionalFieldIsUnknown() throws {
        guard case .truck(let t) = try success(decode(Topic.truck(), #"{"ts":1764000000000,"lat":22.5,"lon":114,"speed_kmh":null,"cover":null}"#))
        else { return XCTFail("not a truck") }
        XCTAssertNil(t.speedKmh)
        XCTAssertEqual(t.cover, .unknown)
    }

    func testEmptyPlateIsUnknown() throws {
        guard case .truck(let t) = try success(decode(Topic.truck(), #"{"ts":1764000000000,"lat":22.5,"lon":114,"plate":""}"#))
        else { return XCTFail("not a truck") }
        XCTAssertNil(t.plate)
    }

    // MARK: Invalid payloads

    func testNotJSON() throws {
        let f = try failure(decode(Topic.truck(), "lat=22.5 lon=114"))
        XCTAssertEqual(f.reason, .invalidJSON)
        XCTAssertEqual(f.reason.rawValue, "invalid_json")
    }

    func testTruncatedJSON() throws {
        XCTAssertEqual(try failure(decode(Topic.truck(), #"{"ts":1764000000000,"lat":22.5"#)).reason, .invalidJSON)
    }

    func testEmptyPayload() throws {
        XCTAssertEqual(try failure(decode(Topic.truck(), "")).reason, .invalidJSON)
    }

    func testJSONArray() throws {
        let f = try failure(decode(Topic.truck(), #"[{"ts":1764000000000,"lat":22.5,"lon":114}]"#))
        XCTAssertEqual(f.reason, .invalidJSON)
        XCTAssertTrue(f.detail.contains("not an object"), f.detail)
    }

    func testJSONScalars() throws {
        XCTAssertEqual(try failure(decode(Topic.truck(), "42")).reason, .invalidJSON)
        XCTAssertEqual(try failure(decode(Topic.truck(), #""hello""#)).reason, .invalidJSON)
    }

    func testJSONNullIsInvalidJSON() throws {
        // `null` is JSON but not an object: there is no field to name.
        let f = try failure(decode(Topic.truck(), "null"))
        XCTAssertEqual(f.reason, .invalidJSON, f.detail)
    }

    func testFractionalSequenceNumberIsNotInvalidJSON() throws {
        // The payload is valid JSON; the dead letter must name the bad field.
        let f = try failure(decode(Topic.truck(), #"{"ts":1764000000000,"lat":22.5,"lon":114,"seq":1.5}"#))
        XCTAssertNotEqual(f.reason, .invalidJSON, f.detail)
        XCTAssertTrue(f.detail.contains("'seq'"), f.detail)
    }

    func testMissingRequiredFieldPerKind() throws {
        let cases: [(topic: String, payload: String, field: String)] = [
            (Topic.truck(), #"{"lat":22.5,"lon":114}"#, "ts"),
            (Topic.truck(), #"{"ts":1764000000000,"lon":114}"#, "lat"),
            (Topic.truck(), #"{"ts":1764000000000,"lat":22.5}"#, "lon"),
            (Topic.fume(), #"{"conc_mg_m3":1.2}"#, "ts"),
            (Topic.fume(), #"{"ts":1764000000000,"fan":"on"}"#, "conc_mg_m3"),
            (Topic.camera(), #"{"type":"spill"}"#, "ts"),
            (Topic.camera(), #"{"ts":1764000000000,"confidence":0.9}"#, "type"),
            (Topic.droneEvent(), #"{"ts":1764000000000}"#, "type"),
            (Topic.drone(), #"{"ts":1764000000000,"lon":114}"#, "lat"),
            (Topic.drone(), #"{"lat":22.5,"lon":114}"#, "ts"),
        ]
        for c in cases {
            let f = try failure(decode(c.topic, c.payload))
            XCTAssertEqual(f.reason, .missingField, "\(c.topic) \(c.payload)")
            XCTAssertEqual(f.reason.rawValue, "missing_field")
            XCTAssertTrue(f.detail.contains("'\(c.field)'"), "detail should name '\(c.field)': \(f.detail)")
        }
    }

    func testRequiredFieldNullIsMissing() throws {
        let f = try failure(decode(Topic.truck(), #"{"ts":1764000000000,"lat":null,"lon":114}"#))
        XCTAssertEqual(f.reason, .missingField)
        XCTAssertTrue(f.detail.contains("'lat'"), f.detail)
    }

    func testOneCoordinateWithoutTheOtherIsMissingField() throws {
        let f = try failure(decode(Topic.camera(), #"{"ts":1764000000000,"type":"spill","lat":22.5}"#))
        XCTAssertEqual(f.reason, .missingField)
        XCTAssertTrue(f.detail.contains("'lon'"), f.detail)
    }

    func testNoDeviceAnywhereIsMissingField() throws {
        let routes = TopicRoutes([(TopicFilter("gateway/trucks"), .truckTelemetry)])
        let result = PayloadDecoder(routes: routes).decode(
            message("gateway/trucks", #"{"ts":1764000000000,"lat":22.5,"lon":114}"#, arrivedAt: arrival))
        let f = try failure(result)
        XCTAssertEqual(f.reason, .missingField)
        XCTAssertTrue(f.detail.contains("'device'"), f.detail)
    }

    func testWrongType() throws {
        let cases: [(topic: String, payload: String, field: String)] = [
            (Topic.truck(), #"{"ts":1764000000000,"lat":22.5,"lon":114,"speed_kmh":"fast"}"#, "speed_kmh"),
            (Topic.truck(), #"{"ts":1764000000000,"lat":"22.5","lon":114}"#, "lat"),
            (Topic.truck(), #"{"ts":1764000000000,"lat":22.5,"lon":114,"cover":true}"#, "cover"),
            (Topic.truck(), #"{"ts":true,"lat":22.5,"lon":114}"#, "ts"),
            (Topic.fume(), #"{"ts":1764000000000,"conc_mg_m3":"high"}"#, "conc_mg_m3"),
            (Topic.camera(), #"{"ts":1764000000000,"type":"spill","confidence":"0.9"}"#, "confidence"),
            (Topic.camera(), #"{"ts":1764000000000,"type":"spill","clip":{"offset_s":"12"}}"#, "clip.offset_s"),
        ]
        for c in cases {
            let f = try failure(decode(c.topic, c.payload))
            XCTAssertEqual(f.reason, .wrongType, "\(c.payload): \(f.detail)")
            XCTAssertEqual(f.reason.rawValue, "wrong_type")
            XCTAssertTrue(f.detail.contains("'\(c.field)'"), "detail should name '\(c.field)': \(f.detail)")
        }
    }

    func testClipAsTextNamesAnObject() throws {
        let f = try failure(decode(Topic.camera(), #"{"ts":1764000000000,"type":"spill","clip":"x"}"#))
        XCTAssertEqual(f.reason, .wrongType)
        XCTAssertEqual(f.detail, "field 'clip' should be an object")
    }

    func testSpeedAsTextNamesTheExpectedType() throws {
        let f = try failure(decode(Topic.truck(), #"{"ts":1764000000000,"lat":22.5,"lon":114,"speed_kmh":"fast"}"#))
        XCTAssertEqual(f.detail, "field 'speed_kmh' should be a number")
    }

    func testBadEnumValues() throws {
        let cases: [(topic: String, payload: String, field: String, value: String)] = [
            (Topic.truck(), #"{"ts":1764000000000,"lat":22.5,"lon":114,"cover":"half"}"#, "cover", "half"),
            (Topic.truck(), #"{"ts":1764000000000,"lat":22.5,"lon":114,"load":"heavy"}"#, "load", "heavy"),
            (Topic.truck(), #"{"ts":1764000000000,"lat":22.5,"lon":114,"body":"up"}"#, "body", "up"),
            (Topic.fume(), #"{"ts":1764000000000,"conc_mg_m3":1,"fan":"yes"}"#, "fan", "yes"),
            (Topic.fume(), #"{"ts":1764000000000,"conc_mg_m3":1,"purifier":"ON"}"#, "purifier", "ON"),
            (Topic.camera(), #"{"ts":1764000000000,"type":"fire"}"#, "type", "fire"),
        ]
        for c in cases {
            let f = try failure(decode(c.topic, c.payload))
            XCTAssertEqual(f.reason, .invalidValue, "\(c.payload): \(f.detail)")
            XCTAssertEqual(f.reason.rawValue, "invalid_value")
            XCTAssertTrue(f.detail.contains("'\(c.field)'") && f.detail.contains(c.value), f.detail)
        }
    }

    func testCoverHalfListsTheAllowedValues() throws {
        let f = try failure(decode(Topic.truck(), #"{"ts":1764000000000,"lat":22.5,"lon":114,"cover":"half"}"#))
        XCTAssertEqual(f.detail, "field 'cover' is 'half', expected closed|open|unknown")
    }

    func testMalformedTimeStrings() throws {
        for ts in ["2026-11-24 21:15", "2026-11-24T21:15:03", "2026-02-30T10:00:00+08:00", "yesterday", "2026-11-24T25:00:00Z", ""] {
            let f = try failure(decode(Topic.truck(), #"{"ts":"\#(ts)","lat":22.5,"lon":114}"#))
            XCTAssertEqual(f.reason, .invalidValue, "\(ts): \(f.detail)")
            XCTAssertTrue(f.detail.contains("'ts'"), f.detail)
        }
    }

    /// fuzz-native-json's write-back check traps on it (Fuzz/corpus/native-json/crash-ts-year-0, -10000):
    /// an offset pushed a text time out of years 0000..9999, and `muckwatch
    /// decode` wrote it back as "00-1-12-31T23:00:00.000Z", which is not RFC 3339.
    /// Text times get the same 1970..9999 as epoch milliseconds.
    /// Found by fuzz-native-json's write-back check: a year-0000 or
    /// year-10000 time (after its offset) decoded, and `decode` printed it as
    /// text that is not RFC 3339. Now before 2000 is out of range, after 9999
    /// invalid.
    func testTextTimeOutsideTheEpochMillisYearsIsInvalid() throws {
        for (ts, reason, words) in [("0000-01-01T00:00:00+01:00", DeadLetterReason.outOfRange, "before 2000-01-01"),
                                    ("1969-12-31T23:59:59.999Z", .outOfRange, "before 2000-01-01"),
                                    ("9999-12-31T23:59:59-01:00", .invalidValue, "after 9999-12-31")] {
            let items = decoder.items(kind: .truckTelemetry, payload: Array(#"{"ts":"\#(ts)","lat":22.5,"lon":114}"#.utf8),
                                      topicDevice: "T-0001", extra: false)
            guard items.count == 1, case .failure(let f, _) = items[0] else {
                if case .record(let record, _)? = items.first {
                    XCTFail("\(ts) decoded, and decode prints it as \(record.nativeJSON(offsetSeconds: 0).text)")
                } else {
                    XCTFail("\(ts): \(items)")
                }
                continue
            }
            XCTAssertEqual(f.reason, reason, "\(ts): \(f.detail)")
            XCTAssertTrue(f.detail.contains("'ts'") && f.detail.contains(words), f.detail)
        }
        let edge = try success(decode(Topic.truck(), #"{"ts":"2000-01-01T08:00:00+08:00","lat":22.5,"lon":114}"#))
        XCTAssertEqual(edge.ts, Instant(millis: 946_684_800_000))
    }

    func testOutOfRange() throws {
        let cases: [(topic: String, payload: String, field: String)] = [
            (Topic.truck(), #"{"ts":1764000000000,"lat":123.4,"lon":114}"#, "lat"),
            (Topic.truck(), #"{"ts":1764000000000,"lat":22.5,"lon":-200}"#, "lon"),
            (Topic.camera(), #"{"ts":1764000000000,"type":"spill","confidence":1.5}"#, "confidence"),
            (Topic.camera(), #"{"ts":1764000000000,"type":"spill","confidence":-0.1}"#, "confidence"),
            (Topic.camera(), #"{"ts":1764000000000,"type":"spill","lat":91,"lon":114}"#, "lat"),
            (Topic.drone(), #"{"ts":1764000000000,"lat":-90.5,"lon":114}"#, "lat"),
            (Topic.truck(), #"{"ts":1764000000000,"lat":22.5,"lon":114,"speed_kmh":-3}"#, "speed_kmh"),
            (Topic.fume(), #"{"ts":1764000000000,"conc_mg_m3":-1}"#, "conc_mg_m3"),
        ]
        for c in cases {
            let f = try failure(decode(c.topic, c.payload))
            XCTAssertEqual(f.reason, .outOfRange, "\(c.payload): \(f.detail)")
            XCTAssertEqual(f.reason.rawValue, "out_of_range")
            XCTAssertTrue(f.detail.contains("'\(c.field)'"), "detail should name '\(c.field)': \(f.detail)")
        }
    }

    func testRangeEdgesAreAccepted() throws {
        _ = try success(decode(Topic.truck(), #"{"ts":1764000000000,"lat":90,"lon":-180}"#))
        _ = try success(decode(Topic.truck(), #"{"ts":1764000000000,"lat":-90,"lon":180}"#))
        _ = try success(decode(Topic.camera(), #"{"ts":1764000000000,"type":"spill","confidence":1}"#))
        _ = try success(decode(Topic.camera(), #"{"ts":1764000000000,"type":"spill","confidence":0}"#))
    }

    func testLatitudeDetailGivesValue() throws {
        let f = try failure(decode(Topic.truck(), #"{"ts":1764000000000,"lat":123.4,"lon":114}"#))
        XCTAssertTrue(f.detail.contains("123.4"), f.detail)
    }

    func testMoreThan24HoursAfterArrivalIsFutureTime() throws {
        let arrived = instant("2026-11-24T12:00:00+08:00")
        let late = decoder.decode(message(Topic.truck(), #"{"ts":"2026-11-25T12:00:00.001+08:00","lat":22.5,"lon":114}"#,
                                          arrivedAt: arrived))
        let f = try failure(late)
        XCTAssertEqual(f.reason, .futureTime)
        XCTAssertEqual(f.reason.rawValue, "future_time")
        XCTAssertTrue(f.detail.contains("'ts'"), f.detail)
    }

    func testExactly24HoursAfterArrivalIsAccepted() throws {
        let arrived = instant("2026-11-24T12:00:00+08:00")
        let record = try success(decoder.decode(message(Topic.truck(), #"{"ts":"2026-11-25T12:00:00+08:00","lat":22.5,"lon":114}"#,
                                                        arrivedAt: arrived)))
        XCTAssertEqual(record.ts, instant("2026-11-25T04:00:00Z"))
    }

    func testEpochMillisInTheFutureIsFutureTime() throws {
        let arrived = Instant(millis: 1_764_000_000_000)
        let f = try failure(decoder.decode(message(Topic.fume(), #"{"ts":1764086400001,"conc_mg_m3":1}"#, arrivedAt: arrived)))
        XCTAssertEqual(f.reason, .futureTime)
    }

    func testPastTimesAreAccepted() throws {
        // A device that buffered readings while offline sends them late.
        let record = try success(decode(Topic.truck(), #"{"ts":"2026-11-20T09:00:00+08:00","lat":22.5,"lon":114}"#))
        XCTAssertEqual(record.ts, instant("2026-11-20T01:00:00Z"))
    }

    func testTopicMatchingNoFilter() throws {
        for topic in ["muckwatch/v1/boat/B-1/telemetry", "muckwatch/v1/truck/T-0001", "muckwatch/v1/truck/T-0001/telemetry/extra", "other"] {
            let f = try failure(decode(topic, #"{"ts":1764000000000,"lat":22.5,"lon":114}"#))
            XCTAssertEqual(f.reason, .unknownTopic, topic)
            XCTAssertEqual(f.reason.rawValue, "unknown_topic")
            XCTAssertTrue(f.detail.contains(topic), f.detail)
        }
    }

    func testUnknownTopicWinsOverBadPayload() throws {
        XCTAssertEqual(try failure(decode("nobody/listens/here", "not json")).reason, .unknownTopic)
    }

    func testConfiguredRoutesReplaceDefaults() throws {
        let routes = TopicRoutes([(TopicFilter("site/+/trucks/+/gps"), .truckTelemetry)])
        let d = PayloadDecoder(routes: routes)
        let record = try success(d.decode(message("site/S-1/trucks/T-0009/gps", #"{"ts":1764000000000,"lat":22.5,"lon":114}"#,
                                                  arrivedAt: arrival)))
        guard case .truck(let t) = record else { return XCTFail("not a truck") }
        XCTAssertEqual(t.device, "S-1", "the first '+' level is the device id")
        XCTAssertEqual(try failure(d.decode(message(Topic.truck(), #"{"ts":1764000000000,"lat":22.5,"lon":114}"#,
                                                    arrivedAt: arrival))).reason, .unknownTopic)
    }
}
