import Foundation
import GRDB
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Nothing accepted is lost, nothing is stored twice: a daemon killed with
/// SIGKILL mid-stream, and a broker restarted mid-stream.
final class DurabilityTests: XCTestCase {
    let count = 3000

    private func publishStream(_ publisher: TestPublisher, range: Range<Int>) throws {
        for seq in range {
            try publisher.publish("muckwatch/v1/truck/T-\(seq % 7)/telemetry", truckPayload(seq: seq, second: seq % 7200))
        }
    }

    /// Every published sequence number is in the store exactly once.
    private func assertExactlyOnce(_ daemon: TestDaemon, file: StaticString = #filePath, line: UInt = #line) throws {
        try eventually("all \(count) messages stored and processed", timeout: 90) {
            try daemon.query { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM truck_telemetry") == count
            }
        }
        try daemon.query { db in
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox"), count, file: file, line: line)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT seq) FROM truck_telemetry"), count, file: file, line: line)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT MIN(seq) FROM truck_telemetry"), 0, file: file, line: line)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT MAX(seq) FROM truck_telemetry"), count - 1, file: file, line: line)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM dead_letters"), 0, file: file, line: line)
        }
    }

    func testSIGKILLMidStreamLosesNothingAndStoresNothingTwice() throws {
        let dir = try temporaryDirectory("sigkill")
        let broker = try TestBroker(dir: dir)
        let daemon = try TestDaemon(dir: dir, brokerURL: broker.url, clientId: "mw-sigkill")
        try daemon.start()
        let publisher = try TestPublisher(port: broker.port, clientId: "sigkill-pub")
        // Publish in small paced chunks and kill the daemon as soon as it has
        // stored a quarter, with the rest of the stream still to come (on a
        // fast machine a stream published in one go is stored before any kill).
        var next = 0
        var stored = 0
        while next < count {
            try publishStream(publisher, range: next..<min(count, next + 50))
            next = min(count, next + 50)
            Thread.sleep(forTimeInterval: 0.005)
            stored = try daemon.query { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM inbox") ?? 0 }
            if stored >= count / 4 { break }
        }
        XCTAssertEqual(daemon.stop(SIGKILL), SIGKILL)
        XCTAssertLessThan(next, count, "the stream finished before the kill; the test proves nothing")
        try publishStream(publisher, range: next..<count)
        try publisher.waitAllAcknowledged()
        try daemon.start()
        try assertExactlyOnce(daemon)
        XCTAssertEqual(daemon.stop(SIGTERM), 0)
    }

    func testBrokerRestartMidStreamLosesNothingAndStoresNothingTwice() throws {
        let dir = try temporaryDirectory("brokerrestart")
        let broker = try TestBroker(dir: dir)
        let daemon = try TestDaemon(dir: dir, brokerURL: broker.url, clientId: "mw-restart")
        try daemon.start()
        let publisher = try TestPublisher(port: broker.port, clientId: "restart-pub")
        try publishStream(publisher, range: 0..<(count / 2))
        try eventually("the daemon to have stored some of the stream") {
            try daemon.query { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM inbox") ?? 0 } >= count / 8
        }
        broker.stop(SIGTERM)
        try broker.start()
        try publishStream(publisher, range: (count / 2)..<count)
        try publisher.waitAllAcknowledged()
        try assertExactlyOnce(daemon)
        XCTAssertTrue(daemon.log.contains("disconnected from"), daemon.log)
        XCTAssertEqual(daemon.stop(SIGTERM), 0)
    }
}
