// DJISRTTests.swift owns the tests of DJISRT.swift against real files: every
// sample under Tests/Fixtures/media/srt against DJI_SRT_Parser's own output
// (EXPECTED_djisrtparser_reference_output.json), each dialect's fields and
// the nicetrack assertions. DJISRTTests+Bytes.swift has the rest: byte-level
// tolerance (BOM, CRLF, lone CR, tags, lost blank lines), positions and times
// that are not, subtitle packets, and that no truncated or random input can trap.

import Foundation
import MuckwatchCore
import XCTest

final class DJISRTTests: XCTestCase {
    /// Degrees and metres: the reference prints what the file says, so
    /// anything beyond float noise is a real difference.
    let tolerance = 0.000001

    // MARK: - Against DJI_SRT_Parser

    /// Where our block count deliberately differs from the reference's packet count.
    let countDifferences: [String: (ours: Int, why: String)] = [
        // The 20th block is cut off after its HOME/date line. The reference
        // drops it from its packets; we keep it, because its time and home
        // are real, and give it no position.
        "djisrtparser_broken_incomplete.SRT": (20, "trailing block without GPS kept"),
        // Six blocks, the last cut inside "[lo(ngtitude...". The reference
        // reports five packets and fills the last one's missing longitude
        // from the block before; we keep all six as written and give the
        // truncated one no position rather than a guessed one.
        "djisrtparser_broken_incomplete2.SRT": (6, "truncated block kept, nothing back-filled"),
    ]

    /// Files whose reference "last processed" packet is not the block its
    /// "last raw" packet is (see countDifferences), so only the raw one is
    /// compared with our last record.
    let lastProcessedIsAnotherBlock: Set<String> = [
        "djisrtparser_broken_incomplete.SRT", "djisrtparser_broken_incomplete2.SRT",
    ]

    func testEveryFixtureAgainstTheReference() throws {
        let reference = try referenceJSON()
        var checked = 0
        for (file, value) in reference.sorted(by: { $0.key < $1.key }) where file != "_about" {
            let entry = try XCTUnwrap(value as? [String: Any], file)
            let (records, problems) = DJISRT.parse(try MediaFixtures.data("srt/" + file))
            checked += 1
            if entry.keys.contains("parser_returned") {
                // The reference gives up (null); we give no record and say why.
                XCTAssertEqual(records.count, 0, file)
                XCTAssertFalse(problems.isEmpty, file)
                continue
            }
            let expectedCount = countDifferences[file]?.ours ?? (entry["n_packets"] as? Int ?? -1)
            XCTAssertEqual(records.count, expectedCount, file)
            guard let first = records.first, let last = records.last else {
                XCTFail("\(file): no records")
                continue
            }
            compare(first, raw: try dict(entry, "first_raw", file),
                    processed: try dict(entry, "first_processed_smoothing0", file), file: file + " first")
            let lastProcessed = try dict(entry, "last_processed_smoothing0", file)
            compare(last, raw: try dict(entry, "last_raw", file),
                    processed: lastProcessedIsAnotherBlock.contains(file) ? nil : lastProcessed,
                    file: file + " last")
        }
        XCTAssertEqual(checked, 20, "every fixture has a reference entry")
    }

    /// The reference's last packet of broken_incomplete is block 19, which is
    /// complete: it must match ours exactly.
    func testBrokenIncompleteBlock19MatchesTheReferenceLastPacket() throws {
        let entry = try XCTUnwrap(try referenceJSON()["djisrtparser_broken_incomplete.SRT"] as? [String: Any])
        let records = DJISRT.parse(try MediaFixtures.data("srt/djisrtparser_broken_incomplete.SRT")).records
        let block19 = try XCTUnwrap(records.first { $0.index == 19 })
        let processed = try dict(entry, "last_processed_smoothing0", "broken_incomplete")
        let gps = try XCTUnwrap(processed["GPS"] as? [String: Any])
        XCTAssertEqual(try XCTUnwrap(block19.lat), try num(gps["LATITUDE"]), accuracy: tolerance)
        XCTAssertEqual(try XCTUnwrap(block19.lon), try num(gps["LONGITUDE"]), accuracy: tolerance)
        XCTAssertEqual(try XCTUnwrap(block19.relativeAltM), try num(processed["BAROMETER"]), accuracy: tolerance)
        XCTAssertEqual(block19.localTime?.instant(utcOffsetSeconds: 0).millis, (processed["DATE"] as? NSNumber)?.int64Value)
    }

    func testEveryFixtureFileHasAReferenceEntry() throws {
        let dir = MediaFixtures.path("srt")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir)
            .filter { $0.lowercased().hasSuffix(".srt") }
        XCTAssertEqual(files.count, 20)
        XCTAssertEqual(Set(files), Set(try referenceJSON().keys.filter { $0 != "_about" }))
    }

    /// One record against the reference's raw packet (what the file says, in
    /// the file's own key names) and, when it is the same block, its
    /// processed packet (GPS in the order DJI_SRT_Parser decided, DATE as ms).
    private func compare(_ r: DJISRTRecord, raw: [String: Any], processed: [String: Any]?, file: String) {
        // Position. The reference's processed GPS says which raw value is the
        // latitude; it is only trusted when the raw packet has both halves
        // (it back-fills missing halves from neighbours, which we do not).
        let rawHasPosition = raw["GPS"] != nil
            || (raw["latitude"] != nil && (raw["longitude"] != nil || raw["longtitude"] != nil))
        if rawHasPosition, let gps = processed?["GPS"] as? [String: Any] {
            XCTAssertEqual(r.lat ?? .nan, (try? num(gps["LATITUDE"])) ?? .infinity, accuracy: tolerance, file)
            XCTAssertEqual(r.lon ?? .nan, (try? num(gps["LONGITUDE"])) ?? .infinity, accuracy: tolerance, file)
        } else if rawHasPosition, let lat = raw["latitude"] {
            // Bracket dialects name their halves, so the raw values suffice.
            XCTAssertEqual(r.lat ?? .nan, (try? num(lat)) ?? .infinity, accuracy: tolerance, file)
            XCTAssertEqual(r.lon ?? .nan, (try? num(raw["longitude"] ?? raw["longtitude"])) ?? .infinity,
                           accuracy: tolerance, file)
        } else if !rawHasPosition {
            XCTAssertNil(r.lat, file)
            XCTAssertNil(r.lon, file)
        } else {
            XCTFail("\(file): raw GPS tuple without a processed packet to say its order")
        }
        // Where the bracket dialects give raw halves, they agree with processed too.
        if let lat = raw["latitude"], raw["longitude"] != nil || raw["longtitude"] != nil {
            XCTAssertEqual(r.lat ?? .nan, (try? num(lat)) ?? .infinity, accuracy: tolerance, file)
        }

        // Altitudes, by the raw packet's own key.
        let relativeKeys = ["rel_alt", "BAROMETER", "Hb", "H"]
        let absoluteKeys = ["abs_alt", "altitude"]
        if let key = relativeKeys.first(where: { raw[$0] != nil }) {
            XCTAssertEqual(r.relativeAltM ?? .nan, (try? num(raw[key])) ?? .infinity, accuracy: tolerance, "\(file) \(key)")
        } else {
            XCTAssertNil(r.relativeAltM, file)
        }
        if let key = absoluteKeys.first(where: { raw[$0] != nil }) {
            XCTAssertEqual(r.absoluteAltM ?? .nan, (try? num(raw[key])) ?? .infinity, accuracy: tolerance, "\(file) \(key)")
        } else {
            // Matrice 300's third GPS value ("0.0M" while the barometer reads
            // 88 m; the reference calls it PRECISION) is kept as written, not
            // taken for an altitude.
            XCTAssertNil(r.absoluteAltM, file)
        }
        if let gps = raw["GPS"] as? [Any], gps.count >= 3 {
            let third = "\(gps[2])"
            if third.hasSuffix("M") {
                XCTAssertEqual(r.camera["gps_alt"], third, file)
            } else {
                XCTAssertEqual(r.camera["satellites"].flatMap(Double.init), try? num(gps[2]), file)
            }
        }

        // Date. The reference ran with TZ=UTC and its GPS-based time-zone
        // lookup stubbed out, so its DATE is the wall clock read as UTC:
        // exactly our local time at offset 0. For formats without a date line
        // (Mini, P4 Pro, P4 RTK) it makes one up from the day it ran plus the
        // time code (DATE null in the JSON); we give no time.
        if let rawDate = raw["DATE"] as? String {
            guard let t = r.localTime else {
                XCTFail("\(file): no local time for \(rawDate)")
                return
            }
            XCTAssertEqual(civil(t), civilFields(rawDate), "\(file) \(rawDate)")
            if let ms = (processed?["DATE"] as? NSNumber)?.int64Value {
                XCTAssertEqual(t.instant(utcOffsetSeconds: 0).millis, ms, file)
            }
            // The reference leaves the mixed file's second dialect without a
            // date (it decides per file); we read each block's own date line.
        } else {
            XCTAssertNil(r.localTime, file)
        }

        // Video offset and frame counter.
        if let tc = raw["TIMECODE"] as? String {
            XCTAssertEqual(r.startMillis, timecodeMillis(tc), "\(file) \(tc)")
        } else {
            XCTAssertEqual(r.startMillis, 0, "\(file): no time range line")
        }
        if let n = (raw["FrameCnt"] ?? raw["SrtCnt"]) as? Int {
            XCTAssertEqual(r.frameCount, n, file)
        } else {
            XCTAssertNil(r.frameCount, file)
        }

        // HOME, where the reference has put it in order.
        if raw["HOME"] != nil, let home = processed?["HOME"] as? [String: Any] {
            XCTAssertEqual(r.camera["home_lat"].flatMap(Double.init) ?? .nan, (try? num(home["LATITUDE"])) ?? .infinity,
                           accuracy: tolerance, file)
            XCTAssertEqual(r.camera["home_lon"].flatMap(Double.init) ?? .nan, (try? num(home["LONGITUDE"])) ?? .infinity,
                           accuracy: tolerance, file)
        }

        // Camera values are kept as written; the reference converts them
        // (SHUTTER "1/8000.0" -> 8000, FNUM 280 -> 2.8), so compare with raw.
        if let iso = raw["iso"] ?? raw["ISO"] {
            XCTAssertEqual(r.camera["iso"].flatMap(Double.init), try? num(iso), file)
        }
        if let shutter = raw["shutter"] ?? raw["Shutter"] ?? raw["TV"] ?? raw["SS"] {
            if let s = shutter as? String {
                XCTAssertEqual(r.camera["shutter"], s, file)
            } else {
                XCTAssertEqual(r.camera["shutter"].flatMap(Double.init), try? num(shutter), file)
            }
        }
    }

    // MARK: - Dialects

    func testNicetrackSrtCntAssertions() throws {
        // nicetrack's tests/test_srt.py: 3 subtitles, every point at
        // 48.486375 / 8.375567 within 0.00001.
        let (records, problems) = DJISRT.parse(try MediaFixtures.data("srt/nicetrack_test_srt_inline_2023-08-15.srt"))
        XCTAssertEqual(records.count, 3)
        XCTAssertEqual(problems, [])
        for r in records {
            XCTAssertEqual(try XCTUnwrap(r.lat), 48.486375, accuracy: 0.00001)
            XCTAssertEqual(try XCTUnwrap(r.lon), 8.375567, accuracy: 0.00001)
            XCTAssertEqual(r.relativeAltM, 0)
            XCTAssertEqual(r.absoluteAltM, 530.095)
            XCTAssertEqual(r.camera["dzoom_ratio"], "10000")
            XCTAssertEqual(r.camera["delta"], "0")
        }
        XCTAssertEqual(records.map(\.frameCount), [1, 2, 3])
        XCTAssertEqual(records.map(\.index), [1, 2, 3])
        XCTAssertEqual(records.map(\.endMillis), [33, 66, 100])
    }

    func testMavic3FrameCntDialect() throws {
        let r = try XCTUnwrap(DJISRT.parse(try MediaFixtures.data("srt/djisrtparser_MAVIC3_first150.srt")).records.first)
        XCTAssertEqual(r, DJISRTRecord(
            index: 1, startMillis: 0, endMillis: 20, frameCount: 1,
            localTime: .init(year: 2021, month: 12, day: 25, hour: 12, minute: 27, second: 52, millis: 373),
            lat: 3.41531, lon: -3.37440, relativeAltM: -2.4, absoluteAltM: 0.401, headingDeg: nil,
            camera: ["iso": "220", "shutter": "1/8000.0", "fnum": "3.2", "ev": "0", "ct": "5115",
                     "color_md": "default", "focal_len": "24.00", "difftime": "20ms"]))
    }

    func testLegacyGPSIsLongitudeFirst() throws {
        let (records, problems) = DJISRT.parse(try MediaFixtures.data("srt/djisrtparser_mavic_pro.SRT"))
        XCTAssertEqual(problems, [])
        let r = try XCTUnwrap(records.first)
        // GPS(149.0251,-20.2533,16): Queensland, not the Southern Ocean.
        XCTAssertEqual(r.lat, -20.2533)
        XCTAssertEqual(r.lon, 149.0251)
        XCTAssertEqual(r.relativeAltM, 1.9)
        XCTAssertEqual(r.camera["satellites"], "16")
        XCTAssertEqual(r.camera["home_lat"], "-20.2532")
        XCTAssertEqual(r.camera["home_lon"], "149.0251")
        XCTAssertEqual(r.camera["fnum"], "2.2")
        XCTAssertNil(r.camera["ev"], "\"EV: Fnum:2.2\" has no EV value")
        XCTAssertEqual(r.localTime, .init(year: 2017, month: 8, day: 5, hour: 14, minute: 11, second: 51))
        XCTAssertEqual(r.startMillis, 1000)
        XCTAssertEqual(r.endMillis, 2000)
        // DJI_SRT_Parser's own assertion: the flight lasts 468 s.
        XCTAssertEqual(try XCTUnwrap(records.last?.localTime).instant(utcOffsetSeconds: 0).millis
            - (try XCTUnwrap(r.localTime)).instant(utcOffsetSeconds: 0).millis, 468_000)
    }

    func testOldHbHsDialect() throws {
        let r = try XCTUnwrap(DJISRT.parse(try MediaFixtures.data("srt/djisrtparser_old_format.SRT")).records.first)
        XCTAssertEqual(r.lat, -20.2533)
        XCTAssertEqual(r.lon, 149.0251)
        XCTAssertEqual(r.relativeAltM, 1.9)
        XCTAssertEqual(r.camera["hs"], "1.9")
        XCTAssertEqual(r.camera["shutter"], "60")
        XCTAssertEqual(r.camera["fnum"], "F2.8")
        XCTAssertEqual(r.camera["ev"], "0")
        // "2017.8.5": unpadded month and day.
        XCTAssertEqual(r.localTime, .init(year: 2017, month: 8, day: 5, hour: 14, minute: 11, second: 51))
    }

    func testMatrice300GPSIsLatitudeFirstAndCRLF() throws {
        let bytes = try MediaFixtures.data("srt/djisrtparser_matrice_300.srt")
        XCTAssertTrue(bytes.contains(0x0D), "the fixture has CRLF line ends")
        let (records, problems) = DJISRT.parse(bytes)
        XCTAssertEqual(problems, [])
        XCTAssertEqual(records.count, 381)
        let r = try XCTUnwrap(records.first)
        // GPS(36.6146,-6.1120,0.0M): Cádiz, not Antarctica's coast.
        XCTAssertEqual(r.lat, 36.6146)
        XCTAssertEqual(r.lon, -6.1120)
        XCTAssertEqual(r.relativeAltM, 0.3)
        XCTAssertNil(r.absoluteAltM)
        XCTAssertEqual(r.camera["gps_alt"], "0.0M")
        XCTAssertEqual(r.localTime, .init(year: 2022, month: 6, day: 21, hour: 16, minute: 6, second: 17))
        // Same records with LF line ends: CRLF changes nothing.
        let lf = bytes.filter { $0 != 0x0D }
        XCTAssertEqual(DJISRT.parse(lf).records, records)
        // This firmware writes "00:00:59,000 --> 00:00:60,000".
        let sixty = try XCTUnwrap(records.first { $0.startMillis == 59_000 })
        XCTAssertEqual(sixty.endMillis, 60_000)
        XCTAssertEqual(records.map(\.startMillis), (0..<381).map { Int64($0) * 1000 })
    }

    func testMavic2LongtitudeAndNoTimeRangeLines() throws {
        let (records, problems) = DJISRT.parse(try MediaFixtures.data("srt/djisrtparser_mavic_2_style.SRT"))
        XCTAssertEqual(records.count, 468)
        let r = try XCTUnwrap(records.first)
        XCTAssertEqual(r.lat, -20.2533)
        XCTAssertEqual(r.lon, 149.0251)
        XCTAssertEqual(r.camera["fnum"], "220")
        // "2017.08.05 14:11:51,393,525,393,525": the first group is the ms.
        XCTAssertEqual(r.localTime, .init(year: 2017, month: 8, day: 5, hour: 14, minute: 11, second: 51, millis: 393))
        XCTAssertTrue(records.allSatisfy { $0.startMillis == 0 && $0.endMillis == 0 })
        XCTAssertEqual(records.map(\.index), Array(1...468))
        // One problem for the whole run of blocks without a time range, not 468.
        XCTAssertEqual(problems.count, 1)
        XCTAssertTrue(problems.first?.message.contains("time-range") ?? false, "\(problems)")
    }

    func testAirAltitudeIsAbsolute() throws {
        let r = try XCTUnwrap(DJISRT.parse(try MediaFixtures.data("srt/djisrtparser_air2s.srt")).records.first)
        XCTAssertEqual(r.lat, 41.424724)
        XCTAssertEqual(r.lon, 2.234156)
        XCTAssertEqual(r.absoluteAltM, 117)
        XCTAssertNil(r.relativeAltM)
        XCTAssertEqual(r.frameCount, 1)
        // "2022-08-07 13:40:40,774,808": ms then µs.
        XCTAssertEqual(r.localTime?.millis, 774)
    }

    func testMiniAndP4RTKSpaceSeparatedDialect() throws {
        let mini = try XCTUnwrap(DJISRT.parse(try MediaFixtures.data("srt/djisrtparser_mavic_mini.SRT")).records.first)
        XCTAssertEqual(mini.lat, 48.0771)
        XCTAssertEqual(mini.lon, -121.7458)
        XCTAssertEqual(mini.relativeAltM, 200.70)
        XCTAssertNil(mini.localTime)
        XCTAssertEqual(mini.camera["fnum"], "2.8")
        XCTAssertEqual(mini.camera["shutter"], "30.15")
        XCTAssertEqual(mini.camera["ev"], "-1.7")
        XCTAssertEqual(mini.camera["distance"], "221.21m")
        XCTAssertEqual(mini.camera["h_speed"], "n/a")

        let rtk = DJISRT.parse(try MediaFixtures.data("srt/djisrtparser_p4_rtk.SRT")).records
        let r = try XCTUnwrap(rtk.first)
        XCTAssertEqual(r.lat, -34.237922)
        XCTAssertEqual(r.lon, -58.851745)
        XCTAssertEqual(r.relativeAltM, 85.80)
        XCTAssertEqual(try XCTUnwrap(r.headingDeg), 110.1, accuracy: 1e-9)
        XCTAssertEqual(r.camera["pitch"], "2.7")
        XCTAssertEqual(r.camera["roll"], "-7.0")
        XCTAssertEqual(r.camera["gimbal_yaw"], "110.4")
        // HOME (-58.847509, -34.232707, -57.98m) has a metre unit third, yet
        // is lon-first like the GPS tuple beside it.
        XCTAssertEqual(r.camera["home_lat"], "-34.232707")
        XCTAssertEqual(r.camera["home_lon"], "-58.847509")
        XCTAssertEqual(r.camera["home_alt"], "-57.98m")
        // DJI_SRT_Parser's assertions: max satellites 15, FNUM 5.6.
        XCTAssertEqual(rtk.compactMap { $0.camera["satellites"].flatMap(Int.init) }.max(), 15)
        XCTAssertEqual(r.camera["fnum"], "5.6")
        let p4p = DJISRT.parse(try MediaFixtures.data("srt/djisrtparser_p4p_sample.SRT")).records
        XCTAssertEqual(p4p.compactMap { $0.camera["satellites"].flatMap(Int.init) }.max(), 18)
        XCTAssertEqual(p4p.first?.camera["fnum"], "3.2")
    }

    func testNegativeYawBecomesACompassHeading() throws {
        // The mixed file's P4 RTK part flies at yaw -75.0°.
        let r = try XCTUnwrap(DJISRT.parse(try MediaFixtures.data("srt/djisrtparser_mix_p4rtk_mavic2pro.srt")).records.first)
        XCTAssertEqual(try XCTUnwrap(r.headingDeg), 285, accuracy: 1e-9)
    }

    /// fuzz-dji-srt's heading check traps on it (Fuzz/corpus/dji-srt/crash-yaw-just-below-zero): a
    /// yaw a hair below 0 plus 360 rounds to 360.0, outside the documented 0..<360.
    func testYawJustBelowZeroIsHeadingZeroNot360() throws {
        let text = "1\n00:00:00,000 --> 00:00:01,000\nF.PRY (0\u{B0}, 0\u{B0}, -0.00000000000000000001\u{B0})\n"
        let r = try XCTUnwrap(DJISRT.parse(Array(text.utf8)).records.first)
        XCTAssertEqual(r.headingDeg, 0)
    }

    func testMixedFileReadsEachBlockInItsOwnDialect() throws {
        let (records, problems) = DJISRT.parse(try MediaFixtures.data("srt/djisrtparser_mix_p4rtk_mavic2pro.srt"))
        XCTAssertEqual(problems, [])
        XCTAssertEqual(records.count, 12)
        XCTAssertEqual(records.map(\.index), Array(1...12))
        for r in records.prefix(6) {
            XCTAssertNil(r.localTime)
            XCTAssertNil(r.frameCount)
            XCTAssertNotNil(r.relativeAltM)
            XCTAssertEqual(try XCTUnwrap(r.lon), -59.4094, accuracy: 0.0002)
        }
        for r in records.suffix(6) {
            XCTAssertNotNil(r.localTime)
            XCTAssertNotNil(r.frameCount)
            XCTAssertNotNil(r.absoluteAltM)
            XCTAssertEqual(r.lat, -34.651180)
            XCTAssertEqual(r.lon, -59.409483)
        }
    }

    func testFileWithoutGPS() throws {
        let (records, problems) = DJISRT.parse(try MediaFixtures.data("srt/djisrtparser_mavic_air.SRT"))
        XCTAssertEqual(problems, [])
        XCTAssertEqual(records.count, 2)
        for r in records {
            XCTAssertNil(r.lat)
            XCTAssertNil(r.lon)
            XCTAssertNotNil(r.localTime)
            XCTAssertEqual(r.camera["iso"], "100")
        }
    }

    func testMavicProNoFixIsNoPosition() throws {
        // "GPS(N/A,N/A,3)" while waiting for a fix: no position, and it is
        // not worth a problem (it is how the firmware says so).
        let (records, problems) = DJISRT.parse(try MediaFixtures.data("srt/djisrtparser_mavic_pro_buggy.SRT"))
        XCTAssertEqual(problems, [])
        let noFix = records.filter { $0.lat == nil }
        XCTAssertEqual(noFix.map(\.index), Array(15...30))
        XCTAssertTrue(noFix.allSatisfy { $0.lon == nil && $0.localTime != nil })
    }

    // MARK: - Helpers

    private func referenceJSON() throws -> [String: Any] {
        let data = Data(try MediaFixtures.data("srt/EXPECTED_djisrtparser_reference_output.json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    private func dict(_ entry: [String: Any], _ key: String, _ file: String) throws -> [String: Any] {
        try XCTUnwrap(entry[key] as? [String: Any], "\(file): \(key)")
    }

    private func num(_ v: Any?) throws -> Double {
        if let n = v as? NSNumber { return n.doubleValue }
        if let s = v as? String, let d = Double(s.filter { !"mM".contains($0) }) { return d }
        throw NotANumber(value: String(describing: v))
    }

    private func civil(_ t: DJISRTRecord.LocalTime) -> [Int] {
        [t.year, t.month, t.day, t.hour, t.minute, t.second, t.millis]
    }

    /// The reference's raw DATE ("2017.8.5 14:11:51", "2022-08-07 13:40:40:774.808",
    /// "2021-12-25 12:27:52.373") as year...second and ms, read independently
    /// of the parser under test.
    private func civilFields(_ s: String) -> [Int] {
        let groups = s.split(whereSeparator: { !$0.isNumber }).map(String.init)
        var fields = groups.prefix(6).compactMap { Int($0) }
        let ms = groups.count > 6 ? Int(String((groups[6] + "00").prefix(3))) ?? -1 : 0
        fields.append(ms)
        return fields
    }

    private func timecodeMillis(_ tc: String) -> Int64 {
        let g = tc.split(whereSeparator: { !$0.isNumber }).compactMap { Int64($0) }
        guard g.count == 4 else { return -1 }
        return ((g[0] * 60 + g[1]) * 60 + g[2]) * 1000 + g[3]
    }
}

private struct NotANumber: Error {
    var value: String
}

