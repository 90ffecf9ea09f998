import MuckwatchCore
import XCTest

/// The simdjson-backed parser under the payload decoder and the feed reader:
/// what JSON's corners decode to, as the decoder and feed lines see them.
final class JSONParserTests: XCTestCase {
    let parser = JSONParser()
    let decoder = PayloadDecoder()
    let arrival = Instant(millis: 1_764_000_000_000)

    private func truck(_ payload: String) -> Result<Record, DecodeFailure> {
        decoder.decode(message(Topic.truck("T-0001"), payload, arrivedAt: arrival)).single
    }

    func testEscapesAndUnicodeInStrings() throws {
        let record = try success(truck(#"{"ts":1764000000000,"lat":22.5,"lon":114,"plate":"\u7ca4B\"12\\345\n"}"#))
        guard case .truck(let t) = record else { return XCTFail("not a truck") }
        XCTAssertEqual(t.plate, "粤B\"12\\345\n")
    }

    func testLastOfARepeatedKeyWins() throws {
        guard case .truck(let t) = try success(truck(#"{"ts":1764000000000,"lat":10,"lat":22.5,"lon":114}"#))
        else { return XCTFail("not a truck") }
        XCTAssertEqual(t.lat, 22.5)
    }

    func testNestedUnknownFieldsAreSkippedWhateverTheirShape() throws {
        let payload = #"{"x":{"lat":1,"y":[{"lat":2},[3,{"lon":4}]]},"ts":1764000000000,"lat":22.5,"lon":114,"z":[]}"#
        guard case .truck(let t) = try success(truck(payload)) else { return XCTFail("not a truck") }
        XCTAssertEqual(t.lat, 22.5, "a nested 'lat' is not the payload's")
        XCTAssertEqual(t.lon, 114)
    }

    func testNumbersInEveryForm() throws {
        guard case .truck(let t) = try success(truck(#"{"ts":1764000000000,"lat":2.25e1,"lon":-0.0}"#))
        else { return XCTFail("not a truck") }
        XCTAssertEqual(t.lat, 22.5)
        XCTAssertEqual(t.lon, 0)
        XCTAssertEqual(try failure(truck(#"{"ts":1764000000000,"lat":22.5,"lon":114,"speed_kmh":18446744073709551615}"#)).reason,
                       .outOfRange, "a huge number is a number, and out of range")
    }

    func testEpochMillisWrittenWithAFractionOfZeroIsAccepted() throws {
        XCTAssertEqual(try success(truck(#"{"ts":1764000000000.0,"lat":22.5,"lon":114}"#)).ts, Instant(millis: 1_764_000_000_000))
        let f = try failure(truck(#"{"ts":1764000000000.5,"lat":22.5,"lon":114}"#))
        XCTAssertEqual(f.reason, .invalidValue)
        XCTAssertTrue(f.detail.contains("'ts'") && f.detail.contains("whole number"), f.detail)
    }

    func testInvalidUTF8IsInvalidJSON() throws {
        var bytes = Array(#"{"ts":1764000000000,"lat":22.5,"lon":114,"plate":"X"}"#.utf8)
        bytes[bytes.count - 3] = 0xFF
        let result = decoder.decode(InboxMessage(id: 1, topic: Topic.truck("T-0001"), payload: bytes, arrivedAt: arrival))
        XCTAssertEqual(try failure(result).reason, .invalidJSON)
    }

    func testTrailingGarbageAndTwoDocumentsAreInvalid() throws {
        XCTAssertEqual(try failure(truck(#"{"ts":1764000000000,"lat":22.5,"lon":114} x"#)).reason, .invalidJSON)
        XCTAssertEqual(try failure(truck(#"{"ts":1764000000000,"lat":22.5,"lon":114}{}"#)).reason, .invalidJSON)
    }

    func testWhitespaceAroundTheDocumentIsFine() throws {
        _ = try success(truck(" \n\t{\"ts\":1764000000000,\"lat\":22.5,\"lon\":114}\r\n "))
    }

    func testAParserIsReusableAfterAnError() throws {
        XCTAssertThrowsError(try parser.parse(Array("{".utf8)) { _ in () })
        let value = try parser.parse(Array(#"{"a":"b"}"#.utf8)) { $0["a"]?.string }
        XCTAssertEqual(value, "b")
    }

    func testDeepNestingIsRefusedNotACrash() throws {
        let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        XCTAssertEqual(try failure(truck(deep)).reason, .invalidJSON)
    }

    func testFeedLineWithEscapedPayload() throws {
        let line = #"{"t":"2026-11-24T13:00:00.125Z","topic":"a/b","qos":0,"retain":true,"payload":"{\"k\":\"\u00e9\\n\"}"}"#
        let m = try FeedFile.parse(Array(line.utf8), lineNumber: 3, parser: parser).get()
        XCTAssertEqual(m.t, Instant(millis: 1_795_525_200_125))
        XCTAssertEqual(m.topic, "a/b")
        XCTAssertEqual(m.qos, 0)
        XCTAssertTrue(m.retain)
        XCTAssertEqual(String(decoding: m.payload, as: UTF8.self), "{\"k\":\"é\\n\"}")
    }

    func testFeedLineErrorsNameTheLineAndField() throws {
        func reason(_ line: String) -> String? {
            if case .failure(let e) = FeedFile.parse(Array(line.utf8), lineNumber: 7, parser: parser) {
                XCTAssertEqual(e.line, 7)
                return e.reason
            }
            return nil
        }
        XCTAssertEqual(reason("{"), "not valid JSON")
        XCTAssertEqual(reason("[1]"), "not a JSON object")
        XCTAssertEqual(reason(#"{"t":5,"topic":"a","payload":""}"#), "'t' has the wrong type")
        XCTAssertEqual(reason(#"{"t":"2026-11-24T13:00:00Z","topic":"a","qos":"1","payload":""}"#), "'qos' has the wrong type")
        XCTAssertEqual(reason(#"{"t":"2026-11-24T13:00:00Z","topic":"a","qos":1.5,"payload":""}"#), "'qos' has the wrong type")
        XCTAssertEqual(reason(#"{"topic":"a","payload":""}"#), "no 't' (receive time)")
        XCTAssertEqual(reason(#"{"t":"2026-11-24T13:00:00Z","topic":"a"}"#), "neither 'payload' nor 'payload_b64'")
    }
}
