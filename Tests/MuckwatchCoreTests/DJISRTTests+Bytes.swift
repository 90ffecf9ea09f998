// DJISRTTests+Bytes.swift: DJI SRT text that is damaged, odd or hostile
// (see DJISRTTests.swift for the real files and the dialects).

import Foundation
import MuckwatchCore
import MuckwatchScenario
import XCTest

extension DJISRTTests {
    // MARK: - Bytes: BOM, CRLF, broken files

    func testUTF8ByteOrderMark() throws {
        for file in ["djisrtparser_mavic_2pro_new_first150.SRT", "djisrtparser_broken_incomplete2.SRT",
                     "djisrtparser_mix_p4rtk_mavic2pro.srt"] {
            let bytes = try MediaFixtures.data("srt/" + file)
            XCTAssertEqual(Array(bytes.prefix(3)), [0xEF, 0xBB, 0xBF], file)
            let (records, problems) = DJISRT.parse(bytes)
            XCTAssertEqual(records.first?.index, 1, file)
            XCTAssertEqual(records.first?.startMillis, file.hasPrefix("djisrtparser_mix") ? 904_904 : 0, file)
            XCTAssertFalse(problems.contains { $0.line == 1 }, "\(file): \(problems)")
            XCTAssertEqual(DJISRT.parse(Array(bytes.dropFirst(3))).records, records, file)
        }
    }

    func testEmptyAndBrokenFilesGiveNoRecordsAndProblems() throws {
        for file in ["djisrtparser_broken_empty.SRT", "djisrtparser_broken_empty2.SRT"] {
            let (records, problems) = DJISRT.parse(try MediaFixtures.data("srt/" + file))
            XCTAssertEqual(records, [], file)
            XCTAssertFalse(problems.isEmpty, file)
        }
        for text in ["", "\n\n\r\n", "\u{FEFF}", "garbage without structure\nmore\n", "1\n2\n3\n"] {
            let (records, problems) = DJISRT.parse(Array(text.utf8))
            XCTAssertEqual(records, [], text)
            XCTAssertFalse(problems.isEmpty, text)
        }
    }

    func testIncompleteFilesKeepTheirBlocksAndSayWhatIsMissing() throws {
        let a = DJISRT.parse(try MediaFixtures.data("srt/djisrtparser_broken_incomplete.SRT"))
        XCTAssertEqual(a.records.count, 20)
        let last = try XCTUnwrap(a.records.last)
        XCTAssertNil(last.lat)
        XCTAssertEqual(last.camera["home_lat"], "-34.7386")
        XCTAssertEqual(last.localTime?.second, 22)

        let b = DJISRT.parse(try MediaFixtures.data("srt/djisrtparser_broken_incomplete2.SRT"))
        XCTAssertEqual(b.records.count, 6)
        let cut = try XCTUnwrap(b.records.last)
        XCTAssertNil(cut.lat, "a latitude alone is no position")
        XCTAssertNil(cut.lon)
        XCTAssertEqual(cut.frameCount, 6)
        XCTAssertTrue(b.problems.contains { $0.line == 35 && $0.message.contains("unclosed") }, "\(b.problems)")
        XCTAssertTrue(b.problems.contains { $0.line == 35 && $0.message.contains("no longitude") }, "\(b.problems)")
    }

    // MARK: - Positions that are not positions

    func testZeroZeroIsNoPosition() {
        let legacy = "1\n00:00:01,000 --> 00:00:02,000\nHOME(0.0000,0.0000) 2017.08.05 14:11:51\nGPS(0.0,0.0,0) BAROMETER:1.9\n"
        let bracket = "1\n00:00:00,000 --> 00:00:00,033\n<font size=\"28\">SrtCnt : 1, DiffTime : 33ms\n"
            + "2023-08-15 09:18:24.589\n[latitude: 0.000000] [longitude: 0.000000] [rel_alt: 0.000 abs_alt: 0.000] </font>\n"
        for text in [legacy, bracket] {
            let (records, problems) = DJISRT.parse(Array(text.utf8))
            XCTAssertEqual(records.count, 1, text)
            XCTAssertNil(records.first?.lat, text)
            XCTAssertNil(records.first?.lon, text)
            XCTAssertNil(records.first?.camera["home_lat"], text)
            XCTAssertNotNil(records.first?.localTime, "the block is still returned")
            XCTAssertEqual(problems, [], text)
        }
        // Only both zero is "no fix": the equator and the prime meridian are real.
        let equator = DJISRT.parseText("[latitude: 0.000000] [longitude: 8.375567]", startMillis: 0, endMillis: 1, index: 1)
        XCTAssertEqual(equator.lat, 0)
        XCTAssertEqual(equator.lon, 8.375567)
    }

    func testOutOfRangeOrNonNumericCoordinatesAreNoPosition() {
        let cases = [
            "[latitude: 91.000000] [longitude: 8.375567]",
            "[latitude: 48.486375] [longitude: 181.5]",
            "[latitude: nan] [longitude: 8.3]",
            "[latitude: inf] [longitude: 8.3]",
            "[latitude: 0x1p3] [longitude: 8.3]",
            "[latitude: 48.4.8] [longitude: 8.3]",
            "GPS(8.3,-91.0,12) BAROMETER:1.0",
            "GPS(200.0,45.0,12)",
        ]
        for body in cases {
            let text = "7\n00:00:01,000 --> 00:00:02,000\n" + body + "\n"
            let (records, problems) = DJISRT.parse(Array(text.utf8))
            XCTAssertEqual(records.count, 1, body)
            XCTAssertEqual(records.first?.index, 7, body)
            XCTAssertNil(records.first?.lat, body)
            XCTAssertNil(records.first?.lon, body)
            XCTAssertEqual(problems.count, 1, "\(body): \(problems)")
            XCTAssertEqual(problems.first?.line, 3, body)
        }
    }

    // MARK: - Time

    func testLocalTimeNeedsTheCallersOffset() throws {
        let t = DJISRTRecord.LocalTime(year: 2021, month: 12, day: 25, hour: 12, minute: 27, second: 52, millis: 373)
        XCTAssertEqual(t.instant(utcOffsetSeconds: 0), RFC3339.parse("2021-12-25T12:27:52.373Z"))
        XCTAssertEqual(t.instant(utcOffsetSeconds: 8 * 3600), RFC3339.parse("2021-12-25T12:27:52.373+08:00"))
        XCTAssertEqual(t.instant(utcOffsetSeconds: -5 * 3600), RFC3339.parse("2021-12-25T12:27:52.373-05:00"))
        XCTAssertEqual(RFC3339.format(t.instant(utcOffsetSeconds: 8 * 3600), offsetSeconds: 8 * 3600),
                       "2021-12-25T12:27:52.373+08:00")
        XCTAssertEqual(t.description, "2021-12-25 12:27:52.373")
        // Any LocalTime, however absurd, gives some instant rather than a trap.
        _ = DJISRTRecord.LocalTime(year: .max, month: .min, day: .max, hour: .max, minute: .min, second: .max,
                                   millis: .max).instant(utcOffsetSeconds: .min)
    }

    func testDateForms() {
        let forms: [(String, DJISRTRecord.LocalTime?)] = [
            ("2021-12-25 12:27:52.373", .init(year: 2021, month: 12, day: 25, hour: 12, minute: 27, second: 52, millis: 373)),
            ("2022-08-07 13:40:40,774,808", .init(year: 2022, month: 8, day: 7, hour: 13, minute: 40, second: 40, millis: 774)),
            ("2019-08-14 11:25:23", .init(year: 2019, month: 8, day: 14, hour: 11, minute: 25, second: 23)),
            ("2021-03-01 13:45:02,123,456", .init(year: 2021, month: 3, day: 1, hour: 13, minute: 45, second: 2, millis: 123)),
            ("2017.8.5 4:11:51", .init(year: 2017, month: 8, day: 5, hour: 4, minute: 11, second: 51)),
            ("2020-02-29 00:00:00.5", .init(year: 2020, month: 2, day: 29, hour: 0, minute: 0, second: 0, millis: 500)),
            ("2021-02-29 00:00:00", nil),
            ("2021-13-01 00:00:00", nil),
            ("2021-12-01 24:00:00", nil),
        ]
        for (line, expected) in forms {
            let (records, problems) = DJISRT.parse(Array("1\n00:00:00,000 --> 00:00:01,000\n\(line)\nFrameCnt: 3\n".utf8))
            XCTAssertEqual(records.first?.localTime, expected, line)
            XCTAssertEqual(problems.isEmpty, expected != nil, "\(line): \(problems)")
            XCTAssertEqual(records.first?.frameCount, 3, line)
        }
    }

    func testTimeRanges() {
        let ranges: [(String, Int64, Int64)] = [
            ("00:00:00,000 --> 00:00:00,020", 0, 20),
            ("01:02:03,456 --> 01:02:04,000", 3_723_456, 3_724_000),
            ("00:00:01.5 --> 00:00:02.25", 1500, 2250),
            ("00:00:59,000 --> 00:00:60,000", 59_000, 60_000),
            ("100:00:00,000 --> 100:00:01,000 X1:10 X2:20 Y1:5 Y2:6", 360_000_000, 360_001_000),
        ]
        for (line, start, end) in ranges {
            let (records, problems) = DJISRT.parse(Array("4\n\(line)\n[latitude: 1.5] [longitude: 2.5]\n".utf8))
            XCTAssertEqual(problems, [], line)
            XCTAssertEqual(records.first?.startMillis, start, line)
            XCTAssertEqual(records.first?.endMillis, end, line)
            XCTAssertEqual(records.first?.lat, 1.5, line)
        }
        let (records, problems) = DJISRT.parse(Array("4\n00:0a:00,000 --> 00:00:01,000\n[latitude: 1.5] [longitude: 2.5]\n".utf8))
        XCTAssertEqual(records.first?.startMillis, 0)
        XCTAssertEqual(records.first?.lat, 1.5, "a bad time range loses the times, not the block")
        XCTAssertEqual(problems.first?.line, 2)
    }

    // MARK: - Subtitle packets

    func testParseTextOfOneSubtitlePacket() {
        let text = "<font size=\"28\">FrameCnt: 7, DiffTime: 20ms\n2021-12-25 12:27:52.493\n"
            + "[iso: 220] [shutter: 1/8000.0] [fnum: 3.2] [ev: 0] [ct: 5115] [color_md : default] [focal_len: 24.00] "
            + "[latitude: 3.41531] [longitude: -3.37440] [rel_alt: -2.400 abs_alt: 0.401] </font>"
        let r = DJISRT.parseText(text, startMillis: 140, endMillis: 160, index: 8)
        XCTAssertEqual(r.index, 8)
        XCTAssertEqual(r.startMillis, 140)
        XCTAssertEqual(r.endMillis, 160)
        XCTAssertEqual(r.frameCount, 7)
        XCTAssertEqual(r.localTime?.millis, 493)
        XCTAssertEqual(r.lat, 3.41531)
        XCTAssertEqual(r.lon, -3.37440)
        XCTAssertEqual(r.relativeAltM, -2.4)
        XCTAssertEqual(r.absoluteAltM, 0.401)
        XCTAssertEqual(r.camera["iso"], "220")
        // The same text inside a file gives the same record.
        let file = "8\n00:00:00,140 --> 00:00:00,160\n" + text + "\n"
        XCTAssertEqual(DJISRT.parse(Array(file.utf8)).records, [r])
        // A packet with CRLF, or one that carries its own index and time lines anyway.
        XCTAssertEqual(DJISRT.parseText(text.replacingOccurrences(of: "\n", with: "\r\n"),
                                        startMillis: 140, endMillis: 160, index: 8), r)
        XCTAssertEqual(DJISRT.parseText("00:00:00,140 --> 00:00:00,160\n" + text,
                                        startMillis: 140, endMillis: 160, index: 8), r)
        XCTAssertEqual(DJISRT.parseText("", startMillis: 1, endMillis: 2, index: 3),
                       DJISRTRecord(index: 3, startMillis: 1, endMillis: 2))
    }

    // MARK: - Tolerance

    func testLostBlankLinesLoneCRAndGarbage() {
        let blocks = [
            "1\n00:00:00,000 --> 00:00:01,000\nGPS(8.2090,47.4692,18) BAROMETER:1.0\n",
            "2\n00:00:01,000 --> 00:00:02,000\nGPS(8.2091,47.4693,18) BAROMETER:2.0\n",
            "3\n00:00:02,000 --> 00:00:03,000\nGPS(8.2092,47.4694,18) BAROMETER:3.0",
        ]
        let expected = DJISRT.parse(Array(blocks.joined(separator: "\n").utf8))
        XCTAssertEqual(expected.problems, [])
        XCTAssertEqual(expected.records.map(\.index), [1, 2, 3])
        XCTAssertEqual(expected.records.map(\.lat), [47.4692, 47.4693, 47.4694])
        XCTAssertEqual(expected.records.last?.relativeAltM, 3.0, "no trailing newline")
        // Blocks run together without their blank lines.
        XCTAssertEqual(DJISRT.parse(Array(blocks.joined().utf8)).records, expected.records)
        // Old Mac line ends, tabs, extra blank lines.
        let cr = blocks.joined(separator: "\n\n\n").replacingOccurrences(of: "\n", with: "\r")
        XCTAssertEqual(DJISRT.parse(Array(cr.utf8)).records, expected.records)
        // Garbage before, between and after is reported and skipped.
        let noisy = "WEBVTT junk\n\n" + blocks[0] + "\n\u{0}\u{1}binary noise\n\n" + blocks[1] + "\n" + blocks[2] + "\n\n~~~\n"
        let parsed = DJISRT.parse(Array(noisy.utf8))
        XCTAssertEqual(parsed.records, expected.records)
        XCTAssertEqual(parsed.problems.map(\.line), [1, 7, 17])
        // Invalid UTF-8 inside a value.
        var bytes = Array(blocks[0].utf8)
        bytes.insert(contentsOf: [0xFF, 0xC3], at: bytes.count - 1)
        XCTAssertEqual(DJISRT.parse(bytes).records.first?.lat, 47.4692)
    }

    func testBlockWithoutIndexLine() {
        let text = "00:00:00,000 --> 00:00:01,000\n[latitude: 1.5] [longitude: 2.5]\n\n"
            + "5\n00:00:01,000 --> 00:00:02,000\n[latitude: 1.5] [longitude: 2.5]\n\n"
            + "00:00:02,000 --> 00:00:03,000\n[latitude: 1.5] [longitude: 2.5]\n"
        let (records, problems) = DJISRT.parse(Array(text.utf8))
        XCTAssertEqual(records.map(\.index), [1, 5, 6])
        XCTAssertEqual(records.map(\.startMillis), [0, 1000, 2000])
        XCTAssertEqual(problems.map(\.line), [1, 8])
    }

    func testTagsAreStripped() {
        let r = DJISRT.parseText("<font size=\"36\" color=\"#fff\"><b>[latitude : -35.080155]</b> "
            + "<i>[longtitude : -60.286702]</i></font>", startMillis: 0, endMillis: 0, index: 1)
        XCTAssertEqual(r.lat, -35.080155)
        XCTAssertEqual(r.lon, -60.286702)
        XCTAssertEqual(r.camera, [:])
    }

    // MARK: - Never trap

    func testTruncatedFixturesNeverTrap() throws {
        for file in try fixtureFiles() {
            let bytes = try MediaFixtures.data("srt/" + file)
            let full = DJISRT.parse(bytes).records
            var cuts = Set([0, 1, 2, 3, 4, 5, 17, bytes.count - 2, bytes.count - 1].filter { $0 >= 0 && $0 < bytes.count })
            for k in 1..<12 { cuts.insert(bytes.count * k / 12) }
            // Cut inside a multi-byte character (the ° of P4 RTK, the BOM).
            if let deg = bytes.firstIndex(of: 0xB0) { cuts.insert(deg) }
            for cut in cuts.sorted() {
                let (records, _) = DJISRT.parse(Array(bytes[0..<cut]))
                checkInvariants(records, "\(file) cut at \(cut)")
                XCTAssertLessThanOrEqual(records.count, full.count, "\(file) cut at \(cut)")
                // Every block wholly before the cut is read exactly as in the whole file.
                XCTAssertEqual(Array(records.dropLast()), Array(full.prefix(max(0, records.count - 1))),
                               "\(file) cut at \(cut)")
            }
        }
    }

    func testRandomBytesNeverTrap() throws {
        var rng = SplitMix64(state: 0x5EED_D15A_0001)
        let samples = try fixtureFiles().map { try MediaFixtures.data("srt/" + $0) }.filter { !$0.isEmpty }
        let alphabet = Array("0123456789:,.-+ >[]()<\n\r/MmNA_abcGPSHOME°\u{FEFF}latitude:longitude-->".utf8)
        for round in 0..<3000 {
            var buffer: [UInt8]
            switch round % 4 {
            case 0: // Pure noise.
                buffer = (0..<Int(rng.next() % 600)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            case 1: // Noise from the bytes the grammar cares about.
                buffer = (0..<Int(rng.next() % 600)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            case 2: // A real window with some bytes flipped.
                let s = samples[Int(rng.next() % UInt64(samples.count))]
                let from = Int(rng.next() % UInt64(s.count))
                buffer = Array(s[from..<min(s.count, from + 1 + Int(rng.next() % 2000))])
                for _ in 0..<Int(rng.next() % 8) where !buffer.isEmpty {
                    buffer[Int(rng.next() % UInt64(buffer.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
            default: // Pieces of different real files spliced together.
                buffer = []
                for _ in 0..<(1 + Int(rng.next() % 5)) {
                    let s = samples[Int(rng.next() % UInt64(samples.count))]
                    let from = Int(rng.next() % UInt64(s.count))
                    buffer += s[from..<min(s.count, from + Int(rng.next() % 300))]
                }
            }
            let (records, problems) = DJISRT.parse(buffer)
            checkInvariants(records, "round \(round)")
            XCTAssertTrue(!records.isEmpty || !problems.isEmpty, "round \(round): nothing and no reason")
            let one = DJISRT.parseText(String(decoding: buffer, as: UTF8.self), startMillis: 0, endMillis: 0, index: round)
            checkInvariants([one], "round \(round) as a packet")
        }
    }

    // MARK: - Helpers

    private func checkInvariants(_ records: [DJISRTRecord], _ what: String) {
        for r in records {
            XCTAssertEqual(r.lat == nil, r.lon == nil, what)
            if let lat = r.lat, let lon = r.lon {
                XCTAssertTrue(lat.isFinite && lon.isFinite && abs(lat) <= 90 && abs(lon) <= 180, what)
                XCTAssertFalse(lat == 0 && lon == 0, what)
            }
            if let h = r.headingDeg { XCTAssertTrue(h >= 0 && h < 360, what) }
            for v in [r.relativeAltM, r.absoluteAltM].compactMap({ $0 }) { XCTAssertTrue(v.isFinite, what) }
            if let t = r.localTime {
                XCTAssertTrue((1...12).contains(t.month) && (1...31).contains(t.day) && t.hour < 24
                              && t.minute < 60 && t.second < 60 && (0..<1000).contains(t.millis), what)
            }
        }
    }

    private func fixtureFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: MediaFixtures.path("srt"))
            .filter { $0.lowercased().hasSuffix(".srt") }.sorted()
    }
}
