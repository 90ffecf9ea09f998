import MuckwatchCore
import XCTest

/// RFC 3339 times as payloads and outputs use them.
final class RFC3339Tests: XCTestCase {
    func testParsesZuluAndOffsetsToTheSameInstant() {
        let utc = RFC3339.parse("2026-11-24T13:15:03Z")
        XCTAssertEqual(utc, Instant(millis: 1_795_526_103_000))
        XCTAssertEqual(RFC3339.parse("2026-11-24T21:15:03+08:00"), utc)
        XCTAssertEqual(RFC3339.parse("2026-11-24T08:15:03-05:00"), utc)
        XCTAssertEqual(RFC3339.parse("2026-11-24T18:45:03+05:30"), utc)
        XCTAssertEqual(RFC3339.parse("2026-11-24T13:15:03+00:00"), utc)
        XCTAssertEqual(RFC3339.parse("2026-11-24t13:15:03z"), utc, "lower-case t and z are allowed by RFC 3339")
    }

    func testFractionalSeconds() {
        let base: Int64 = 1_795_526_103_000
        XCTAssertEqual(RFC3339.parse("2026-11-24T21:15:03.200+08:00")?.millis, base + 200)
        XCTAssertEqual(RFC3339.parse("2026-11-24T21:15:03.2+08:00")?.millis, base + 200)
        XCTAssertEqual(RFC3339.parse("2026-11-24T21:15:03.005+08:00")?.millis, base + 5)
        XCTAssertEqual(RFC3339.parse("2026-11-24T21:15:03.123456+08:00")?.millis, base + 123, "beyond ms is truncated")
        XCTAssertNil(RFC3339.parse("2026-11-24T21:15:03.+08:00"), "a dot needs digits")
    }

    func testEpochStart() {
        XCTAssertEqual(RFC3339.parse("1970-01-01T00:00:00Z"), Instant(millis: 0))
        XCTAssertEqual(RFC3339.parse("1970-01-01T08:00:00+08:00"), Instant(millis: 0))
    }

    func testLeapDay() {
        XCTAssertEqual(RFC3339.parse("2028-02-29T12:00:00Z")?.millis, 1_835_438_400_000)
        XCTAssertNotNil(RFC3339.parse("2000-02-29T00:00:00Z"), "2000 is a leap year")
        XCTAssertNil(RFC3339.parse("2026-02-29T12:00:00Z"), "2026 is not a leap year")
        XCTAssertNil(RFC3339.parse("2100-02-29T12:00:00Z"), "2100 is not a leap year")
    }

    func testRejectsImpossibleAndMalformed() {
        for text in [
            "2026-02-30T10:00:00+08:00",  // no 30 February
            "2026-04-31T10:00:00+08:00",  // April has 30 days
            "2026-13-01T10:00:00Z",
            "2026-00-10T10:00:00Z",
            "2026-11-00T10:00:00Z",
            "2026-11-24T24:00:00Z",
            "2026-11-24T10:60:00Z",
            "2026-11-24T21:15:03",  // no offset
            "2026-11-24T21:15:03.200",  // no offset
            "2026-11-24T21:15+08:00",  // no seconds
            "2026-11-24",
            "2026-11-24T21:15:03+0800",  // offset without colon
            "2026-11-24T21:15:03+08",
            "2026-11-24T21:15:03Z trailing",
            "26-11-24T21:15:03Z",
            "",
        ] {
            XCTAssertNil(RFC3339.parse(text), text)
        }
    }

    func testFormatsWithMillisecondsAtOffset() {
        let i = Instant(millis: 1_795_526_103_005)
        XCTAssertEqual(RFC3339.format(i, offsetSeconds: 8 * 3600), "2026-11-24T21:15:03.005+08:00")
        XCTAssertEqual(RFC3339.format(i, offsetSeconds: 0), "2026-11-24T13:15:03.005Z")
        XCTAssertEqual(RFC3339.format(i, offsetSeconds: -5 * 3600), "2026-11-24T08:15:03.005-05:00")
        XCTAssertEqual(RFC3339.format(i, offsetSeconds: 5 * 3600 + 1800), "2026-11-24T18:45:03.005+05:30")
        XCTAssertEqual(i.description, "2026-11-24T13:15:03.005Z")
    }

    func testFormatCrossesMidnightAtOffset() {
        let i = instant("2026-11-24T16:30:00Z")
        XCTAssertEqual(RFC3339.format(i, offsetSeconds: 8 * 3600), "2026-11-25T00:30:00.000+08:00")
        XCTAssertEqual(RFC3339.format(instant("2026-12-31T23:59:59.999+08:00"), offsetSeconds: 8 * 3600),
                       "2026-12-31T23:59:59.999+08:00")
    }

    func testRoundTrips() {
        for text in [
            "2026-11-24T21:15:03.200+08:00", "2028-02-29T23:59:59.999+08:00", "2026-01-01T00:00:00.000Z",
            "1999-12-31T23:59:59.001-03:00", "2026-11-25T00:01:00.000+08:00",
        ] {
            guard let i = RFC3339.parse(text) else { XCTFail(text); continue }
            let offset = text.hasSuffix("Z") ? 0 : (text.hasSuffix("+08:00") ? 8 * 3600 : -3 * 3600)
            XCTAssertEqual(RFC3339.format(i, offsetSeconds: offset), text)
            XCTAssertEqual(RFC3339.parse(RFC3339.format(i, offsetSeconds: 0)), i)
        }
        for millis: Int64 in [0, 1, 999, 1_000, 1_795_526_103_200, 1_835_438_399_999, 4_102_444_800_000] {
            let i = Instant(millis: millis)
            XCTAssertEqual(RFC3339.parse(RFC3339.format(i, offsetSeconds: 8 * 3600)), i, "\(millis)")
            XCTAssertEqual(RFC3339.parse(RFC3339.format(i, offsetSeconds: -7 * 3600)), i, "\(millis)")
        }
    }

    func testCompactDateUsesTheLocalDate() {
        let beforeMidnight = instant("2026-11-24T23:59:00+08:00")
        let afterMidnight = instant("2026-11-25T00:01:00+08:00")
        XCTAssertEqual(RFC3339.compactDate(beforeMidnight, offsetSeconds: 8 * 3600), "20261124")
        XCTAssertEqual(RFC3339.compactDate(afterMidnight, offsetSeconds: 8 * 3600), "20261125")
        XCTAssertEqual(RFC3339.compactDate(afterMidnight, offsetSeconds: 0), "20261124", "still the 24th in UTC")
        XCTAssertEqual(RFC3339.compactDate(instant("2028-02-29T20:00:00+08:00"), offsetSeconds: 8 * 3600), "20280229")
        XCTAssertEqual(RFC3339.compactDate(instant("2026-12-31T16:00:00Z"), offsetSeconds: 8 * 3600), "20270101")
    }

    func testCompactDateAgreesWithFormat() {
        assertCompactDateAgreesWithFormat([0, 1_795_526_103_200, 1_795_536_000_000 - 1, 1_795_536_000_000])
    }

    /// An epoch-ms `ts` is not bounded below, so a device with a reset clock can
    /// send times before 1970; the case-id date must still be the printed date.
    func testCompactDateBeforeEpochAgreesWithFormat() {
        assertCompactDateAgreesWithFormat([-1, -500, -86_400_000 + 1])
    }

    private func assertCompactDateAgreesWithFormat(_ values: [Int64], line: UInt = #line) {
        for millis in values {
            let i = Instant(millis: millis)
            for offset in [0, 8 * 3600, -5 * 3600] {
                let formatted = RFC3339.format(i, offsetSeconds: offset)
                let date = formatted.prefix(10).replacingOccurrences(of: "-", with: "")
                XCTAssertEqual(RFC3339.compactDate(i, offsetSeconds: offset), date, "\(formatted)", line: line)
            }
        }
    }

    func testInstantArithmetic() {
        let i = instant("2026-11-24T21:15:00+08:00")
        XCTAssertEqual(i.adding(seconds: 29.9).seconds(since: i), 29.9)
        XCTAssertEqual(i.adding(seconds: -600), instant("2026-11-24T21:05:00+08:00"))
        XCTAssertLessThan(i, i.adding(seconds: 0.001))
    }

    func testDigestIsSHA256Hex() {
        XCTAssertEqual(Digest.sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(Digest.sha256Hex([UInt8]()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let m = InboxMessage(id: 1, topic: "t", payload: Array("abc".utf8), arrivedAt: Instant(millis: 0))
        XCTAssertEqual(m.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
