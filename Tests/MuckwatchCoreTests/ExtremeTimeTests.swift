import Foundation
import MuckwatchCore
import XCTest

/// An epoch-ms `ts` is any JSON integer a device sends. Absurd values must end
/// as dead letters: a crash while processing leaves the message pending in the
/// inbox, so the daemon would crash again at every restart. Each check runs in
/// a child process so that a crash fails only its own test.
final class ExtremeTimeTests: XCTestCase {
    static let childVariable = "MUCKWATCH_EXTREME_TIME_CHILD"
    let arrival = Instant(millis: 1_795_526_200_000)  // 2026-11-24T13:16:40Z

    func testEarliestInt64EpochMillisIsADeadLetter() throws {
        try runInChild("decode-int64-min")
    }

    func testSpillNearTheEarliestInstantIsADeadLetter() throws {
        try runInChild("spill-near-int64-min")
    }

    func testLatestInt64EpochMillisIsFutureTime() throws {
        try runInChild("decode-int64-max")
    }

    /// The child's side: does nothing unless started by `runInChild`.
    func testChild() throws {
        switch ProcessInfo.processInfo.environment[Self.childVariable] {
        case "decode-int64-min":
            let result = PayloadDecoder().decode(
                message(Topic.truck(), #"{"ts":-9223372036854775808,"lat":22.5,"lon":114}"#, arrivedAt: arrival))
            let f = try failure(result)
            XCTAssertTrue([.outOfRange, .invalidValue].contains(f.reason), "\(f.reason): \(f.detail)")
            XCTAssertTrue(f.detail.contains("'ts'"), f.detail)
        case "spill-near-int64-min":
            // ts - arrival is exactly Int64.min: not in the future, so it passes the decoder's time check.
            let payload = #"{"camera":"CAM-07","ts":-9223370241328575808,"type":"spill","plate":"粤B12345","confidence":0.9}"#
            let out = Pipeline(settings: testSettings()).process([message(Topic.camera(), payload, arrivedAt: arrival)],
                                                                  ledger: SetLedger())
            XCTAssertEqual(out.alerts, [])
            XCTAssertEqual(out.deadLetters.count, 1)
        case "decode-int64-max":
            let f = try failure(PayloadDecoder().decode(
                message(Topic.truck(), #"{"ts":9223372036854775807,"lat":22.5,"lon":114}"#, arrivedAt: arrival)))
            XCTAssertTrue([.futureTime, .outOfRange, .invalidValue].contains(f.reason), "\(f.reason): \(f.detail)")
        default:
            break
        }
    }

    private func runInChild(_ check: String, file: StaticString = #filePath, line: UInt = #line) throws {
        #if os(Linux)
        // On Linux the test bundle is an executable that runs the tests named on its command line.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["MuckwatchCoreTests.ExtremeTimeTests/testChild"]
        var environment = ProcessInfo.processInfo.environment
        environment[Self.childVariable] = check
        environment["SWIFT_BACKTRACE"] = "enable=yes,interactive=no,color=no"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let interesting = text.split(separator: "\n")
            .filter { $0.contains("error:") || $0.contains("runtime failure") || $0.contains("Fatal error") || $0.contains("/Sources/") }
            .joined(separator: "\n")
        if process.terminationReason == .uncaughtSignal {
            XCTFail("the check '\(check)' crashed (signal \(process.terminationStatus)):\n\(interesting)", file: file, line: line)
        } else {
            XCTAssertEqual(process.terminationStatus, 0, "the check '\(check)' failed:\n\(interesting)", file: file, line: line)
        }
        #else
        setenv(Self.childVariable, check, 1)
        defer { unsetenv(Self.childVariable) }
        try testChild()
        #endif
    }
}
