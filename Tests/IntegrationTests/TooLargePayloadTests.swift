import MuckwatchCore
import Foundation
import GRDB
import XCTest

/// Issue 14, item 8: a payload above `limits.max_payload_bytes`, from a
/// broker configured without a size limit (as this test's broker is).
final class TooLargePayloadTests: XCTestCase {
    /// kB from /proc/PID/status (`VmRSS`, `VmHWM`).
    func memory(_ pid: Int32, _ field: String) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix(field + ":") })
        return try XCTUnwrap(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
    }

    func testTwoMebibytePayloadIsATooLargeDeadLetterKeepingFourKibibytes() throws {
        let dir = try temporaryDirectory("too-large")
        let broker = try TestBroker(dir: dir)
        let daemon = try TestDaemon(dir: dir, brokerURL: broker.url)
        try daemon.start()
        let pid = try XCTUnwrap(daemon.pid)
        let publisher = try TestPublisher(port: broker.port, clientId: "too-large-pub")
        let topic = "muckwatch/v1/truck/T-0001/telemetry"

        var big = Array(#"{"device":"T-0001","ts":"2026-11-24T21:15:00+08:00","lat":22.5,"lon":114.0,"pad":""#.utf8)
        big += [UInt8](repeating: UInt8(ascii: "a"), count: 2 * 1_048_576)
        big += Array(#""}"#.utf8)
        var other = big
        other[other.count - 3] = UInt8(ascii: "b")   // the same first 4 KiB, another whole
        let hash = Digest.sha256Hex(big)
        let otherHash = Digest.sha256Hex(other)
        let rssBefore = try memory(pid, "VmRSS")

        try publisher.publish(topic, big)
        try publisher.publish(topic, big)      // the same bytes again: a repeat by the whole's hash
        try publisher.publish(topic, other)
        try publisher.publish(topic, #"{"device":"T-0001","ts":"2026-11-24T21:15:05+08:00","lat":22.5,"lon":114.0}"#)
        try publisher.waitAllAcknowledged()

        try eventually("the messages processed") {
            try daemon.query { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox WHERE id > COALESCE((SELECT value FROM pipeline_state WHERE key='last_inbox_id'), 0)") == 0
                    && Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox") == 3
            }
        }
        let letters = try daemon.query { db in
            try Row.fetchAll(db, sql: """
                SELECT d.reason, length(d.payload), d.detail, i.sha256, length(i.payload)
                FROM dead_letters d JOIN inbox i ON i.id = d.inbox_id ORDER BY d.id
                """)
        }
        XCTAssertEqual(letters.count, 2)
        for (row, whole) in zip(letters, [hash, otherHash]) {
            XCTAssertEqual(row[0] as String, "too_large")
            XCTAssertEqual(row[1] as Int, 4096, "the dead letter keeps the first 4 KiB")
            XCTAssertEqual(row[2] as String, "payload is \(big.count) bytes, above limits.max_payload_bytes 1048576; its first 4096 bytes are kept, sha256 of the whole \(whole)")
            XCTAssertEqual(row[3] as String, whole, "the inbox row carries the whole payload's hash")
            XCTAssertEqual(row[4] as Int, 4096, "the inbox keeps only the head")
        }
        XCTAssertEqual(try daemon.query { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM duplicates WHERE kind = 'redelivery'") }, 1)
        XCTAssertEqual(try daemon.query { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM truck_telemetry") }, 1,
                       "the message after them is processed")
        XCTAssertTrue(daemon.isRunning, daemon.log)
        // Three 2 MiB payloads passed through libmosquitto's buffers, not into ours.
        let rssAfter = try memory(pid, "VmRSS")
        let peak = try memory(pid, "VmHWM")
        XCTAssertLessThan(rssAfter - rssBefore, 32 * 1024, "RSS \(rssBefore) → \(rssAfter) kB")
        XCTAssertLessThan(peak, rssBefore + 48 * 1024, "peak \(peak) kB against \(rssBefore) kB before")
        XCTAssertEqual(daemon.stop(), 0)
    }
}
