import Foundation
import MuckwatchCore
import MuckwatchScenario
import XCTest

/// `muckwatch decode` as an operator runs it on a device's captured messages.
final class DecodeCommandTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/protocols").path

    func decode(_ arguments: [String]) throws -> (status: Int32, lines: [[String: Any]], err: String) {
        let r = try runCommand(Tools.binary("muckwatch"), ["decode"] + arguments)
        let lines = try r.out.split(separator: "\n").map { line in
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
        }
        return (r.status, lines, r.err)
    }

    func testJT808HexFixtureLineByLine() throws {
        let r = try decode(["--format", "jt808", "--hex", "\(Self.fixtures)/jt808/yezhihao_TJSATL_0200_adas.hex"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.lines.count, 1)
        let line = r.lines[0]
        XCTAssertEqual(line["device"] as? String, "40853598950")
        XCTAssertEqual(line["ts"] as? String, "2021-04-29T12:06:41.000+08:00")
        XCTAssertEqual(line["lat"] as? Double, 31.235963)
        XCTAssertEqual(line["lon"] as? Double, 121.38828)
        let extra = try XCTUnwrap(line["extra"] as? [String: Any])
        XCTAssertEqual(extra["protocol"] as? String, "jt808")
        XCTAssertEqual(extra["msg_id"] as? String, "0x0200")
        XCTAssertEqual(extra["phone"] as? String, "040853598950")
        XCTAssertEqual(extra["checksum"] as? String, "ok")
        XCTAssertEqual(extra["mileage_km"] as? Double, 19.8)
    }

    /// A rejected frame prints its reason; the exit status says something was rejected.
    func testWrongChecksumPrintsTheErrorAndExitsOne() throws {
        let dir = try temporaryDirectory("decode")
        let hex = try String(contentsOfFile: "\(Self.fixtures)/jt808/traccar_jt808_decoder_test.hex", encoding: .utf8)
            .split(separator: "\n")[108]
        try (hex + "\n").write(toFile: "\(dir)/bad.hex", atomically: true, encoding: .utf8)
        let r = try decode(["--format", "jt808", "--hex", "\(dir)/bad.hex"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.lines.first?["error"] as? String, "bad_checksum")
        XCTAssertEqual(r.lines.first?["message"] as? Int, 1)
        XCTAssertEqual((r.lines.first?["extra"] as? [String: Any])?["checksum_computed"] as? String, "0x2d")

        // The same device, lenient in the config: kept and marked.
        try """
            protocols:
              jt808:
                devices:
                  - {phone: "045460004745", checksum: lenient}
            """.write(toFile: "\(dir)/c.yaml", atomically: true, encoding: .utf8)
        let lenient = try decode(["--format", "jt808", "--hex", "--config", "\(dir)/c.yaml", "\(dir)/bad.hex"])
        XCTAssertEqual(lenient.status, 0, lenient.err)
        XCTAssertEqual(lenient.lines.first?["marks"] as? String, "bad_checksum")
        XCTAssertEqual(lenient.lines.first?["lat"] as? Double, 51.375448)
    }

    /// Binary input: a stream of frames as a gateway would log them.
    func testJT808BinaryStream() throws {
        let dir = try temporaryDirectory("decode")
        let t = RFC3339.parse("2026-11-24T21:15:00+08:00")!
        var stream: [UInt8] = []
        for i in 0..<3 {
            stream += JT808.frame(messageId: 0x0200, phone: "013912345678", serial: UInt16(i),
                                  body: JT808.locationBody(status: 0x3, lat: 22.5, lon: 114.05, speedKmh: 12.5,
                                                           directionDeg: 270, time: t.adding(seconds: Double(i))))
        }
        stream += JT808.frame(messageId: 0x0002, phone: "013912345678", serial: 9, body: [])
        try Data(stream).write(to: URL(fileURLWithPath: "\(dir)/gw.bin"))
        let r = try decode(["--format", "jt808", "\(dir)/gw.bin"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.lines.map { $0["seq"] as? Int }, [0, 1, 2, nil])
        XCTAssertEqual(r.lines.last?["ignored"] as? String, "jt808_0x0002")
        XCTAssertEqual(r.lines.first?["heading_deg"] as? Int, 270)
        XCTAssertEqual(r.lines.first?["speed_kmh"] as? Double, 12.5)
    }

    func testHJ212WirePackets() throws {
        let r = try decode(["--format", "hj212", "\(Self.fixtures)/hj212/hj212_samples_wire_crlf.txt"])
        XCTAssertEqual(r.status, 1, "five samples carry a wrong CRC")
        XCTAssertEqual(r.lines.count, 16)
        XCTAssertEqual(r.lines.filter { $0["error"] as? String == "bad_checksum" }.count, 5)
        let extra = try XCTUnwrap(r.lines[1]["extra"] as? [String: Any])
        XCTAssertEqual(extra["MN"] as? String, "LD130133000015")
        XCTAssertNil(extra["PW"], "the password is not printed")
        XCTAssertEqual((extra["cp"] as? [String: Any])?["060-Rtd"] as? String, "1.803")
    }

    func testFumePacketAndDJIAndNative() throws {
        let dir = try temporaryDirectory("decode")
        let packet = HJ212.packet("QN=20261124211500000;ST=31;CN=2011;PW=123456;MN=F-0101;Flag=5;CP=&&DataTime=20261124211500;a34041-Rtd=1.35,a34041-Flag=N;SB1-RS=1;SB2-RS=0&&")
        try Data(packet).write(to: URL(fileURLWithPath: "\(dir)/fume.txt"))
        let fume = try decode(["--format", "hj212", "\(dir)/fume.txt"])
        XCTAssertEqual(fume.status, 0, fume.err)
        XCTAssertEqual(fume.lines.first?["monitor"] as? String, "F-0101")
        XCTAssertEqual(fume.lines.first?["conc_mg_m3"] as? Double, 1.35)
        XCTAssertEqual(fume.lines.first?["fan"] as? String, "on")
        XCTAssertEqual(fume.lines.first?["purifier"] as? String, "off")
        XCTAssertEqual(fume.lines.first?["ts"] as? String, "2026-11-24T21:15:00.000+08:00")

        try """
            {"tid":"t","bid":"b","timestamp":1795526100000,"gateway":"DOCK1","data":{"latitude":22.55,"longitude":114.06,"height":120.5,"attitude_head":90,"horizontal_speed":3}}
            {"tid":"t","bid":"b","timestamp":1795526100000,"gateway":"DOCK1","data":{"drone_in_dock":1,"cover_state":0}}
            not json
            """.write(toFile: "\(dir)/osd.jsonl", atomically: true, encoding: .utf8)
        let osd = try decode(["--format", "dji-osd", "--topic", "thing/product/SN-A/osd", "\(dir)/osd.jsonl"])
        XCTAssertEqual(osd.status, 1)
        XCTAssertEqual(osd.lines.first?["drone"] as? String, "SN-A")
        XCTAssertEqual(osd.lines.first?["alt_m"] as? Double, 120.5)
        XCTAssertEqual(osd.lines[1]["ignored"] as? String, "dji_dock_osd")
        XCTAssertEqual(osd.lines[2]["error"] as? String, "invalid_json")

        try #"{"monitor":"F-0101","ts":1795526100000,"conc_mg_m3":1.35,"fan":"on","purifier":"on"}"#
            .write(toFile: "\(dir)/native.jsonl", atomically: true, encoding: .utf8)
        let native = try decode(["--format", "native", "\(dir)/native.jsonl"])
        XCTAssertEqual(native.status, 0, native.err)
        XCTAssertEqual(native.lines.first?["conc_mg_m3"] as? Double, 1.35)
    }

    func testUnreadableInputIsOneClearSentence() throws {
        let r = try runCommand(Tools.binary("muckwatch"), ["decode", "--format", "jt808", "/nonexistent/x.bin"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("cannot read /nonexistent/x.bin"), r.err)
        let usage = try runCommand(Tools.binary("muckwatch"), ["decode", "--format", "nmea", "-"])
        XCTAssertEqual(usage.status, 2)
    }
}
