import Foundation
import GRDB
import XCTest

/// The files the daemon writes, as a sysadmin and logrotate treat them
/// (issue 14, items 4, 6 and 10): a copytruncate of the alert log while the
/// daemon runs; the chain heads beside it; the modes of everything it creates
/// whatever the umask.
final class DaemonFilesTests: XCTestCase {
    private func spill(_ n: Int) -> String {
        #"{"camera":"CAM-03","event_id":"e-\#(n)","ts":"2026-11-24T21:2\#(n):05+08:00","type":"spill","plate":"粤B6789\#(n)","confidence":0.88,"lat":22.5501,"lon":114.0612}"#
    }

    func testCopytruncateWhileTheDaemonRunsLosesNoAlertAndLeavesNoHole() throws {
        let dir = try temporaryDirectory("copytruncate")
        let broker = try TestBroker(dir: dir)
        let daemon = try TestDaemon(dir: dir, brokerURL: broker.url)
        try daemon.start()
        let publisher = try TestPublisher(port: broker.port, clientId: "copytruncate-pub")
        try publisher.publish("muckwatch/v1/camera/CAM-03/event", spill(1))
        try publisher.publish("muckwatch/v1/camera/CAM-03/event", spill(2))
        try eventually("2 alert lines") { daemon.alertLines.count == 2 }

        // What logrotate's copytruncate does: copy, then truncate in place.
        try FileManager.default.copyItem(atPath: daemon.alertLogPath, toPath: daemon.alertLogPath + ".1")
        XCTAssertEqual(truncate(daemon.alertLogPath, 0), 0)
        try publisher.publish("muckwatch/v1/camera/CAM-03/event", spill(3))
        try eventually("the third alert line") { daemon.alertLines.count == 1 }

        let bytes = try Data(contentsOf: URL(fileURLWithPath: daemon.alertLogPath))
        XCTAssertFalse(bytes.contains(0), "the alert log starts with NUL bytes: the line was written at the old offset")
        let line = try XCTUnwrap(JSONSerialization.jsonObject(with: bytes) as? [String: Any])
        XCTAssertEqual(line["case_id"] as? String, "MW-20261124-0003")
        let tail = try runCommand(Tools.binary("muckwatch"), ["tail", "--alerts", daemon.alertLogPath])
        XCTAssertTrue(tail.out.contains("MW-20261124-0003"), tail.out + tail.err)

        // The heads beside the log, which verify holds the store against.
        let heads = try String(contentsOfFile: "\(dir)/chain-heads.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertGreaterThanOrEqual(heads.count, 2)
        XCTAssertTrue(String(line["chain"] as? String ?? "").count == 64)
        XCTAssertEqual(daemon.stop(), 0)
        let verify = try runCommand(Tools.binary("muckwatch"), ["verify", "--db", daemon.dbPath, "--alert-log", daemon.alertLogPath])
        XCTAssertEqual(verify.status, 0, verify.err)
        XCTAssertTrue(verify.out.hasPrefix("verified 3 cases, 3 evidence rows"), verify.out)
    }

    /// With a umask that lets everyone read (0000), nothing the daemon creates
    /// may be readable by others: the store holds every message and the cases.
    func testTheStoreAndItsFilesAreNotReadableByOthersWhateverTheUmask() throws {
        let dir = try temporaryDirectory("modes")
        let broker = try TestBroker(dir: dir)
        let daemon = try TestDaemon(dir: dir, brokerURL: broker.url)
        let old = umask(0)
        defer { umask(old) }
        try daemon.start()
        umask(old)
        let publisher = try TestPublisher(port: broker.port, clientId: "modes-pub")
        try publisher.publish("muckwatch/v1/camera/CAM-03/event", spill(1))
        try eventually("1 alert line") { daemon.alertLines.count == 1 }
        for suffix in ["", "-wal", "-shm"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: daemon.dbPath + suffix)
            let mode = (attributes[.posixPermissions] as? Int ?? 0o777) & 0o777
            XCTAssertEqual(mode & 0o007, 0, "\(daemon.dbPath + suffix) is mode \(String(mode, radix: 8))")
            XCTAssertEqual(mode & 0o020, 0, "\(daemon.dbPath + suffix) is group-writable")
        }
        for path in [daemon.alertLogPath, "\(dir)/chain-heads.jsonl"] {
            let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int ?? 0o777) & 0o777
            XCTAssertEqual(mode, 0o640, "\(path) is mode \(String(mode, radix: 8))")
        }
    }

    /// `verify` while the daemon opens cases and writes heads: it reads the
    /// heads outside the store before its snapshot, so a head newer than the
    /// snapshot is never taken for a store cut back.
    func testVerifyWhileTheDaemonWritesNeverFails() throws {
        let dir = try temporaryDirectory("verify-live")
        let broker = try TestBroker(dir: dir)
        let daemon = try TestDaemon(dir: dir, brokerURL: broker.url)
        try daemon.start()
        let publisher = try TestPublisher(port: broker.port, clientId: "verify-live-pub")
        var runs = 0
        for n in 0..<40 {
            // A new plate each time: a new case, its alert line and its head.
            try publisher.publish("muckwatch/v1/camera/CAM-0\(n % 5)/event",
                                  #"{"camera":"CAM-0\#(n % 5)","event_id":"v-\#(n)","ts":"2026-11-24T21:\#(10 + n % 40):05+08:00","type":"spill","plate":"粤B5\#(1000 + n)","confidence":0.9,"lat":22.55,"lon":114.06}"#)
            if n % 4 == 3 {
                let verify = try runCommand(Tools.binary("muckwatch"), ["verify", "--db", daemon.dbPath, "--alert-log", daemon.alertLogPath])
                XCTAssertEqual(verify.status, 0, "verify while the daemon writes (after \(n + 1) events): \(verify.err)")
                runs += 1
            }
        }
        try eventually("40 alert lines") { daemon.alertLines.count == 40 }
        let verify = try runCommand(Tools.binary("muckwatch"), ["verify", "--db", daemon.dbPath, "--alert-log", daemon.alertLogPath])
        XCTAssertEqual(verify.status, 0, verify.err)
        XCTAssertTrue(verify.out.hasPrefix("verified 40 cases"), verify.out)
        XCTAssertEqual(runs, 10)
    }

    /// At start the daemon writes a head the heads file missed (a crash
    /// between commit and heads line), but never over a head the store no
    /// longer holds (a store cut back while the daemon was stopped).
    func testAtStartALaggingHeadsFileCatchesUpButAForeignHeadIsReported() throws {
        let dir = try temporaryDirectory("heads-start")
        let broker = try TestBroker(dir: dir)
        let daemon = try TestDaemon(dir: dir, brokerURL: broker.url)
        try daemon.start()
        let publisher = try TestPublisher(port: broker.port, clientId: "heads-start-pub")
        try publisher.publish("muckwatch/v1/camera/CAM-03/event", spill(1))
        try eventually("1 alert line") { daemon.alertLines.count == 1 }
        XCTAssertEqual(daemon.stop(), 0)
        let heads = "\(dir)/chain-heads.jsonl"
        let written = try String(contentsOfFile: heads, encoding: .utf8)
        try "".write(toFile: heads, atomically: false, encoding: .utf8)   // the crash lost its line

        try daemon.start()
        // The same seq and head, written at another time.
        let last = try XCTUnwrap(written.split(separator: "\n").last?.split(separator: ",\"at\"").first)
        try eventually("the head written again") { (try? String(contentsOfFile: heads, encoding: .utf8))?.hasPrefix(String(last)) ?? false }
        XCTAssertEqual(daemon.stop(), 0)
        XCTAssertEqual(try runCommand(Tools.binary("muckwatch"), ["verify", "--db", daemon.dbPath, "--alert-log", daemon.alertLogPath]).status, 0)

        // A head the store never had: no new head over it, and a critical line.
        let foreign = #"{"seq":99,"head":"\#(String(repeating: "0", count: 64))","at":"2026-12-03T00:00:00.000Z"}"# + "\n"
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: heads))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(foreign.utf8))
        try handle.close()
        try daemon.start()
        try eventually("the cut-back store reported") { daemon.log.contains("the store was cut back or rewritten") }
        XCTAssertTrue(try String(contentsOfFile: heads, encoding: .utf8).hasSuffix(foreign), "nothing written after the foreign head")
    }
}
