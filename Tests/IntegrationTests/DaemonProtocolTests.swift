import Foundation
import GRDB
import MuckwatchCore
import MuckwatchScenario
import XCTest

/// Standard device protocols through a real broker into the real daemon:
/// JT/T 808 frames from a tracker gateway, HJ 212 packets from a fume
/// monitor and DJI Cloud API OSD from a dock, as an operator then sees them
/// in the alert log, the store and `muckwatch stats`.
final class DaemonProtocolTests: XCTestCase {
    let start = RFC3339.parse("2026-11-24T21:15:00+08:00")!
    let phone = "013912345678"

    func location(at s: Double, cover: UInt8) -> [UInt8] {
        JT808.locationBody(status: 0x3 | 0x300, lat: 22.5431 + s * 1e-5, lon: 114.058, speedKmh: 36, directionDeg: 90,
                           time: start.adding(seconds: s), items: [.init(id: 0xe1, value: [cover])])
    }

    func testJT808HJ212AndDJIOSDGiveAlertsRecordsDeadLettersAndCounts() throws {
        let dir = try temporaryDirectory("protocols")
        let broker = try TestBroker(dir: dir)
        let daemon = try TestDaemon(dir: dir, brokerURL: broker.url, extraYAML: """
            protocols:
              jt808:
                vendors:
                  muck-e1: {cover: {item: 0xE1, mask: 0x01, set_means: closed}}
                devices:
                  - {phone: "\(phone)", vendor: muck-e1}
            """)
        try daemon.start()
        let publisher = try TestPublisher(port: broker.port, clientId: "protocols-pub")
        var sent = 0
        func publish(_ topic: String, _ payload: [UInt8]) throws {
            try publisher.publish(topic, payload)
            sent += 1
        }

        // The tracker: loaded (status bits 8-9), moving at 36 km/h, cover open (0xE1 bit 0 clear), every 5 s.
        for i in 0...9 {
            try publish("jt808/GW-1/up", JT808.frame(messageId: 0x0200, phone: phone, serial: UInt16(i),
                                                     body: location(at: Double(i) * 5, cover: 0)))
        }
        // A heartbeat, a blind-area batch of older points, and a frame with a wrong checksum.
        try publish("jt808/GW-1/up", JT808.frame(messageId: 0x0002, phone: phone, serial: 20, body: []))
        let batch = JT808.batchBody([location(at: -300, cover: 0), location(at: -290, cover: 0)], blindArea: true)
        try publish("jt808/GW-1/up", JT808.frame(messageId: 0x0704, phone: phone, serial: 21, body: batch))
        let corrupt = JT808.frame(messageId: 0x0200, phone: phone, serial: 22, body: location(at: 60, cover: 1),
                                  corruptChecksum: true)
        try publish("jt808/GW-1/up", corrupt)

        // The fume monitor: 3.5 mg/m³ every minute for 11 minutes.
        for m in 0...10 {
            let t = HJ212.timeText(start.adding(seconds: Double(m) * 60))
            try publish("hj212/F-0101/up", HJ212.packet(
                "QN=\(t)000;ST=31;CN=2011;PW=123456;MN=F-0101;Flag=5;CP=&&DataTime=\(t);a34041-Rtd=3.50,a34041-Flag=N;SB1-RS=1;SB2-RS=1&&"))
        }
        let badCRC = HJ212.packet("QN=1;ST=31;CN=2011;PW=123456;MN=F-0101;Flag=5;CP=&&DataTime=20261124211500;a34041-Rtd=1.0&&",
                                  corruptCRC: true)
        try publish("hj212/F-0101/up", badCRC)

        // The dock: the aircraft's OSD and the dock's own.
        try publish("thing/product/1581F5BKD225D00BT8A2/osd", Array("""
            {"tid":"t1","bid":"b1","timestamp":\(start.millis),"gateway":"4TADKAQ000002J",
             "data":{"latitude":22.5431,"longitude":114.058,"height":120.5,"elevation":80,"attitude_head":-90,"horizontal_speed":5}}
            """.utf8))
        try publish("thing/product/4TADKAQ000002J/osd", Array("""
            {"tid":"t2","bid":"b2","timestamp":\(start.millis),"gateway":"4TADKAQ000002J",
             "data":{"drone_in_dock":0,"cover_state":1,"network_state":{"type":2,"quality":5}}}
            """.utf8))
        try publisher.waitAllAcknowledged()

        try eventually("all \(sent) messages processed") {
            try daemon.query { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox") == sent
                    && Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox WHERE id > COALESCE((SELECT value FROM pipeline_state WHERE key='last_inbox_id'), 0)") == 0
            }
        }
        try eventually("2 alert lines") { daemon.alertLines.count >= 2 }
        Thread.sleep(forTimeInterval: 0.3)
        let alerts = try daemon.alertLines.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(alerts.map { $0["rule"] as? String }, ["uncovered_load", "fume_exceedance"], "\(daemon.alertLines)")
        let subject = alerts.first?["subject"] as? [String: Any]
        XCTAssertEqual(subject?["id"] as? String, "T-0001", "the tracker's phone is the registered truck")
        XCTAssertEqual(subject?["plate"] as? String, "粤B12345")

        try daemon.query { db in
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM truck_telemetry WHERE device = 'T-0001' AND late = 0"), 10)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM truck_telemetry WHERE late = 1"), 2)
            XCTAssertEqual(try String.fetchAll(db, sql: "SELECT cover FROM truck_telemetry WHERE late = 0 GROUP BY cover"), ["open"])
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM fume_readings WHERE monitor = 'F-0101' AND data_flag = 'N'"), 11)
            XCTAssertEqual(try Double.fetchOne(db, sql: "SELECT alt_m FROM drone_telemetry WHERE drone = '1581F5BKD225D00BT8A2'"), 120.5)
            // Each rejected message kept whole, with its reason.
            let dead = try Row.fetchAll(db, sql: "SELECT topic, reason, detail, payload FROM dead_letters ORDER BY id")
            XCTAssertEqual(dead.map { $0["reason"] as String }, ["bad_checksum", "bad_checksum"])
            XCTAssertEqual(dead.map { $0["topic"] as String }, ["jt808/GW-1/up", "hj212/F-0101/up"])
            XCTAssertEqual(dead.first.map { [UInt8]($0["payload"] as Data) }, corrupt)
            XCTAssertEqual(dead.last.map { [UInt8]($0["payload"] as Data) }, badCRC)
            XCTAssertTrue((dead.first?["detail"] as String?)?.contains("XOR") == true)
        }

        let stats = try runCommand(Tools.binary("muckwatch"), ["stats", "--db", daemon.dbPath, "--json"])
        XCTAssertEqual(stats.status, 0, stats.err)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(stats.out.utf8)) as? [String: Any])
        XCTAssertEqual(json["ignored"] as? [String: Int], ["jt808_0x0002": 1, "dji_dock_osd": 1])
        XCTAssertEqual((json["dead_letters"] as? [String: Int])?["bad_checksum"], 2)
        XCTAssertEqual((json["records"] as? [String: Int])?["truck"], 12)
    }
}
