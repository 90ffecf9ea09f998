// Tests for the MISB ST 0601 decoder against the checked-in KLV fixtures
// (Tests/Fixtures/media/SOURCES.md, klv section) and against damaged input.

import Foundation
import MuckwatchScenario
import XCTest

@testable import MuckwatchCore

final class MISB0601Tests: XCTestCase {
    // MARK: Helpers

    static let key: [UInt8] = [
        0x06, 0x0E, 0x2B, 0x34, 0x02, 0x0B, 0x01, 0x01, 0x0E, 0x01, 0x03, 0x01, 0x01, 0x00, 0x00, 0x00,
    ]

    /// The standard's BCC-16, written out again so the decoder is not its own oracle.
    static func bcc(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        for (i, b) in bytes.enumerated() { sum += i % 2 == 0 ? UInt32(b) << 8 : UInt32(b) }
        return UInt16(truncatingIfNeeded: sum)
    }

    static func berLength(_ n: Int) -> [UInt8] {
        if n < 0x80 { return [UInt8(n)] }
        if n < 0x100 { return [0x81, UInt8(n)] }
        return [0x82, UInt8(n >> 8), UInt8(n & 0xFF)]
    }

    /// A whole packet around `items`, with a correct checksum unless `checksum` is given.
    static func packet(_ items: [UInt8], key: [UInt8] = key, checksum: UInt16? = nil) -> [UInt8] {
        var out = key + berLength(items.count + 4) + items + [0x01, 0x02]
        let cs = checksum ?? bcc(out)
        out += [UInt8(cs >> 8), UInt8(cs & 0xFF)]
        return out
    }

    static func hex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var chars = Array(s.utf8)
        if chars.count % 2 == 1 { chars.removeLast() }
        var i = 0
        while i + 1 < chars.count {
            out.append(UInt8(String(decoding: chars[i...(i + 1)], as: UTF8.self), radix: 16) ?? 0)
            i += 2
        }
        return out
    }

    func onlyPacket(_ items: [MISB0601.Item], file: StaticString = #filePath, line: UInt = #line) -> MISB0601Packet? {
        guard items.count == 1 else {
            XCTFail("expected one item, got \(items)", file: file, line: line)
            return nil
        }
        guard case .packet(let p) = items[0] else {
            XCTFail("expected a packet, got \(items[0])", file: file, line: line)
            return nil
        }
        return p
    }

    func onlyProblem(_ items: [MISB0601.Item], file: StaticString = #filePath, line: UInt = #line) -> MISB0601.Problem? {
        guard items.count == 1 else {
            XCTFail("expected one item, got \(items.count): \(items)", file: file, line: line)
            return nil
        }
        guard case .bad(let p) = items[0] else {
            XCTFail("expected a problem, got \(items[0])", file: file, line: line)
            return nil
        }
        return p
    }

    func assertClose(_ actual: Double?, _ expected: Double, _ tol: Double, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        guard let actual else {
            XCTFail("\(what): nil, expected \(expected)", file: file, line: line)
            return
        }
        XCTAssertLessThanOrEqual(abs(actual - expected), tol, "\(what): \(actual) vs \(expected)", file: file, line: line)
    }

    /// The tags a packet carried, checksum included, as the CSV lists them.
    static func tagSet(_ p: MISB0601Packet) -> Set<UInt> {
        var s: Set<UInt> = [1]
        let fields: [(UInt, Bool)] = [
            (2, p.timeMicros != nil), (3, p.missionId != nil), (4, p.platformTailNumber != nil),
            (5, p.platformHeadingDeg != nil), (6, p.platformPitchDeg != nil), (7, p.platformRollDeg != nil),
            (10, p.platformDesignation != nil), (11, p.imageSourceSensor != nil), (12, p.imageCoordinateSystem != nil),
            (13, p.sensorLat != nil), (14, p.sensorLon != nil), (15, p.sensorAltM != nil),
            (16, p.sensorHFOVDeg != nil), (17, p.sensorVFOVDeg != nil), (18, p.sensorRelAzimuthDeg != nil),
            (19, p.sensorRelElevationDeg != nil), (20, p.sensorRelRollDeg != nil), (21, p.slantRangeM != nil),
            (23, p.frameCenterLat != nil), (24, p.frameCenterLon != nil), (25, p.frameCenterElevationM != nil),
            (65, p.version != nil),
        ]
        for (tag, present) in fields where present { s.insert(tag) }
        for item in p.otherItems { s.insert(item.tag) }
        for tag in p.errorTags { s.insert(tag) }
        return s
    }

    // MARK: The OpenSensorHub stream, against its decoded CSV

    func testOSHStreamMatchesCSVRowByRow() throws {
        let items = MISB0601.scan(try MediaFixtures.data("klv/osh_sample-stream.klv"))
        let packets = items.compactMap { item -> MISB0601Packet? in
            if case .packet(let p) = item { return p }
            return nil
        }
        XCTAssertEqual(items.count, 277, "every item should be a packet")
        XCTAssertEqual(packets.count, 277)

        let csv = try String(contentsOfFile: MediaFixtures.path("klv/osh_sample-stream.decoded.csv"), encoding: .utf8)
        var lines = csv.split(whereSeparator: \.isNewline).map(String.init)
        let header = lines.removeFirst().split(separator: ",").map(String.init)
        func col(_ name: String) throws -> Int {
            try XCTUnwrap(header.firstIndex(of: name), "CSV column \(name)")
        }
        XCTAssertEqual(lines.count, 277)

        // The CSV prints 6 decimals: half a unit there, plus a little.
        let printTol = 6e-7
        let numeric: [(String, KeyPath<MISB0601Packet, Double?>)] = [
            ("sensor_lat_deg", \.sensorLat), ("sensor_lon_deg", \.sensorLon), ("sensor_true_alt_m", \.sensorAltM),
            ("platform_heading_deg", \.platformHeadingDeg), ("platform_pitch_deg", \.platformPitchDeg),
            ("platform_roll_deg", \.platformRollDeg), ("sensor_hfov_deg", \.sensorHFOVDeg),
            ("sensor_vfov_deg", \.sensorVFOVDeg), ("slant_range_m", \.slantRangeM),
            ("frame_center_lat_deg", \.frameCenterLat), ("frame_center_lon_deg", \.frameCenterLon),
            ("frame_center_elev_m", \.frameCenterElevationM),
        ]
        let numericCols = try numeric.map { (try col($0.0), $0.0, $0.1) }
        let cIdx = try col("idx"), cTime = try col("precision_time_utc"), cVersion = try col("ls_version")
        let cChecksum = try col("checksum"), cOK = try col("checksum_ok"), cTags = try col("tags")

        for (row, line) in lines.enumerated() where row < packets.count {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            XCTAssertEqual(f.count, header.count, "row \(row)")
            guard f.count == header.count else { continue }
            let p = packets[row]
            XCTAssertEqual(Int(f[cIdx]), row)

            // "2012-06-29T14:32:34.133333+00:00": whole seconds through RFC3339, the fraction as µs.
            let t = f[cTime]
            let plus = try XCTUnwrap(t.lastIndex(of: "+"), "row \(row) time \(t)")
            let dot = t.firstIndex(of: ".") ?? plus
            let seconds = try XCTUnwrap(RFC3339.parse(String(t[..<dot]) + "Z"), "row \(row) time \(t)")
            let fraction = dot < plus ? String(t[t.index(after: dot)..<plus]) : ""
            let micros = try XCTUnwrap(Int64(fraction.padding(toLength: 6, withPad: "0", startingAt: 0)))
            XCTAssertEqual(p.timeMicros, seconds.millis * 1000 + micros, "row \(row) time")
            XCTAssertEqual(p.time?.millis, seconds.millis + micros / 1000, "row \(row) time to the ms")

            for (c, name, path) in numericCols {
                let expected = try XCTUnwrap(Double(f[c]), "row \(row) \(name)")
                assertClose(p[keyPath: path], expected, printTol, "row \(row) \(name)")
            }
            XCTAssertEqual(p.version, Int(f[cVersion]), "row \(row) version")
            XCTAssertEqual(MISB0601.hex16(p.checksum), f[cChecksum], "row \(row) checksum")
            XCTAssertEqual(f[cOK], "True")
            let tags = Set(f[cTags].split(separator: " ").compactMap { UInt($0) })
            XCTAssertEqual(Self.tagSet(p), tags, "row \(row) tags")
            XCTAssertEqual(p.problems, [], "row \(row)")
            XCTAssertEqual(p.errorTags, [], "row \(row)")
        }

        // The values SOURCES.md spells out.
        let first = try XCTUnwrap(packets.first)
        XCTAssertEqual(first.time.map { RFC3339.format($0, offsetSeconds: 0) }, "2012-06-29T14:32:34.100Z")
        XCTAssertEqual(first.checksum, 0x72FA)
        XCTAssertEqual(first.version, 4)
        assertClose(first.sensorLat, 34.721153, 1e-6, "lat")
        assertClose(first.sensorLon, -86.68913, 1e-6, "lon")
        assertClose(first.sensorAltM, 3047.81, 0.01, "alt")
        assertClose(first.platformHeadingDeg, 207.6228, 1e-4, "heading")
        assertClose(first.platformPitchDeg, 2.1998, 1e-4, "pitch")
        assertClose(first.platformRollDeg, -10.0558, 1e-4, "roll")
        assertClose(first.sensorHFOVDeg, 13.0053, 1e-4, "hfov")
        assertClose(first.sensorVFOVDeg, 9.7725, 1e-4, "vfov")
        assertClose(first.slantRangeM, 3657.38, 0.01, "slant")
        assertClose(first.frameCenterLat, 34.706018, 1e-6, "fc lat")
        assertClose(first.frameCenterLon, -86.67204, 1e-6, "fc lon")
        assertClose(first.frameCenterElevationM, 201.05, 0.01, "fc elev")
        XCTAssertEqual(first.platformDesignation, "VRSG 5.6")
        XCTAssertEqual(first.imageCoordinateSystem, "WG84")
        XCTAssertTrue(first.otherItems.contains { $0.tag == 74 }, "nested VMTI kept raw")
        XCTAssertTrue(first.otherItems.contains { $0.tag == 48 }, "nested security set kept raw")
        let last = try XCTUnwrap(packets.last)
        XCTAssertEqual(last.time.map { RFC3339.format($0, offsetSeconds: 0) }, "2012-06-29T14:32:43.300Z")
        assertClose(last.sensorLat, 34.716391, 1e-6, "last lat")
        assertClose(last.sensorLon, -86.691084, 1e-6, "last lon")
    }

    // MARK: The klvdata example packets (ST 0902 Annex C)

    func assertAnnexCValues(_ p: MISB0601Packet, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(p.timeMicros, 1_231_798_102_000_000, file: file, line: line)
        XCTAssertEqual(p.time.map { RFC3339.format($0, offsetSeconds: 0) }, "2009-01-12T22:08:22.000Z", file: file, line: line)
        assertClose(p.platformHeadingDeg, 159.9744, 1e-4, "heading", file: file, line: line)
        assertClose(p.platformPitchDeg, -0.4315, 1e-4, "pitch", file: file, line: line)
        assertClose(p.platformRollDeg, 3.4059, 1e-4, "roll", file: file, line: line)
        assertClose(p.sensorLat, 60.176823, 1e-6, "lat", file: file, line: line)
        assertClose(p.sensorLon, 128.426759, 1e-6, "lon", file: file, line: line)
        assertClose(p.sensorAltM, 14190.72, 19_900.0 / 65_535, "alt", file: file, line: line)
        assertClose(p.frameCenterLat, -10.542389, 1e-6, "fc lat", file: file, line: line)
        assertClose(p.frameCenterLon, 29.15789, 1e-6, "fc lon", file: file, line: line)
        XCTAssertEqual(p.version, 6, file: file, line: line)
    }

    func testKlvdataDynamicOnlyPacket() throws {
        let items = MISB0601.scan(try MediaFixtures.data("klv/klvdata_DynamicOnlyMISMMSPacketData.bin"))
        let p = try XCTUnwrap(onlyPacket(items))
        XCTAssertEqual(p.checksum, 0xC850)
        assertAnnexCValues(p)
        XCTAssertEqual(p.sensorRelRollDeg, 0)
        XCTAssertNil(p.missionId, "the dynamic-only packet carries no strings")
        XCTAssertEqual(p.problems, [])
    }

    func testKlvdataDynamicConstantPacketHasTheErratumChecksum() throws {
        let bytes = try MediaFixtures.data("klv/klvdata_DynamicConstantMISMMSPacketData.bin")
        let items = MISB0601.scan(bytes)
        let problem = try XCTUnwrap(onlyProblem(items))
        XCTAssertEqual(problem.kind, .checksumMismatch(declared: 0xAA43, computed: 0x3E1E))
        XCTAssertEqual(problem.reason, "checksum 0xAA43 declared, 0x3E1E computed")
        XCTAssertEqual(problem.offset, 0)
        XCTAssertEqual(problem.length, bytes.count)

        // Not trusted by default, but readable on purpose.
        let p = try XCTUnwrap(problem.untrusted)
        XCTAssertEqual(p.checksum, 0xAA43)
        assertAnnexCValues(p)
        XCTAssertEqual(p.missionId, "Mission 12")
        XCTAssertEqual(p.platformDesignation, "Predator")
        XCTAssertEqual(p.imageSourceSensor, "EO Nose")
        XCTAssertEqual(p.imageCoordinateSystem, "Geodetic WGS84")
        assertClose(p.sensorRelRollDeg, 176.865437690572, 1e-7, "rel roll")

        // Tag 48, the nested ST 0102 security set, kept raw: its 6 items are all there.
        let security = try XCTUnwrap(p.otherItems.first { $0.tag == 48 })
        var nested: [UInt8] = []
        var i = 0
        while i + 1 < security.bytes.count {
            nested.append(security.bytes[i])
            i += 2 + Int(security.bytes[i + 1])
        }
        XCTAssertEqual(i, security.bytes.count)
        XCTAssertEqual(nested, [1, 2, 3, 12, 13, 22])
        XCTAssertTrue(p.otherItems.contains { $0.tag == 94 }, "MIIS core identifier kept raw")
    }

    // MARK: klvdata's single-tag vectors

    func testEveryTagVector() throws {
        let tsv = try String(contentsOfFile: MediaFixtures.path("klv/klvdata_st0601_tag_examples.tsv"), encoding: .utf8)
        // Tag → field and the resolution of its encoding (the tolerance).
        let doubles: [UInt: (KeyPath<MISB0601Packet, Double?>, Double)] = [
            5: (\.platformHeadingDeg, 360.0 / 65_535), 6: (\.platformPitchDeg, 40.0 / 65_534),
            7: (\.platformRollDeg, 100.0 / 65_534), 13: (\.sensorLat, 180.0 / 4_294_967_294),
            14: (\.sensorLon, 360.0 / 4_294_967_294), 15: (\.sensorAltM, 19_900.0 / 65_535),
            16: (\.sensorHFOVDeg, 180.0 / 65_535), 17: (\.sensorVFOVDeg, 180.0 / 65_535),
            18: (\.sensorRelAzimuthDeg, 360.0 / 4_294_967_295), 19: (\.sensorRelElevationDeg, 360.0 / 4_294_967_294),
            20: (\.sensorRelRollDeg, 360.0 / 4_294_967_295), 21: (\.slantRangeM, 5_000_000.0 / 4_294_967_295),
            23: (\.frameCenterLat, 180.0 / 4_294_967_294), 24: (\.frameCenterLon, 360.0 / 4_294_967_294),
            25: (\.frameCenterElevationM, 19_900.0 / 65_535),
        ]
        let strings: [UInt: KeyPath<MISB0601Packet, String?>] = [
            3: \.missionId, 4: \.platformTailNumber, 10: \.platformDesignation,
            11: \.imageSourceSensor, 12: \.imageCoordinateSystem,
        ]
        var tested = 0
        var decodedTags = Set<UInt>()
        for line in tsv.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 3 else { continue }
            let tlv = Self.hex(f[2])
            let tag = UInt(tlv[0])
            let expectedText = f.count > 3 && !f[3].isEmpty ? f[3] : (f.count > 4 ? f[4] : "")
            let what = "\(f[1]) \(f[2])"
            tested += 1

            if tag == 1 {
                // A checksum on its own: as a packet it does not add up, and says so.
                let problem = try XCTUnwrap(onlyProblem(MISB0601.scan(Self.key + [4] + tlv)), what)
                guard case .checksumMismatch(let declared, _) = problem.kind else {
                    XCTFail("\(what): \(problem)")
                    continue
                }
                XCTAssertEqual(MISB0601.hex16(declared), expectedText, what)
                continue
            }

            let p = try XCTUnwrap(onlyPacket(MISB0601.scan(Self.packet(tlv))), what)
            XCTAssertEqual(p.problems, [], what)
            if let (path, resolution) = doubles[tag] {
                let expected = try XCTUnwrap(Double(expectedText), what)
                assertClose(p[keyPath: path], expected, resolution, what)
                XCTAssertEqual(p.otherItems, [], what)
                decodedTags.insert(tag)
            } else if let path = strings[tag] {
                XCTAssertEqual(p[keyPath: path], expectedText, what)
                decodedTags.insert(tag)
            } else if tag == 2 {
                // "2008-10-24 00:13:29.913000+00:00"
                let iso = expectedText.replacingOccurrences(of: " ", with: "T").replacingOccurrences(of: "+00:00", with: "Z")
                let instant = try XCTUnwrap(RFC3339.parse(iso), what)
                XCTAssertEqual(p.time, instant, what)
                XCTAssertEqual(p.timeMicros.map { $0 / 1000 }, instant.millis, what)
                decodedTags.insert(tag)
            } else if tag == 65 {
                XCTAssertEqual(p.version, Int(expectedText), what)
                decodedTags.insert(tag)
            } else {
                // Not decoded: kept whole, not an error.
                XCTAssertEqual(p.otherItems, [MISB0601.RawItem(tag: tag, bytes: Array(tlv.dropFirst(2)))], what)
            }
        }
        XCTAssertEqual(tested, 86)
        // Every decoded tag with a vector was checked (10, 11, 12 have none: the Annex C packet covers them).
        XCTAssertEqual(decodedTags, [2, 3, 4, 5, 6, 7, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24, 25, 65])
    }

    // MARK: Not ST 0601

    func testVMTISetsAreSkippedAsNotST0601() throws {
        let bytes = try MediaFixtures.data("klv/jmisb_0903_vmti.bin")
        let items = MISB0601.scan(bytes)
        XCTAssertEqual(items.count, 5)
        var offsets: [Int] = []
        for item in items {
            guard case .bad(let problem) = item, case .notST0601(let key) = problem.kind else {
                XCTFail("expected not-ST-0601, got \(item)")
                continue
            }
            XCTAssertEqual(Hex.string(key), "060e2b34020b01010e01030306000000")
            XCTAssertTrue(problem.reason.contains("not ST 0601"), problem.reason)
            offsets.append(problem.offset)
        }
        XCTAssertEqual(offsets, [0, 130, 260, 390, 520])
    }

    func testVersionByteOfTheKeyIsNotCompared() {
        var key = Self.key
        key[7] = 0x03
        let p = onlyPacket(MISB0601.scan(Self.packet([0x41, 0x01, 0x0B], key: key)))
        XCTAssertEqual(p?.version, 11)

        key = Self.key
        key[10] = 0x02
        let problem = onlyProblem(MISB0601.scan(Self.packet([0x41, 0x01, 0x0B], key: key)))
        XCTAssertEqual(problem?.kind, .notST0601(key: key))
    }

    // MARK: Damage

    func testTruncatedAtEveryOffset() throws {
        let stream = try MediaFixtures.data("klv/osh_sample-stream.klv")
        let whole = 16 + 2 + 0xFA
        let first = Array(stream[0..<whole])
        XCTAssertNotNil(onlyPacket(MISB0601.scan(first)))
        XCTAssertEqual(MISB0601.scan([UInt8]()), [])
        for cut in 1..<whole {
            let items = MISB0601.scan(first[0..<cut])
            guard let problem = onlyProblem(items) else { continue }
            XCTAssertEqual(problem.kind, .truncated, "cut at \(cut): \(problem)")
            XCTAssertEqual(problem.offset, 0, "cut at \(cut)")
            XCTAssertEqual(problem.length, cut, "cut at \(cut)")
        }
        // A cut packet followed by a whole one: the whole one still comes through.
        for cut in [1, 5, 16, 17, 18, 100, whole - 1] {
            let items = MISB0601.scan(Array(first[0..<cut]) + first)
            XCTAssertEqual(items.count, 2, "cut at \(cut): \(items)")
            guard items.count == 2 else { continue }
            if case .bad(let problem) = items[0] {
                XCTAssertEqual(problem.kind, .truncated, "cut at \(cut): \(problem)")
                XCTAssertEqual(problem.length, cut, "cut at \(cut): \(problem)")
            } else {
                XCTFail("cut at \(cut): \(items[0])")
            }
            guard case .packet(let p) = items[1] else { XCTFail("cut at \(cut)"); continue }
            XCTAssertEqual(p.checksum, 0x72FA)
        }
    }

    func testFlippedChecksumIsReported() throws {
        let stream = try MediaFixtures.data("klv/osh_sample-stream.klv")
        var first = Array(stream[0..<(16 + 2 + 0xFA)])
        first[first.count - 1] ^= 0x01
        let problem = try XCTUnwrap(onlyProblem(MISB0601.scan(first)))
        XCTAssertEqual(problem.kind, .checksumMismatch(declared: 0x72FB, computed: 0x72FA))
        XCTAssertEqual(problem.description, "byte 0: checksum 0x72FB declared, 0x72FA computed")
        XCTAssertNotNil(problem.untrusted)

        // A damaged value byte, too; and the packet after it is unharmed.
        var damaged = Array(stream[0..<(16 + 2 + 0xFA)])
        damaged[40] ^= 0x10
        let items = MISB0601.scan(damaged + stream[(16 + 2 + 0xFA)...])
        XCTAssertEqual(items.count, 277)
        guard case .bad(let p) = items.first, case .checksumMismatch(declared: 0x72FA, _) = p.kind else {
            return XCTFail("\(String(describing: items.first))")
        }
        XCTAssertEqual(items.dropFirst().filter { if case .packet = $0 { true } else { false } }.count, 276)
    }

    func testGarbageBetweenPacketsIsSkippedAndReported() throws {
        let stream = try MediaFixtures.data("klv/osh_sample-stream.klv")
        let a = Array(stream[0..<268])
        let b = Self.packet([0x41, 0x01, 0x05])
        let junk: [UInt8] = [0x00, 0xFF, 0x06, 0x0E, 0x2B, 0x47]
        let items = MISB0601.scan(junk + a + junk + junk + b + [0x06, 0x0E])
        let kinds: [String] = items.map {
            switch $0 {
            case .packet: "packet"
            case .bad(let p): "\(p.kind)@\(p.offset)+\(p.length)"
            }
        }
        XCTAssertEqual(kinds, [
            "skipped@0+6", "packet", "skipped@274+12", "packet", "truncated@\(286 + b.count)+2",
        ])
    }

    func testMissingChecksumAndBrokenItems() {
        // No checksum at the end.
        let noChecksum = Self.key + [3, 0x41, 0x01, 0x04]
        XCTAssertEqual(onlyProblem(MISB0601.scan(noChecksum))?.kind, .missingChecksum)
        // An item that claims more bytes than its packet has, under a correct checksum.
        XCTAssertEqual(onlyProblem(MISB0601.scan(Self.packet([0x05, 0x09, 0x00, 0x00])))?.kind, .malformed)
        // Indefinite BER length inside the packet.
        XCTAssertEqual(onlyProblem(MISB0601.scan(Self.packet([0x05, 0x80, 0x00, 0x00])))?.kind, .malformed)
        // Indefinite and absurd BER lengths for the packet itself: never read past the buffer.
        let indefinite = MISB0601.scan(Self.key + [0x80, 0x01, 0x02, 0x00, 0x00])
        if case .bad(let p) = indefinite.first { XCTAssertEqual(p.kind, .malformed) } else { XCTFail("\(indefinite)") }
        let huge = MISB0601.scan(Self.key + [0x88, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        if case .bad(let p) = huge.first { XCTAssertEqual(p.kind, .malformed) } else { XCTFail("\(huge)") }
        let long = MISB0601.scan(Self.key + [0x88, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        XCTAssertEqual(onlyProblem(long)?.kind, .truncated)
        let nine = MISB0601.scan(Self.key + [0x89] + [UInt8](repeating: 0, count: 9))
        if case .bad(let p) = nine.first { XCTAssertEqual(p.kind, .malformed) } else { XCTFail("\(nine)") }
    }

    func testBERForms() {
        // Long-form item length, a two-octet BER-OID tag kept raw, a long-form packet length.
        let items: [UInt8] = [0x03, 0x81, 0x05] + Array("ABCDE".utf8) + [0x81, 0x01, 0x01, 0xFF]
            + [UInt8](repeating: 0x00, count: 0) + [0x0A, 0x82, 0x00, 0x03] + Array("XYZ".utf8)
        var padded = items
        for tag in UInt8(80)..<120 { padded += [tag, 0x01, 0x07] }  // enough to need a long-form packet length
        let p = onlyPacket(MISB0601.scan(Self.packet(padded)))
        XCTAssertEqual(p?.missionId, "ABCDE")
        XCTAssertEqual(p?.platformDesignation, "XYZ")
        XCTAssertEqual(p?.otherItems.first, MISB0601.RawItem(tag: 129, bytes: [0xFF]))
        XCTAssertEqual(p?.otherItems.count, 41)
        XCTAssertEqual(p?.problems, [])
        // An overlong tag is a broken packet, not a trap.
        let overlong = MISB0601.scan(Self.packet([0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x00]))
        XCTAssertEqual(onlyProblem(overlong)?.kind, .malformed)
    }

    func testErrorValuesDecodeAsNil() {
        let items: [UInt8] = [
            0x06, 0x02, 0x80, 0x00, 0x07, 0x02, 0x80, 0x00,
            0x0D, 0x04, 0x80, 0x00, 0x00, 0x00, 0x0E, 0x04, 0x80, 0x00, 0x00, 0x00,
            0x13, 0x04, 0x80, 0x00, 0x00, 0x00,
            0x17, 0x04, 0x80, 0x00, 0x00, 0x00, 0x18, 0x04, 0x80, 0x00, 0x00, 0x00,
            0x05, 0x02, 0x00, 0x00,
        ]
        guard let p = onlyPacket(MISB0601.scan(Self.packet(items))) else { return }
        XCTAssertNil(p.platformPitchDeg)
        XCTAssertNil(p.platformRollDeg)
        XCTAssertNil(p.sensorLat)
        XCTAssertNil(p.sensorLon)
        XCTAssertNil(p.sensorRelElevationDeg)
        XCTAssertNil(p.frameCenterLat)
        XCTAssertNil(p.frameCenterLon)
        XCTAssertEqual(p.platformHeadingDeg, 0)
        XCTAssertEqual(p.errorTags, [6, 7, 13, 14, 19, 23, 24])
        XCTAssertEqual(p.problems, [])
        XCTAssertEqual(p.otherItems, [])

        // The extremes next to the error value are numbers.
        guard let q = onlyPacket(MISB0601.scan(Self.packet([0x0D, 0x04, 0x80, 0x00, 0x00, 0x01, 0x06, 0x02, 0x7F, 0xFF])))
        else { return }
        XCTAssertEqual(q.sensorLat, -90)
        XCTAssertEqual(q.platformPitchDeg, 20)
    }

    func testWrongLengthValueIsAProblemNotAPacketLoss() {
        let items: [UInt8] = [0x05, 0x03, 0x01, 0x02, 0x03, 0x02, 0x07, 0, 0, 0, 0, 0, 0, 0, 0x41, 0x01, 0x0B, 0x41, 0x01, 0x0C]
        guard let p = onlyPacket(MISB0601.scan(Self.packet(items))) else { return }
        XCTAssertNil(p.platformHeadingDeg)
        XCTAssertNil(p.timeMicros)
        XCTAssertEqual(p.version, 11, "the first of a repeated tag is kept")
        XCTAssertEqual(p.problems.map(\.tag), [5, 2, 65])
        XCTAssertEqual(p.problems.map(\.kind), [.malformed, .malformed, .malformed])
        XCTAssertEqual(p.problems.first?.offset, 16 + 1)
        XCTAssertEqual(p.problems.first?.reason, "tag 5 has 3 bytes, expected 2; value dropped")
        XCTAssertEqual(p.otherItems.map(\.tag), [5, 2, 65])
    }

    func testScanTakesAnyCollection() throws {
        let stream = try MediaFixtures.data("klv/osh_sample-stream.klv")
        let fromData = MISB0601.scan(Data(stream))
        XCTAssertEqual(fromData.count, 277)
        let slice = MISB0601.scan(stream[268...])
        XCTAssertEqual(slice.count, 276)
    }

    // MARK: Fuzz

    func testRandomGarbageNeverTraps() throws {
        let stream = try MediaFixtures.data("klv/osh_sample-stream.klv")
        let real = Array(stream[0..<2000])
        var rng = SplitMix64(state: 0x0601)
        for round in 0..<4000 {
            var buf: [UInt8]
            switch round % 4 {
            case 0:  // pure noise
                buf = (0..<Int.random(in: 0...600, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            case 1:  // noise with keys sprinkled in, so lengths and items get parsed
                buf = (0..<Int.random(in: 0...600, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let at = Int.random(in: 0...buf.count, using: &rng)
                    buf.insert(contentsOf: Self.key, at: at)
                }
            case 2:  // real packets with bytes changed
                buf = real
                for _ in 0..<Int.random(in: 1...20, using: &rng) {
                    buf[Int.random(in: 0..<buf.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
            default:  // real packets cut anywhere, spliced
                let a = Int.random(in: 0..<real.count, using: &rng)
                let b = Int.random(in: a...real.count, using: &rng)
                let c = Int.random(in: 0..<real.count, using: &rng)
                buf = Array(real[a..<b]) + Array(real[c...])
            }
            let items = MISB0601.scan(buf)
            var lastOffset = 0
            for item in items {
                guard case .bad(let p) = item else { continue }
                XCTAssertGreaterThanOrEqual(p.offset, lastOffset, "round \(round)")
                XCTAssertGreaterThanOrEqual(p.length, 0, "round \(round)")
                XCTAssertLessThanOrEqual(p.offset + p.length, buf.count, "round \(round)")
                lastOffset = p.offset
            }
            if round % 4 == 0 {
                // Noise is reported, not silently dropped, unless it's empty.
                XCTAssertEqual(items.isEmpty, buf.isEmpty, "round \(round)")
            }
        }
    }
}
