import Foundation
import GRDB
import MuckwatchStore
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The store's disk fills while messages keep coming (issue 16, item 5:
/// before, the daemon exited with "database or disk is full" and only a
/// restart by systemd brought it back). It must stay up, say so once a
/// minute, acknowledge nothing, and take every message once there is space.
final class DiskFullTests: XCTestCase {
    private var mountPoint: String?

    /// A small tmpfs (24 MB unless told) for the store and the alert log; the
    /// test needs root (CAP_SYS_ADMIN) for it and fails, never skips, without.
    private func smallFilesystem(size: String = "24m") throws -> String {
        let dir = try temporaryDirectory("diskfull-fs")
        let mount = try Tools.require("mount", package: "mount")
        let (status, output) = try run(mount, ["-t", "tmpfs", "-o", "size=\(size),mode=0755", "tmpfs", dir])
        guard status == 0 else {
            XCTFail("""
                cannot mount a \(size) tmpfs on \(dir) (\(output.trimmingCharacters(in: .whitespacesAndNewlines))): \
                this test needs root (CAP_SYS_ADMIN) to mount a small filesystem
                """)
            throw CocoaError(.fileWriteNoPermission)
        }
        mountPoint = dir
        return dir
    }

    override func tearDown() {
        if let mountPoint, let umount = try? Tools.require("umount", package: "mount") {
            if (try? run(umount, [mountPoint]))?.0 != 0 { _ = try? run(umount, ["-l", mountPoint]) }
        }
        mountPoint = nil
        super.tearDown()
    }

    private func run(_ executable: String, _ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        let pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    private func freeBytes(_ path: String) -> Int64 {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return 0 }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    private func lines(_ log: String, containing text: String) -> [String] {
        log.split(separator: "\n").map(String.init).filter { $0.contains(text) }
    }

    func testAFullDiskStopsAcknowledgingAndLosesNothingOnceSpaceReturns() throws {
        let dir = try temporaryDirectory("diskfull")
        let data = try smallFilesystem()
        let broker = try TestBroker(dir: dir)
        // A short keepalive, so that the wait outlasts it: the broker drops
        // the silent connection and must redeliver to the reconnected session.
        let daemon = try TestDaemon(dir: dir, clientId: "mw-diskfull", broker: "url: \(broker.url)\nkeepalive_s: 5",
                                    dataDir: data)
        try daemon.start()
        let publisher = try TestPublisher(port: broker.port, clientId: "diskfull-pub")

        // Leave the store about 1 MB.
        let filler = "\(data)/filler"
        let fillerBytes = freeBytes(data) - 1_000_000
        XCTAssertGreaterThan(fillerBytes, 8_000_000, "the tmpfs is smaller than the test thinks")
        XCTAssertTrue(FileManager.default.createFile(atPath: filler, contents: Data(count: Int(fillerBytes))),
                      "cannot write the filler file")

        var seq = 0
        func publish(_ n: Int) throws {
            for _ in 0..<n {
                try publisher.publish("muckwatch/v1/truck/T-\(seq % 7)/telemetry", truckPayload(seq: seq, second: seq % 7200))
                seq += 1
            }
        }
        while !daemon.log.contains("disk full:") {
            guard daemon.isRunning else { return XCTFail("the daemon exited as the disk filled; log: \(daemon.log)") }
            guard seq < 60_000 else { return XCTFail("the disk never filled; log: \(daemon.log)") }
            try publish(100)
            Thread.sleep(forTimeInterval: 0.02)
        }
        let beforeFull = seq
        // Messages that arrive while the disk is full.
        try publish(500)
        try publisher.waitAllAcknowledged()
        let storedWhileFull = try daemon.query { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM inbox") ?? 0 }
        XCTAssertLessThan(storedWhileFull, seq, "everything was stored: the disk was not full")
        // The MQTT thread waits without a word to the broker, which drops
        // the connection past its keepalive limit (1.5 × 5 s, checked every
        // few seconds) and must redeliver what it holds to the reconnected session.
        try eventually("the broker to drop the silent connection", timeout: 20) {
            ((try? String(contentsOfFile: "\(dir)/broker-1.log", encoding: .utf8)) ?? "").contains("mw-diskfull has exceeded timeout")
        }
        XCTAssertEqual(try daemon.query { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM inbox") }, storedWhileFull,
                       "the store took messages while the disk was full")
        XCTAssertTrue(daemon.isRunning, "the daemon stopped on a full disk; log: \(daemon.log)")
        let fullLines = lines(daemon.log, containing: "disk full:")
        XCTAssertEqual(fullLines.count, 1, "one line a minute, not: \(fullLines.joined(separator: "\n"))")
        XCTAssertTrue(fullLines[0].contains(daemon.dbPath), fullLines[0])
        XCTAssertTrue(fullLines[0].contains("Nothing is being acknowledged"), fullLines[0])
        XCTAssertTrue(fullLines[0].contains("bytes left"), fullLines[0])

        try FileManager.default.removeItem(atPath: filler)
        try eventually("all \(seq) messages (\(seq - beforeFull) after the disk filled) stored and processed", timeout: 20) {
            try daemon.query { try Int.fetchOne($0, sql: "SELECT COUNT(DISTINCT seq) FROM truck_telemetry") } == seq
        }
        try daemon.query { db in
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox"), seq)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM truck_telemetry"), seq)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT MIN(seq) FROM truck_telemetry"), 0)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT MAX(seq) FROM truck_telemetry"), seq - 1)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM dead_letters"), 0)
        }
        try eventually("the daemon to say it resumed", timeout: 5) { daemon.log.contains("disk space is back") }
        // The broker dropped the silent connection and the daemon reconnected.
        XCTAssertTrue(daemon.log.contains("disconnected from"), daemon.log)
        XCTAssertTrue(daemon.isRunning)
        XCTAssertEqual(lines(daemon.log, containing: "disk full:").count, 1)
        XCTAssertEqual(daemon.stop(SIGTERM), 0, daemon.log)
    }

    /// A full disk takes the first part of an alert line and refuses the
    /// rest: the part is cut off, so the line written once there is space
    /// again is whole, and the file holds only whole lines.
    func testAnAlertLineTheFullDiskRefusesLeavesNoPartLine() throws {
        let data = try smallFilesystem(size: "64k")
        let log = try AlertLog(path: "\(data)/alerts.jsonl")
        let filler = "\(data)/filler"
        XCTAssertTrue(FileManager.default.createFile(atPath: filler, contents: Data(count: 20_000)))
        // 1 501 bytes a line: lines straddle the 4 KB pages tmpfs hands out.
        func line(_ n: Int) -> String { "{\"alert\":\(n),\"pad\":\"" + String(repeating: "x", count: 1_470 - String(n).count) + "\"}" }
        var written = 0
        var refusal: (any Error)?
        while refusal == nil && written < 1_000 {
            do {
                try log.append([line(written)])
                written += 1
            } catch {
                refusal = error
            }
        }
        let error = try XCTUnwrap(refusal, "the 64 KB filesystem never filled")
        XCTAssertTrue(StoreError.isDiskFull(error), "not recognised as a full disk: \(error)")
        var text = try String(contentsOfFile: "\(data)/alerts.jsonl", encoding: .utf8)
        XCTAssertEqual(text.split(separator: "\n").map(String.init), (0..<written).map(line), "the file holds a part line")

        try FileManager.default.removeItem(atPath: filler)
        try log.append([line(written)])
        text = try String(contentsOfFile: "\(data)/alerts.jsonl", encoding: .utf8)
        XCTAssertEqual(text.split(separator: "\n").map(String.init), (0...written).map(line))
        XCTAssertTrue(text.hasSuffix("\n"))
    }
}
