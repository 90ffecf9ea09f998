import MuckwatchConfig
import MuckwatchCore
import XCTest

/// What one publisher may make the pipeline hold (issue 14, items 7–9): long
/// ids, huge numbers, times before 2000, payloads above the limit.
final class LimitsTests: XCTestCase {
    let decoder = PayloadDecoder()
    let arrival = instant("2026-11-24T21:20:00+08:00")

    func decode(_ topic: String, _ payload: String) -> Result<Record, DecodeFailure> {
        decoder.decode(message(topic, payload, arrivedAt: arrival)).single
    }

    // MARK: Device ids (item 7)

    func testDeviceIdOf65BytesIsInvalidValueNamingTheField() throws {
        let long = String(repeating: "T", count: 65)
        let cases: [(topic: String, payload: String, field: String)] = [
            (Topic.truck(), #"{"device":"\#(long)","ts":1764000000000,"lat":22.5,"lon":114}"#, "device"),
            (Topic.fume(), #"{"monitor":"\#(long)","ts":1764000000000,"conc_mg_m3":1}"#, "monitor"),
            (Topic.camera(), #"{"camera":"\#(long)","ts":1764000000000,"type":"spill"}"#, "camera"),
            (Topic.droneEvent(), #"{"drone":"\#(long)","ts":1764000000000,"type":"spill"}"#, "drone"),
            (Topic.drone(), #"{"drone":"\#(long)","ts":1764000000000,"lat":22.5,"lon":114}"#, "drone"),
            ("muckwatch/v1/video/CAM-07/segment", #"{"source":"\#(long)","url":"file:///a.mp4","start":1764000000000}"#, "source"),
            // From the topic when the payload names none.
            (Topic.truck(long), #"{"ts":1764000000000,"lat":22.5,"lon":114}"#, "device"),
        ]
        for c in cases {
            let f = try failure(decode(c.topic, c.payload))
            XCTAssertEqual(f.reason.rawValue, "invalid_value", "\(c.payload): \(f.detail)")
            XCTAssertEqual(f.detail, "field '\(c.field)' is 65 bytes long, above limits.max_device_id_bytes 64")
        }
        // 64 bytes (here 16 four-byte characters) is still an id.
        let record = try success(decode(Topic.truck(), #"{"device":"\#(String(repeating: "𝕋", count: 16))","ts":1764000000000,"lat":22.5,"lon":114}"#))
        guard case .truck(let t) = record else { return XCTFail("\(record)") }
        XCTAssertEqual(t.device.utf8.count, 64)
    }

    func testTenThousandCharacterIdsLeaveNoStateInThePipeline() throws {
        let pipeline = Pipeline(settings: testSettings())
        var feed = Feed(start: arrival)
        for i in 0..<100 {
            feed.truck(after: Double(i), device: String(repeating: "x", count: 10_000) + String(i))
        }
        let out = pipeline.process(feed.take(), ledger: SetLedger())
        XCTAssertEqual(out.deadLetters.count, 100)
        XCTAssertEqual(Set(out.deadLetters.map(\.failure.reason)), [.invalidValue])
        XCTAssertEqual(pipeline.stateCounts.values.reduce(0, +), 0, "\(pipeline.stateCounts)")
    }

    // MARK: Numbers and times (item 9)

    func testTwentyThreeDigitSeqIsOutOfRangeNamingTheField() throws {
        let f = try failure(decode(Topic.truck(), #"{"ts":1764000000000,"lat":22.5,"lon":114,"seq":12345678901234567890123}"#))
        XCTAssertEqual(f.reason.rawValue, "out_of_range", f.detail)
        XCTAssertTrue(f.detail.hasPrefix("field 'seq' is 1.2345678901234568e+22, beyond"), f.detail)
        // Negative, and a latitude: the field's own range check names it.
        let negative = try failure(decode(Topic.truck(), #"{"ts":1764000000000,"lat":22.5,"lon":114,"seq":-99999999999999999999999}"#))
        XCTAssertEqual(negative.reason, .outOfRange, negative.detail)
        let lat = try failure(decode(Topic.truck(), #"{"ts":1764000000000,"lat":12345678901234567890123,"lon":114}"#))
        XCTAssertEqual(lat.reason, .outOfRange, lat.detail)
        XCTAssertTrue(lat.detail.contains("'lat'"), lat.detail)
        // Inside a string the digits are text, and a big number elsewhere still parses.
        let text = try failure(decode(Topic.truck(), #"{"ts":1764000000000,"lat":22.5,"lon":114,"plate":"12345678901234567890123","seq":12345678901234567890123}"#))
        XCTAssertEqual(text.reason, .outOfRange, text.detail)
        // A malformed number is still not JSON.
        let bad = try failure(decode(Topic.truck(), #"{"ts":1764000000000,"lat":22.5,"lon":114,"seq":0123}"#))
        XCTAssertEqual(bad.reason, .invalidJSON, bad.detail)
        // 2^53 is still a sequence number.
        let record = try success(decode(Topic.truck(), #"{"ts":1764000000000,"lat":22.5,"lon":114,"seq":9007199254740992}"#))
        guard case .truck(let t) = record else { return XCTFail("\(record)") }
        XCTAssertEqual(t.seq, 9_007_199_254_740_992)
    }

    func testTimesBefore2000AreRefusedNamingFieldAndBound() throws {
        for ts in [#""0001-01-01T00:00:00Z""#, #""1999-12-31T23:59:59Z""#, #""2000-01-01T07:59:59+08:00""#] {
            let f = try failure(decode(Topic.truck(), #"{"ts":\#(ts),"lat":22.5,"lon":114}"#))
            XCTAssertEqual(f.reason.rawValue, "out_of_range", "\(ts): \(f.detail)")
            XCTAssertTrue(f.detail.contains("field 'ts'") && f.detail.contains("before 2000-01-01T00:00:00Z"), f.detail)
        }
        for ms in ["0", "-1", "946684799999", "-62135596800000"] {
            let f = try failure(decode(Topic.truck(), #"{"ts":\#(ms),"lat":22.5,"lon":114}"#))
            XCTAssertEqual(f.reason.rawValue, "out_of_range", "\(ms): \(f.detail)")
            XCTAssertEqual(f.detail, "field 'ts': epoch milliseconds \(ms) is before 2000-01-01T00:00:00Z (946684800000), the earliest time accepted")
        }
        let segment = try failure(decode("muckwatch/v1/video/CAM-07/segment", #"{"url":"file:///a.mp4","start":"1970-01-01T00:00:00Z"}"#))
        XCTAssertEqual(segment.reason, .outOfRange)
        XCTAssertTrue(segment.detail.contains("field 'start'"), segment.detail)
        // The bound itself is accepted, written either way.
        XCTAssertEqual(try success(decode(Topic.truck(), #"{"ts":946684800000,"lat":22.5,"lon":114}"#)).ts, Instant(millis: 946_684_800_000))
        XCTAssertEqual(try success(decode(Topic.truck(), #"{"ts":"2000-01-01T08:00:00+08:00","lat":22.5,"lon":114}"#)).ts,
                       Instant(millis: 946_684_800_000))
    }

    // MARK: Payload size (item 8)

    func testPayloadAboveTheLimitIsTooLargeKeepingItsHeadAndTheWholeHash() throws {
        var big = Array(#"{"ts":1764000000000,"lat":22.5,"lon":114,"pad":""#.utf8)
        big += [UInt8](repeating: UInt8(ascii: "a"), count: 2 * 1_048_576)
        big += Array(#""}"#.utf8)
        let (head, oversized) = OversizedPayload.cut(big, limit: Limits().maxPayloadBytes)
        XCTAssertEqual(head.count, 4096)
        XCTAssertEqual(head, Array(big.prefix(4096)))
        XCTAssertEqual(oversized, OversizedPayload(size: big.count, sha256: Digest.sha256Hex(big)))
        let m = InboxMessage(id: 1, topic: Topic.truck(), payload: head, arrivedAt: arrival, sha256: oversized!.sha256,
                             oversized: oversized)
        let out = Pipeline(settings: testSettings()).process([m], ledger: SetLedger())
        XCTAssertEqual(out.decoded, [])
        XCTAssertEqual(out.deadLetters.count, 1)
        let f = out.deadLetters[0].failure
        XCTAssertEqual(f.reason.rawValue, "too_large")
        XCTAssertEqual(f.detail, "payload is \(big.count) bytes, above limits.max_payload_bytes 1048576; its first 4096 bytes are kept, sha256 of the whole \(Digest.sha256Hex(big))")
        XCTAssertEqual(out.deadLetters[0].message.payload.count, 4096)
        // At the limit: decoded as usual.
        let (same, none) = OversizedPayload.cut(Array(#"{"ts":1764000000000,"lat":22.5,"lon":114}"#.utf8), limit: 4096)
        XCTAssertNil(none)
        XCTAssertEqual(same.count, 41)
    }

    // MARK: Config

    func testLimitsSectionReadsAndValidatesWithLines() throws {
        let config = try MuckwatchConfiguration.parse(yaml: """
            limits:
              max_payload_bytes: 65536
              max_device_id_bytes: 32
              device_idle_s: 7200
            """, file: "m.yaml")
        XCTAssertEqual(config.pipeline.limits.maxPayloadBytes, 65536)
        XCTAssertEqual(config.pipeline.limits.maxDeviceIdBytes, 32)
        XCTAssertEqual(config.pipeline.limits.deviceIdleS, 7200)
        XCTAssertEqual(config.pipelineSettings.payloadDecoder().limits.maxDeviceIdBytes, 32)
        XCTAssertEqual(MuckwatchConfiguration().pipeline.limits, Limits())
        XCTAssertEqual(Limits().deviceIdleS, 21600)
        XCTAssertEqual(Limits().maxPayloadBytes, 1_048_576)

        func error(_ yaml: String) -> String {
            do {
                _ = try MuckwatchConfiguration.parse(yaml: yaml, file: "m.yaml")
                return "accepted"
            } catch {
                return error.description
            }
        }
        XCTAssertEqual(error("limits:\n  max_payload_bytes: 100\n"),
                       "m.yaml, line 2: 'limits.max_payload_bytes' is 100, outside 4096...268435455")
        XCTAssertEqual(error("timezone: UTC\nlimits:\n  max_device_id_bytes: big\n"),
                       "m.yaml, line 3: 'limits.max_device_id_bytes' should be a whole number, not 'big'")
        XCTAssertEqual(error("limits:\n  idle: 5\n"),
                       "m.yaml, line 2: 'limits.idle' is not a known setting (known here: device_idle_s, max_device_id_bytes, max_payload_bytes)")
        XCTAssertEqual(error("rules:\n  device_silent:\n    silence_s: 7200\nlimits:\n  device_idle_s: 3600\n"),
                       "m.yaml, line 5: 'limits.device_idle_s' is 3600, not above rules.device_silent.silence_s (7200): a device's state must outlive every rule's window")
    }

    func testShippedExampleSetsTheDefaults() throws {
        let config = try MuckwatchConfiguration.load(path: ConfigTests.exampleURL.path)
        XCTAssertEqual(config.pipeline.limits, Limits())
    }
}
