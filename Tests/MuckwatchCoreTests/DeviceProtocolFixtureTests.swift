// JT/T 808 and HJ 212 against the public samples in Tests/Fixtures/protocols
// (copied from ../shared/fixtures; SOURCES.md there lists where each came
// from and which values the sources assert).
import Foundation
import MuckwatchCore
import XCTest

enum ProtocolFixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/protocols")

    static func lines(_ relative: String) throws -> [String] {
        let text = try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            .filter { !$0.isEmpty }
    }

    /// The TSV's rows (header and comments dropped), split into columns.
    static func table(_ relative: String) throws -> [[String]] {
        try lines(relative).filter { !$0.hasPrefix("#") }
            .map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }
}

final class DeviceProtocolFixtureTests: XCTestCase {
    let decoder = PayloadDecoder()

    func items(_ kind: PayloadKind, _ bytes: [UInt8], decoder: PayloadDecoder? = nil) -> [DecodedItem] {
        (decoder ?? self.decoder).items(kind: kind, payload: bytes, topicDevice: "GW-1", extra: false)
    }

    func hexLine(_ file: String, _ line: Int) throws -> [UInt8] {
        try XCTUnwrap(Hex.bytes(try ProtocolFixtures.lines(file)[line - 1]), "\(file):\(line) is not hex")
    }

    func truck(_ items: [DecodedItem], file: StaticString = #filePath, line: UInt = #line) throws -> TruckTelemetry {
        guard items.count == 1, case .record(.truck(let t), _) = items[0] else {
            XCTFail("expected one truck record, got \(items)", file: file, line: line)
            throw TestFailure(description: "no truck")
        }
        return t
    }

    func failure(_ items: [DecodedItem], file: StaticString = #filePath, line: UInt = #line) throws -> DecodeFailure {
        let failures = items.compactMap { item -> DecodeFailure? in
            if case .failure(let f, _) = item { return f }
            return nil
        }
        guard let f = failures.first else {
            XCTFail("expected a rejection, got \(items)", file: file, line: line)
            throw TestFailure(description: "not rejected")
        }
        return f
    }

    // MARK: JT/T 808

    /// Traccar's frame decoder vectors: 0x7d02 is 0x7e, 0x7d01 is 0x7d.
    func testEscapesAsTraccarsFrameDecoderTest() throws {
        let rows = try ProtocolFixtures.table("jt808/traccar_jt808_frame_escape.tsv")
        XCTAssertEqual(rows.count, 2)
        for row in rows {
            let input = try XCTUnwrap(Hex.bytes(row[0]))
            let framing = try JT808.frames(in: input)
            XCTAssertEqual(framing.frames.count, 1)
            let unescaped = try JT808.unescape(input, framing.frames[0])
            XCTAssertEqual("7e" + Hex.string(unescaped) + "7e", row[1])
            // The `$$` prefix is accepted by Traccar; here it is reported, and the frame still decoded.
            XCTAssertEqual(framing.stray, row[0].hasPrefix("2424") ? 2 : 0)
        }
    }

    /// SmallChi's JT808_0x0200Test.Test5: the values the source asserts.
    func testSmallChiLocationAssertedValues() throws {
        let bytes = try hexLine("jt808/smallchi_jt808_tests.hex", 41)
        let frames = try JT808.frames(in: bytes)
        let frame = try JT808.frame(try JT808.unescape(bytes, frames.frames[0]))
        XCTAssertEqual(frame.header.messageId, 0x0200)
        XCTAssertEqual(frame.header.bodyLength, 38)
        XCTAssertEqual(frame.header.serial, 8888)
        XCTAssertEqual(frame.header.phone, "112233445566")
        XCTAssertFalse(frame.header.is2019)
        XCTAssertNil(frame.header.packetTotal)
        XCTAssertTrue(frame.checksumOK)
        let p = try XCTUnwrap(JT808.locations(frame).points.first)
        XCTAssertEqual(p.alarm, 1)
        XCTAssertEqual(p.status, 2)
        XCTAssertEqual(p.lat, 12.222222, accuracy: 1e-9)
        XCTAssertEqual(p.lon, 132.444444, accuracy: 1e-9)
        XCTAssertEqual(p.speedKmh, 6.0)
        XCTAssertEqual(RFC3339.format(p.time, offsetSeconds: 8 * 3600), "2018-07-15T10:10:10.000+08:00")
        XCTAssertEqual(p.item(0x01)?.unsigned, 100, "mileage")
        XCTAssertEqual(p.item(0x02)?.unsigned, 55, "oil")
        XCTAssertEqual(JT808.names(p.alarm, JT808.alarmNames), ["emergency"])
        XCTAssertEqual(JT808.names(p.status, JT808.statusNames, skipping: [2, 3, 8, 9]), ["fixed"])

        let t = try truck(items(.jt808, bytes))
        XCTAssertEqual(t.device, "112233445566")
        XCTAssertEqual(t.seq, 8888)
        XCTAssertEqual(t.load, .empty, "status bits 8-9 are 00")
        XCTAssertEqual(t.cover, .unknown, "the default profile reads no cover")
    }

    /// Every 0x0200 with a good checksum decodes to the values computed from
    /// the standard (position with sign bits, speed, course, GMT+8 time); the
    /// ones that cannot are named with their reason.
    func testTraccarRealDeviceLocationsMatchTheComputedValues() throws {
        try checkLocations("jt808/traccar_jt808_decoder_test", phoneColumn: 6, checksumColumn: 7, latColumn: 8,
                           courseColumn: 11, known: [
                               // A raw 0x7e inside the body, and bytes after: the frame splits at it.
                               19: .badChecksum,
                               // The frame follows 56 bytes of another message's tail.
                               57: .badChecksum,
                               97: .badChecksum,
                           ])
    }

    func testSmallChiLocationsMatchTheComputedValues() throws {
        try checkLocations("jt808/smallchi_jt808_tests", phoneColumn: 5, checksumColumn: nil, latColumn: 7,
                           courseColumn: nil, known: [:])
    }

    private func checkLocations(_ name: String, phoneColumn: Int, checksumColumn: Int?, latColumn: Int, courseColumn: Int?,
                                known: [Int: DeadLetterReason]) throws {
        let hex = try ProtocolFixtures.lines(name + ".hex")
        var checked = 0
        for row in try ProtocolFixtures.table(name + ".expected.tsv") {
            guard let n = Int(row[0]), row[3] == "0x0200" || row[4] == "0x0200" else { continue }
            guard let lat = Double(row[latColumn]), checksumColumn.map({ row[$0] == "True" }) ?? true else { continue }
            let out = items(.jt808, try XCTUnwrap(Hex.bytes(hex[n - 1])))
            if let reason = known[n] {
                XCTAssertEqual(try failure(out).reason, reason, "\(name) line \(n)")
                continue
            }
            let records = out.compactMap { item -> TruckTelemetry? in
                if case .record(.truck(let t), _) = item { return t }
                return nil
            }
            if lat == 0 && Double(row[latColumn + 1]) == 0 {
                // No position: a record only if the fix bit is set.
                XCTAssertLessThanOrEqual(records.count, 1, "\(name) line \(n)")
                continue
            }
            guard let t = records.first else {
                XCTFail("\(name) line \(n): \(out)")
                continue
            }
            XCTAssertEqual(t.lat, lat, accuracy: 1e-6, "\(name) line \(n)")
            XCTAssertEqual(t.lon, Double(row[latColumn + 1])!, accuracy: 1e-6, "\(name) line \(n)")
            XCTAssertEqual(t.speedKmh!, Double(row[latColumn + 2])!, accuracy: 1e-9, "\(name) line \(n)")
            if let c = courseColumn { XCTAssertEqual(t.headingDeg, Double(row[c]), "\(name) line \(n)") }
            let expectedTime = row[row.count - 1].replacingOccurrences(of: " ", with: "T") + ".000+08:00"
            XCTAssertEqual(RFC3339.format(t.ts, offsetSeconds: 8 * 3600), expectedTime, "\(name) line \(n)")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 15, "\(name): too few locations checked")
    }

    /// Traccar accepts the 11 frames with a wrong XOR; Muckwatch rejects them by default.
    func testWrongChecksumsAreRejectedByDefault() throws {
        let hex = try ProtocolFixtures.lines("jt808/traccar_jt808_decoder_test.hex")
        var bad = 0
        for row in try ProtocolFixtures.table("jt808/traccar_jt808_decoder_test.expected.tsv") where row[7] == "False" {
            let n = Int(row[0])!
            let f = try failure(items(.jt808, Hex.bytes(hex[n - 1])!))
            // Three of them also break the escaping rule before the checksum can be compared.
            XCTAssertTrue(f.reason == .badChecksum || (f.reason == .badFrame && f.detail.contains("escape")),
                          "line \(n): \(f.reason) \(f.detail)")
            bad += 1
        }
        XCTAssertEqual(bad, 11)
    }

    /// A lenient device's frames with a wrong checksum are kept and marked.
    func testLenientDeviceKeepsAWrongChecksumMarked() throws {
        let bytes = try hexLine("jt808/traccar_jt808_decoder_test.hex", 109)
        XCTAssertEqual(try failure(items(.jt808, bytes)).reason, .badChecksum)
        var protocols = ProtocolSettings()
        protocols.jt808.devices[JT808.canonicalPhone("045460004745")] = ProtocolDevice(lenientChecksum: true)
        let t = try truck(items(.jt808, bytes, decoder: PayloadDecoder(protocols: protocols)))
        XCTAssertEqual(t.marks, "bad_checksum")
        XCTAssertEqual(t.lat, 51.375448, accuracy: 1e-6)
        XCTAssertEqual(t.lon, 7.14701, accuracy: 1e-6)
    }

    /// yezhihao's bean swaps latitude and longitude: rejected as out of range, saying so.
    func testSwappedCoordinatesAreOutOfRange() throws {
        let lines = try ProtocolFixtures.lines("jt808/yezhihao_JT808_all_msgs.hex")
        var swapped = 0
        for line in lines {
            let out = items(.jt808, Hex.bytes(line)!)
            guard case .failure(let f, _)? = out.first else { continue }
            XCTAssertEqual(f.reason, .outOfRange)
            XCTAssertTrue(f.detail.contains("116.307629") && f.detail.contains("swapped"), f.detail)
            swapped += 1
        }
        XCTAssertEqual(swapped, 4, "0x0200 and 0x0201, each in 2013 and 2019 form")
        XCTAssertEqual(lines.count, 96)
    }

    /// A position without the fix bit (often the last known one) is kept and marked.
    func testTJSATLAdasFrame() throws {
        let t = try truck(items(.jt808, try hexLine("jt808/yezhihao_TJSATL_0200_adas.hex", 1)))
        XCTAssertEqual(t.device, "40853598950")
        XCTAssertEqual(t.lat, 31.235963, accuracy: 1e-6)
        XCTAssertEqual(t.lon, 121.38828, accuracy: 1e-6)
        XCTAssertEqual(RFC3339.format(t.ts, offsetSeconds: 8 * 3600), "2021-04-29T12:06:41.000+08:00")
        XCTAssertEqual(t.marks, "no_fix")
    }

    /// 2019 headers: the version flag, protocol version and 20-digit phone.
    func testVersion2019Header() throws {
        let bytes = try hexLine("jt808/traccar_jt808_decoder_test.hex", 6)
        let frames = try JT808.frames(in: bytes)
        let frame = try JT808.frame(try JT808.unescape(bytes, frames.frames[0]))
        XCTAssertTrue(frame.header.is2019)
        XCTAssertEqual(frame.header.phone, "00000866496077582164")
        XCTAssertEqual(JT808.canonicalPhone(frame.header.phone), "866496077582164")
        XCTAssertEqual(frame.header.messageId, 0x0704)
    }

    // MARK: HJ 212

    /// The standard's CRC16 (not CRC-16/MODBUS) and the length, for all 16 samples.
    func testHJ212CRCAndLengthForEverySample() throws {
        let packets = try ProtocolFixtures.lines("hj212/hj212_samples.txt")
        let rows = try ProtocolFixtures.table("hj212/hj212_samples.expected.tsv")
        XCTAssertEqual(packets.count, 16)
        XCTAssertEqual(rows.count, 16)
        var valid = 0
        for (packet, row) in zip(packets, rows) {
            let parsed = try HJ212.packets(in: Array(packet.utf8))
            XCTAssertEqual(parsed.count, 1)
            let p = parsed[0]
            XCTAssertEqual(String(format: "%04X", p.computedCRC), row[10].uppercased(), "line \(row[0])")
            XCTAssertEqual(p.crcOK, row[11] == "True", "line \(row[0])")
            XCTAssertEqual(p.field("ST"), row[3])
            XCTAssertEqual(p.field("CN"), row[4])
            XCTAssertEqual(p.field("MN"), row[5])
            XCTAssertEqual(p.value("DataTime"), row[6].isEmpty ? nil : row[6])
            if p.crcOK { valid += 1 }
        }
        XCTAssertEqual(valid, 11)
    }

    /// xiaoyao9184's T212MapperTest and T212ParserTest values.
    func testHJ212AssertedValues() throws {
        let packet = try ProtocolFixtures.lines("hj212/hj212_samples.txt")[1]
        XCTAssertTrue(packet.hasPrefix("##0139"))
        XCTAssertTrue(packet.hasSuffix("4980"))
        let p = try XCTUnwrap(HJ212.packets(in: Array(packet.utf8)).first)
        XCTAssertEqual(p.field("ST"), "32")
        XCTAssertEqual(p.field("CN"), "2011")
        XCTAssertEqual(p.field("PW"), "123456")
        XCTAssertEqual(p.field("MN"), "LD130133000015")
        XCTAssertEqual(p.value("B01-Rtd"), "36.91")
        XCTAssertEqual(p.value("011-Rtd"), "231.0")
        XCTAssertEqual(p.value("011-Flag"), "N")
        XCTAssertEqual(p.value("060-Rtd"), "1.803")
        XCTAssertEqual(p.value("060-Flag"), "N")
        XCTAssertTrue(p.crcOK)
    }

    /// Every wrong CRC is rejected with the reason; every water or air packet
    /// is rejected for lacking the fume code; acks and restarts are ignored.
    func testHJ212SamplesThroughTheDecoder() throws {
        let wire = try String(contentsOf: ProtocolFixtures.root.appendingPathComponent("hj212/hj212_samples_wire_crlf.txt"),
                              encoding: .utf8)
        let packets = wire.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        XCTAssertEqual(packets.count, 16)
        var reasons: [String] = []
        for p in packets {
            for item in items(.hj212, Array((p + "\r\n").utf8)) {
                switch item {
                case .failure(let f, _): reasons.append(f.reason.rawValue)
                case .ignored(let what, _): reasons.append(what)
                case .record: reasons.append("record")
                }
            }
        }
        XCTAssertEqual(reasons.filter { $0 == "bad_checksum" }.count, 5)
        XCTAssertEqual(reasons.filter { $0 == "missing_field" }.count, 9, "no a34041 in water and air samples")
        XCTAssertEqual(reasons.filter { $0.hasPrefix("hj212_cn_") }.sorted(), ["hj212_cn_2081", "hj212_cn_9011"])
        // The whole file as one payload: the same 16 packets, one after another.
        XCTAssertEqual(items(.hj212, Array(wire.utf8)).count, 16)
    }

    func testHJ212LengthMismatchIsABadFrame() throws {
        let packet = try ProtocolFixtures.lines("hj212/hj212_samples.txt")[1]
        let wrong = "##0138" + packet.dropFirst(6)
        let f = try failure(items(.hj212, Array(wrong.utf8)))
        XCTAssertEqual(f.reason, .badFrame)
        XCTAssertTrue(f.detail.contains("138") && f.detail.contains("139"), f.detail)
    }
}
