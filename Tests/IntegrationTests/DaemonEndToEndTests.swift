import Foundation
import GRDB
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The daemon against a real broker: what an operator sees in the alert log
/// and the store after a scripted feed.
final class DaemonEndToEndTests: XCTestCase {
    func testScriptedFeedGivesAlertsCasesAndDeadLetters() throws {
        let dir = try temporaryDirectory("e2e")
        let broker = try TestBroker(dir: dir)
        let daemon = try TestDaemon(dir: dir, brokerURL: broker.url)
        try daemon.start()
        let publisher = try TestPublisher(port: broker.port, clientId: "e2e-pub")

        // A loaded truck driving with its cover open, one report every 5 s.
        for (i, second) in stride(from: 0, through: 45, by: 5).enumerated() {
            try publisher.publish("muckwatch/v1/truck/T-0001/telemetry",
                                  truckPayload(seq: i, second: second, cover: "open", load: "full", speed: 36))
        }
        // The site camera sees the same truck uncovered: same incident.
        try publisher.publish("muckwatch/v1/camera/CAM-07/event", """
            {"camera":"CAM-07","event_id":"e-8812","ts":"2026-11-24T21:16:40+08:00","type":"uncovered_load",
             "plate":"粤B12345","confidence":0.91,"lat":22.5431,"lon":114.058,
             "clip":{"url":"file:///var/lib/muckwatch/media/cam07/seg-2116.ts","offset_s":12.4}}
            """)
        // A spill seen by another camera, and the same event delivered again.
        let spill = """
            {"camera":"CAM-03","event_id":"e-9001","ts":"2026-11-24T21:20:05+08:00","type":"spill",
             "plate":"粤B67890","confidence":0.88,"lat":22.5501,"lon":114.0612}
            """
        try publisher.publish("muckwatch/v1/camera/CAM-03/event", spill)
        try publisher.publish("muckwatch/v1/camera/CAM-03/event", spill)
        // Bad input: each must end up as a dead letter with its reason.
        try publisher.publish("muckwatch/v1/truck/T-0001/telemetry", #"{"device":"T-0001","#)
        try publisher.publish("muckwatch/v1/truck/T-0001/telemetry", #"{"ts":"2026-11-24T21:15:00+08:00","lon":114.0}"#)
        try publisher.publish("muckwatch/v1/truck/T-0001/telemetry", #"{"ts":"2026-11-24T21:15:00+08:00","lat":123.4,"lon":114.0}"#)
        try publisher.publish("muckwatch/v1/truck/T-0001/telemetry", #"{"ts":"2026-11-24T21:15:00+08:00","lat":22.5,"lon":114.0,"speed_kmh":"fast"}"#)
        try publisher.publish("muckwatch/v1/truck/T-0001/telemetry", #"{"ts":"2099-01-01T00:00:00+08:00","lat":22.5,"lon":114.0}"#)
        try publisher.waitAllAcknowledged()

        try eventually("2 alert lines") { daemon.alertLines.count >= 2 }
        try eventually("all 17 messages processed") {
            try daemon.query { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox WHERE id > COALESCE((SELECT value FROM pipeline_state WHERE key='last_inbox_id'), 0)") == 0
                    && Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox") == 17
            }
        }
        Thread.sleep(forTimeInterval: 0.3)
        let lines = daemon.alertLines
        XCTAssertEqual(lines.count, 2, "alert log:\n\(lines.joined(separator: "\n"))")
        let first = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(first["rule"] as? String, "uncovered_load")
        XCTAssertEqual(first["severity"] as? String, "major")
        XCTAssertEqual(first["ts"] as? String, "2026-11-24T21:15:30.000+08:00")
        XCTAssertEqual(first["case_id"] as? String, "MW-20261124-0001")
        XCTAssertEqual(first["summary"] as? String, "粤B12345 moving uncovered at 36 km/h for 30 s")
        XCTAssertEqual((first["subject"] as? [String: Any])?["company"] as? String, "深圳市示例渣土运输有限公司")
        XCTAssertTrue(lines[0].hasPrefix(#"{"ts":"2026-11-24T21:15:30.000+08:00","alert_id":"A-20261124-0001","rule":"uncovered_load""#))
        let second = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        XCTAssertEqual(second["rule"] as? String, "spill")
        XCTAssertEqual(second["severity"] as? String, "critical")
        XCTAssertEqual(second["suggested_action"] as? String, "enforce")
        XCTAssertEqual(second["case_id"] as? String, "MW-20261124-0002")

        try daemon.query { db in
            // The uncovered drive and the camera's sighting are one case; the
            // camera event is evidence with its clip and offset.
            let evidence = try Row.fetchAll(db, sql: "SELECT kind, clip_url, frame_offset_s FROM evidence WHERE case_id = 'MW-20261124-0001' ORDER BY id")
            XCTAssertEqual(evidence.map { $0["kind"] as String }, ["truck_telemetry", "camera_event"])
            XCTAssertEqual(evidence[1]["frame_offset_s"] as Double?, 12.4)
            XCTAssertEqual(try String.fetchOne(db, sql: "SELECT status FROM cases WHERE case_id = 'MW-20261124-0002'"), "draft")
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM cases"), 2)
            let reasons = try String.fetchAll(db, sql: "SELECT reason FROM dead_letters ORDER BY id")
            XCTAssertEqual(reasons, ["invalid_json", "missing_field", "out_of_range", "wrong_type", "future_time"])
            let raw = try Data.fetchOne(db, sql: "SELECT payload FROM dead_letters WHERE reason = 'invalid_json'")
            XCTAssertEqual(raw.map { String(decoding: $0, as: UTF8.self) }, #"{"device":"T-0001","#)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM duplicates"), 1, "\((try? Row.fetchAll(db, sql: "SELECT * FROM duplicates")) ?? [])")
        }

        // The operator CLI reads the same store.
        let stats = try runCommand(Tools.binary("muckwatch"), ["stats", "--db", daemon.dbPath, "--json"])
        XCTAssertEqual(stats.status, 0)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(stats.out.utf8)) as? [String: Any])
        XCTAssertEqual(json["messages"] as? Int, 17)
        XCTAssertEqual(json["duplicates"] as? Int, 1)
        XCTAssertEqual((json["records"] as? [String: Int])?["truck"], 10)
        XCTAssertEqual((json["dead_letters"] as? [String: Int])?["invalid_json"], 1)
        XCTAssertEqual((json["alerts"] as? [String: Int])?["spill"], 1)
        XCTAssertEqual((json["cases"] as? [String: Int])?["draft"], 2)
        let show = try runCommand(Tools.binary("muckwatch"), ["cases", "show", "MW-20261124-0001", "--db", daemon.dbPath])
        XCTAssertTrue(show.out.contains("Suspected party:  粤B12345 (truck T-0001)"), show.out)

        // SIGTERM: a clean stop, exit code 0.
        XCTAssertEqual(daemon.stop(SIGTERM), 0, daemon.log)
    }

    func testSighupReopensTheAlertLog() throws {
        let dir = try temporaryDirectory("hup")
        let broker = try TestBroker(dir: dir)
        let daemon = try TestDaemon(dir: dir, brokerURL: broker.url)
        try daemon.start()
        let publisher = try TestPublisher(port: broker.port, clientId: "hup-pub")
        let event = { (id: String, plate: String) in
            """
            {"event_id":"\(id)","ts":"2026-11-24T21:20:05+08:00","type":"spill","plate":"\(plate)","confidence":0.9}
            """
        }
        try publisher.publish("muckwatch/v1/camera/CAM-03/event", event("a", "粤B00001"))
        try eventually("the first alert") { daemon.alertLines.count == 1 }
        // logrotate moves the file away, then signals.
        try FileManager.default.moveItem(atPath: daemon.alertLogPath, toPath: daemon.alertLogPath + ".1")
        daemon.signal(SIGHUP)
        try eventually("the reopen to be logged") { daemon.log.contains("reopened the alert log") }
        try publisher.publish("muckwatch/v1/camera/CAM-03/event", event("b", "粤B00002"))
        try eventually("the second alert in the new file") { daemon.alertLines.count == 1 }
        XCTAssertTrue(daemon.alertLines[0].contains("粤B00002"))
        XCTAssertEqual(daemon.stop(SIGTERM), 0)
    }

    func testBadConfigIsNamedWithItsLine() throws {
        let dir = try temporaryDirectory("badconfig")
        try "broker:\n  url: mqtt://127.0.0.1:1\nrules:\n  spill:\n    min_confidence: high\n"
            .write(toFile: "\(dir)/bad.yaml", atomically: true, encoding: .utf8)
        let daemon = try runCommand(Tools.binary("muckwatchd"), ["--config", "\(dir)/bad.yaml"])
        XCTAssertEqual(daemon.status, 78)
        XCTAssertTrue(daemon.err.contains("line 5: 'rules.spill.min_confidence' should be a number"), daemon.err)
        let check = try runCommand(Tools.binary("muckwatch"), ["check-config", "--config", "\(dir)/bad.yaml"])
        XCTAssertEqual(check.status, 1)
        XCTAssertTrue(check.err.contains("line 5"), check.err)
        let usage = try runCommand(Tools.binary("muckwatch"), ["cases", "list", "--no-such-flag"])
        XCTAssertEqual(usage.status, 2)
    }
}

/// Runs a command to completion.
@discardableResult
func runCommand(_ executable: String, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}
