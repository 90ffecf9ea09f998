import Foundation
import GRDB
import XCTest

/// The daemon demuxes what the messages point at: an event's clip (the frame
/// at the event's time, the keyframe to cut from, the file's hash) and an
/// announced drone segment (its KLV telemetry becomes the drone's track),
/// on workers that never hold up ingest, with unreadable videos recorded as
/// such. Real mosquitto, real muckwatchd, videos made by ffmpeg.
final class DaemonVideoTests: VideoTestCase {
    var media: String { "\(dir!)/media" }
    /// Kept for the test's length: the broker stops when it is freed.
    private var broker: TestBroker?

    override func setUpWithError() throws {
        try super.setUpWithError()
        try FileManager.default.createDirectory(atPath: media, withIntermediateDirectories: true)
    }

    private func startDaemon(protocols: [String] = ["file"], timeout: Double = 5) throws -> (TestDaemon, TestPublisher) {
        let broker = try TestBroker(dir: dir)
        self.broker = broker
        let daemon = try TestDaemon(dir: dir, brokerURL: broker.url, extraYAML: """
            media:
              roots: [\(media)]
              protocols: [\(protocols.joined(separator: ", "))]
              open_timeout_s: \(timeout)
              read_timeout_s: \(timeout)
            """)
        try daemon.start()
        let publisher = try TestPublisher(port: broker.port, clientId: "video-pub-\(UUID().uuidString.prefix(6))")
        return (daemon, publisher)
    }

    private func event(_ id: String, clip: String, offset: Double?) -> String {
        let offsetField = offset.map { #","offset_s":\#($0)"# } ?? ""
        return #"{"camera":"CAM-07","event_id":"\#(id)","ts":"2026-11-24T21:16:40+08:00","type":"spill","plate":"粤B12345","confidence":0.9,"lat":22.5431,"lon":114.058,"clip":{"url":"\#(clip)"\#(offsetField)}}"#
    }

    private func analysis(_ daemon: TestDaemon, eventId: String, timeout: TimeInterval = 20) throws -> Row {
        var found: Row?
        try eventually("the video of \(eventId) analysed (log: \(daemon.logPath))", timeout: timeout) {
            found = try daemon.query { db in
                try Row.fetchOne(db, sql: """
                    SELECT v.* FROM video_analyses v JOIN site_events e ON e.inbox_id = v.inbox_id WHERE e.event_id = ?
                    """, arguments: [eventId])
            }
            return found != nil
        }
        return found!
    }

    private func sha256(_ path: String) throws -> String {
        let run = try runCommand(try Tools.require("sha256sum", package: "coreutils"), [path])
        return String(run.out.prefix(64))
    }

    func testAnEventClipGivesTheFrameTheKeyframeAndTheFileHash() throws {
        let clip = try makeVideo("media/cam07-2116.mp4", extra: ["-metadata", "creation_time=2026-11-24T13:16:38.000000Z"],
                                 seconds: 4)
        let (daemon, publisher) = try startDaemon()
        try publisher.publish("muckwatch/v1/camera/CAM-07/event", event("e-1", clip: "file://\(clip)", offset: 1.5))
        let v = try analysis(daemon, eventId: "e-1")
        XCTAssertEqual(v["status"] as String?, "ok", "\(v)")
        XCTAssertEqual(v["file_sha256"] as String?, try sha256(clip))
        XCTAssertEqual(v["clock_source"] as String?, "container_creation_time")
        // 25 fps, keyframes every 12 frames: the frame shown at 1.5 s starts
        // at 1.48 s, the keyframe before it at 1.44 s.
        XCTAssertEqual(try XCTUnwrap(v["frame_s"] as Double?), 1.48, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(v["keyframe_s"] as Double?), 1.44, accuracy: 1e-9)
        XCTAssertEqual(v["frame_pts"] as Int64?, 18_944)   // 1.48 s at 1/12800
        XCTAssertEqual(v["frame_wall"] as Int64?, 1_795_526_199_480)   // 13:16:39.480Z

        let caseId = try daemon.query { try String.fetchOne($0, sql: "SELECT case_id FROM cases") }
        let show = try runCommand(try Tools.binary("muckwatch"), ["cases", "show", try XCTUnwrap(caseId), "--json",
                                                                 "--db", daemon.dbPath, "--config", daemon.configPath])
        XCTAssertEqual(show.status, 0, show.err)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(show.out.utf8)) as? [String: Any])
        let evidence = try XCTUnwrap((object["evidence"] as? [[String: Any]])?.first)
        let video = try XCTUnwrap(evidence["video"] as? [String: Any])
        XCTAssertEqual(video["frame_wall_time"] as? String, "2026-11-24T21:16:39.480+08:00")
        XCTAssertEqual(video["keyframe_pts"] as? Int, 18_432)
        let text = try runCommand(try Tools.binary("muckwatch"), ["cases", "show", try XCTUnwrap(caseId),
                                                                 "--db", daemon.dbPath, "--config", daemon.configPath])
        XCTAssertTrue(text.out.contains("cut from keyframe:  pts 18432 (1.44 s), 2026-11-24T21:16:39.440+08:00"), text.out)

        // An MPEG-TS clip has no creation time: the event's own offset is the clock.
        let ts = try makeVideo("media/cam07-2117.ts", seconds: 4)
        try publisher.publish("muckwatch/v1/camera/CAM-07/event", event("e-2", clip: "file://\(ts)", offset: 2.0))
        let w = try analysis(daemon, eventId: "e-2")
        XCTAssertEqual(w["clock_source"] as String?, "event_clip_offset")
        let start = 1.48   // the first frame's pts: MPEG-TS clocks start at 1.4 s, B-frames delay it 2 frames
        XCTAssertEqual(try XCTUnwrap(w["frame_s"] as Double?), start + 2.0, accuracy: 1e-6)
        XCTAssertEqual(w["frame_wall"] as Int64?, 1_795_526_200_000, "the event's ts, 21:16:40+08:00")
        XCTAssertEqual(daemon.stop(), 0)
    }

    func testUnreadableClipsAreRecordedWithTheReason() throws {
        let outside = try makeVideo("elsewhere.mp4")
        let whole = try makeVideo("media/whole.mp4")
        let truncated = "\(media)/truncated.mp4"
        try Data(contentsOf: URL(fileURLWithPath: whole)).prefix(3000).write(to: URL(fileURLWithPath: truncated))
        let (daemon, publisher) = try startDaemon()
        try publisher.publish("muckwatch/v1/camera/CAM-07/event", event("e-out", clip: "file://\(outside)", offset: 1))
        try publisher.publish("muckwatch/v1/camera/CAM-07/event", event("e-cut", clip: "file://\(truncated)", offset: 1))
        try publisher.publish("muckwatch/v1/camera/CAM-07/event", event("e-none", clip: "file://\(media)/missing.mp4", offset: 1))
        try publisher.publish("muckwatch/v1/camera/CAM-07/event", event("e-http", clip: "http://127.0.0.1:9/x.mp4", offset: 1))
        let reasons = try ["e-out", "e-cut", "e-none", "e-http"].map { id -> String in
            let v = try analysis(daemon, eventId: id)
            XCTAssertEqual(v["status"] as String?, "unreadable", id)
            return v["reason"] as String? ?? ""
        }
        XCTAssertTrue(reasons[0].contains("outside the media roots"), reasons[0])
        XCTAssertTrue(reasons[1].contains("moov atom not found"), reasons[1])
        XCTAssertTrue(reasons[2].contains("No such file"), reasons[2])
        XCTAssertTrue(reasons[3].contains("'http' protocol is not allowed"), reasons[3])
        XCTAssertTrue(daemon.isRunning)
        let stats = try runCommand(try Tools.binary("muckwatch"), ["stats", "--json", "--db", daemon.dbPath])
        XCTAssertTrue(stats.out.contains("\"unreadable\" : 4"), stats.out)
        XCTAssertEqual(daemon.stop(), 0)
    }

    func testADroneSegmentsKLVBecomesTheDronesTrack() throws {
        let segment = "\(media)/d01-flight.ts"
        try FileManager.default.copyItem(atPath: "\(ProbeTelemetryTests.fixtures)/klv/osh_sample-stream.ts", toPath: segment)
        let (daemon, publisher) = try startDaemon()
        try publisher.publish("muckwatch/v1/video/D-01/segment",
                              #"{"source":"D-01","url":"file://\#(segment)","start":"2012-06-29T14:32:30Z"}"#)
        // Its 277 KLV positions pass through the pipeline as D-01's telemetry.
        var points = 0
        try eventually("the segment's drone positions through the pipeline (log: \(daemon.logPath))", timeout: 20) {
            points = try daemon.query { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM drone_telemetry WHERE drone = 'D-01'") ?? 0 }
            return points >= 277
        }
        XCTAssertEqual(points, 277)
        try daemon.query { db in
            let first = try XCTUnwrap(Row.fetchOne(db, sql: "SELECT * FROM drone_telemetry ORDER BY ts LIMIT 1"))
            XCTAssertEqual(first["ts"] as Int64?, 1_340_980_354_100)   // 2012-06-29T14:32:34.100Z
            XCTAssertEqual(try XCTUnwrap(first["lat"] as Double?), 34.721153, accuracy: 1e-5)
            XCTAssertEqual(try XCTUnwrap(first["lon"] as Double?), -86.68913, accuracy: 1e-5)
            let v = try XCTUnwrap(Row.fetchOne(db, sql: "SELECT * FROM video_analyses"))
            XCTAssertEqual(v["clock_source"] as String?, "misb_st0601_timestamp")
            XCTAssertEqual(v["track_points"] as Int?, 277)
            // Each says where it came from; none was made into a message of its own.
            XCTAssertEqual(first["origin"] as String?, "misb_st0601")
            XCTAssertEqual(first["segment_inbox_id"] as Int64?, 1)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox"), 1)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM segment_positions"), 0)
        }
        XCTAssertEqual(daemon.stop(), 0)
    }

    /// A clip on a server that never answers occupies a video worker until
    /// its timeout, while MQTT ingest and the rules go on.
    func testASlowVideoNeverHoldsUpIngest() throws {
        let server = try SilentServer()
        let port = server.port
        let (daemon, publisher) = try startDaemon(protocols: ["file", "http"], timeout: 6)
        try publisher.publish("muckwatch/v1/camera/CAM-07/event", event("e-slow", clip: "http://127.0.0.1:\(port)/clip.mp4", offset: 1))
        let start = Date()
        for seq in 0..<300 {
            try publisher.publish("muckwatch/v1/truck/T-0001/telemetry", truckPayload(seq: seq, second: seq))
        }
        try eventually("300 truck reports stored and processed while the video hangs", timeout: 5) {
            try daemon.query { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM truck_telemetry") ?? 0 } == 300
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        let stuck = try daemon.query { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM video_analyses") ?? 0 }
        XCTAssertEqual(stuck, 0, "the video should still be waiting for its server")
        let v = try analysis(daemon, eventId: "e-slow", timeout: 20)
        XCTAssertEqual(v["status"] as String?, "unreadable")
        XCTAssertTrue((v["reason"] as String? ?? "").contains("no answer within 6 s"), "\(v)")
        XCTAssertEqual(daemon.stop(), 0)
        withExtendedLifetime(server) {}
    }
}
