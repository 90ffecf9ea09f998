import Foundation
import MuckwatchCore
import MuckwatchIngest
import MuckwatchRuntime
import MuckwatchScenario
import Synchronization
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// `muckwatch record` and `muckwatch publish`: the real binary against a
/// real mosquitto, with real MQTT clients on the other side.
final class FeedToolsTests: XCTestCase {
    // MARK: record

    func testRecordWritesTextAndBinaryMessagesAndStopsCleanlyOnSIGINT() throws {
        let dir = try temporaryDirectory("record")
        let broker = try TestBroker(dir: dir)
        let config = try writeConfig(dir: dir, brokerURL: broker.url)
        let out = "\(dir)/recorded.jsonl"
        let recorder = try Child(try Tools.binary("muckwatch"), ["record", "--config", config, "--out", out],
                                 log: "\(dir)/record.log")
        try eventually("record to subscribe (log: \(dir)/record.log)", timeout: 20) { recorder.log.contains("recording from") }
        XCTAssertTrue(recorder.log.contains("as 'feedtools-test-record-"), recorder.log)
        XCTAssertTrue(recorder.log.contains("muckwatch/v1/truck/+/telemetry"), recorder.log)

        let publisher = try TestPublisher(port: broker.port, clientId: "record-pub")
        var expected: [(topic: String, payload: [UInt8])] = []
        for i in 0..<50 {
            let topic = "muckwatch/v1/truck/T-\(i % 3)/telemetry"
            let payload = truckPayload(seq: i, second: i)
            try publisher.publish(topic, payload)
            expected.append((topic, Array(payload.utf8)))
            if i == 20 {
                // Not UTF-8: recorded as payload_b64.
                let binary: [UInt8] = [0x7E, 0x02, 0x00, 0xFF, 0xFE, 0x00, 0x7E]
                try publisher.client.publish(topic: "muckwatch/v1/truck/T-bin/telemetry", payload: binary, qos: 1)
                expected.append(("muckwatch/v1/truck/T-bin/telemetry", binary))
                // Not one of the config's topics: not recorded.
                try publisher.publish("elsewhere/T-0/telemetry", "ignored")
            }
        }
        try eventually("the broker to acknowledge every publish") { publisher.client.publishedCount >= expected.count + 1 }
        try eventually("\(expected.count) lines in \(out)") { try lines(of: out).count >= expected.count }

        recorder.signal(SIGINT)
        try eventually("record to stop on SIGINT", timeout: 10) { !recorder.process.isRunning }
        recorder.process.waitUntilExit()
        XCTAssertEqual(recorder.process.terminationStatus, 0, recorder.log)
        XCTAssertTrue(recorder.log.contains("recorded \(expected.count) message(s) to \(out)"), recorder.log)

        let text = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertTrue(text.hasSuffix("\n"), "the last line is incomplete")
        XCTAssertTrue(text.contains(#""payload_b64":"fgIA//4Afg==""#), text)
        let messages = try readFeed(out)
        XCTAssertEqual(messages.map(\.topic), expected.map(\.topic))
        XCTAssertEqual(messages.map(\.payload), expected.map(\.payload))
        XCTAssertTrue(messages.allSatisfy { $0.qos == 1 && !$0.retain })
        XCTAssertEqual(messages.map(\.t), messages.map(\.t).sorted(), "receive times go backwards")
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        XCTAssertTrue(messages.allSatisfy { abs($0.t.millis - now) < 120_000 }, "t is not the receive time")
    }

    func testRecordStopsByItselfAfterCount() throws {
        let dir = try temporaryDirectory("record-count")
        let broker = try TestBroker(dir: dir)
        let config = try writeConfig(dir: dir, brokerURL: broker.url)
        let out = "\(dir)/five.jsonl"
        let recorder = try Child(try Tools.binary("muckwatch"), ["record", "--config", config, "--out", out, "--count", "5"],
                                 log: "\(dir)/record.log")
        try eventually("record to subscribe (log: \(dir)/record.log)", timeout: 20) { recorder.log.contains("recording from") }
        let publisher = try TestPublisher(port: broker.port, clientId: "count-pub")
        for i in 0..<8 {
            try publisher.publish("muckwatch/v1/fume/F-1/reading", #"{"n":\#(i)}"#)
        }
        try eventually("record to stop after 5 messages", timeout: 15) { !recorder.process.isRunning }
        recorder.process.waitUntilExit()
        XCTAssertEqual(recorder.process.terminationStatus, 0, recorder.log)
        XCTAssertTrue(recorder.log.contains("recorded 5 message(s)"), recorder.log)
        XCTAssertEqual(try readFeed(out).map { String(decoding: $0.payload, as: UTF8.self) },
                       (0..<5).map { #"{"n":\#($0)}"# })
    }

    func testRecordDurationStopsAndRefusals() throws {
        let dir = try temporaryDirectory("record-errors")
        let broker = try TestBroker(dir: dir)
        let config = try writeConfig(dir: dir, brokerURL: broker.url)
        let out = "\(dir)/feed.jsonl"

        let quiet = try runMuckwatch(["record", "--config", config, "--out", out, "--duration", "1"], dir: dir, name: "duration")
        XCTAssertEqual(quiet.status, 0, quiet.output)
        XCTAssertTrue(quiet.output.contains("recorded 0 message(s)"), quiet.output)
        XCTAssertLessThan(quiet.seconds, 10)
        XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), "")

        // The file exists now: refused unless --force.
        let exists = try runMuckwatch(["record", "--config", config, "--out", out, "--count", "1"], dir: dir, name: "exists")
        XCTAssertEqual(exists.status, 1)
        assertOneSentence(exists.output, contains: "already exists; pass --force")

        let folder = try runMuckwatch(["record", "--config", config, "--out", "\(dir)/no/such/folder/feed.jsonl"], dir: dir, name: "folder")
        XCTAssertEqual(folder.status, 1)
        assertOneSentence(folder.output, contains: "does not exist")

        let badConfig = try runMuckwatch(["record", "--config", "\(dir)/missing.yaml", "--out", "\(dir)/x.jsonl"], dir: dir, name: "config")
        XCTAssertEqual(badConfig.status, 1)
        assertOneSentence(badConfig.output, contains: "missing.yaml")

        let nobody = try writeConfig(dir: dir, brokerURL: "mqtt://127.0.0.1:\(Loopback.freePort())", name: "nobody.yaml")
        let unreachable = try runMuckwatch(["record", "--config", nobody, "--out", "\(dir)/y.jsonl", "--connect-timeout", "1"],
                                           dir: dir, name: "unreachable")
        XCTAssertEqual(unreachable.status, 1)
        assertOneSentence(unreachable.output, contains: "cannot reach the broker")
        XCTAssertLessThan(unreachable.seconds, 10)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(dir)/y.jsonl"), "a failed record leaves a file behind")

        let usage = try runMuckwatch(["record", "--config", config, "--out", out, "--count", "0"], dir: dir, name: "usage")
        XCTAssertEqual(usage.status, 2, usage.output)
    }

    // MARK: publish

    func testPublishAtFullSpeedDeliversEveryMessageUpToTheLast() throws {
        let dir = try temporaryDirectory("publish")
        let broker = try TestBroker(dir: dir)
        let subscriber = try TestSubscriber(port: broker.port, filter: "feedtest/#")
        let total = 5000
        var feed: [FeedMessage] = []
        let start = Instant(millis: 1_795_000_000_000)
        for i in 0..<total {
            // Every 500th payload is binary (payload_b64 in the file).
            let payload: [UInt8] = i % 500 == 7 ? [0xFF, 0x00, UInt8(i % 256), 0xC3] : Array(#"{"seq":\#(i)}"#.utf8)
            feed.append(FeedMessage(t: start.adding(seconds: Double(i) * 0.5), topic: "feedtest/dev-\(i % 7)/up",
                                    qos: 1, payload: payload))
        }
        let path = "\(dir)/feed.jsonl"
        try writeFeed(feed, to: path)

        let run = try runMuckwatch(["publish", path, "--broker", broker.url, "--speed", "0"], dir: dir, name: "publish", timeout: 120)
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("published \(total) message(s)"), run.output)
        XCTAssertTrue(run.output.contains("all acknowledged"), run.output)
        try eventually("the subscriber to receive \(total) messages", timeout: 60) { subscriber.count >= total }
        Thread.sleep(forTimeInterval: 0.3)
        let received = subscriber.messages
        XCTAssertEqual(received.count, total, "lost or duplicated messages")
        XCTAssertEqual(received.map(\.topic), feed.map(\.topic))
        XCTAssertEqual(received.map(\.payload), feed.map(\.payload))
        XCTAssertEqual(received.last?.payload, Array(#"{"seq":4999}"#.utf8))
    }

    func testPublishPacesByTimestampsAtTheGivenSpeed() throws {
        let dir = try temporaryDirectory("publish-speed")
        let broker = try TestBroker(dir: dir)
        let subscriber = try TestSubscriber(port: broker.port, filter: "feedtest/#")
        // 21 messages, 100 ms apart: 2 s of feed time, 1 s at --speed 2.
        let start = Instant(millis: 1_795_000_000_000)
        let feed = (0...20).map { i in
            FeedMessage(t: start.adding(seconds: Double(i) * 0.1), topic: "feedtest/paced", qos: 1, payload: Array("\(i)".utf8))
        }
        let path = "\(dir)/paced.jsonl"
        try writeFeed(feed, to: path)

        let run = try runMuckwatch(["publish", path, "--broker", broker.url, "--speed", "2"], dir: dir, name: "paced")
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue((0.7...3.0).contains(run.seconds), "took \(run.seconds) s; expected about 1 s")
        try eventually("all 21 paced messages") { subscriber.count >= 21 }
        let arrivals = subscriber.arrivals
        let spread = arrivals.last! - arrivals.first!
        XCTAssertTrue((0.8...1.6).contains(spread), "first to last arrival took \(spread) s; expected about 1 s")
    }

    func testPublishSkipsBadLinesWithTheirNumbersAndStrictStops() throws {
        let dir = try temporaryDirectory("publish-bad")
        let broker = try TestBroker(dir: dir)
        let subscriber = try TestSubscriber(port: broker.port, filter: "feedtest/#")
        let path = "\(dir)/bad.jsonl"
        try """
            {"t":"2026-11-24T13:00:00.000Z","topic":"feedtest/a","qos":1,"retain":false,"payload":"one"}
            {"t":"2026-11-24T13:00:00.100Z","topic":"feedtest/a","payload":
            {"t":"2026-11-24T13:00:00.200Z","topic":"feedtest/a","payload":"two"}
            {"topic":"feedtest/a","payload":"no time"}

            {"t":"2026-11-24T13:00:00.300Z","topic":"feedtest/a","payload_b64":"dGhyZWU="}

            """.write(toFile: path, atomically: true, encoding: .utf8)

        let lenient = try runMuckwatch(["publish", path, "--broker", broker.url, "--speed", "0"], dir: dir, name: "lenient")
        XCTAssertEqual(lenient.status, 1, lenient.output)
        XCTAssertTrue(lenient.output.contains("\(path): line 2: not valid JSON; skipped"), lenient.output)
        XCTAssertTrue(lenient.output.contains("\(path): line 4: no 't' (receive time); skipped"), lenient.output)
        XCTAssertTrue(lenient.output.contains("published 3 message(s)"), lenient.output)
        try eventually("the 3 good messages") { subscriber.count >= 3 }
        XCTAssertEqual(subscriber.messages.map { String(decoding: $0.payload, as: UTF8.self) }, ["one", "two", "three"])

        let strict = try runMuckwatch(["publish", path, "--broker", broker.url, "--speed", "0", "--strict"], dir: dir, name: "strict")
        XCTAssertEqual(strict.status, 1, strict.output)
        XCTAssertTrue(strict.output.contains("\(path): line 2: not valid JSON"), strict.output)
        XCTAssertFalse(strict.output.contains("line 4"), strict.output)
        XCTAssertTrue(strict.output.contains("published 1 message(s)"), strict.output)
        try eventually("the one message before the bad line") { subscriber.count >= 4 }
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertEqual(subscriber.count, 4, "--strict went on past the bad line")

        let missing = try runMuckwatch(["publish", "\(dir)/missing.jsonl", "--broker", broker.url], dir: dir, name: "missing")
        XCTAssertEqual(missing.status, 1)
        assertOneSentence(missing.output, contains: "cannot read the feed \(dir)/missing.jsonl: no such file")

        let badURL = try runMuckwatch(["publish", path, "--broker", "http://127.0.0.1:1883"], dir: dir, name: "url")
        XCTAssertEqual(badURL.status, 2, badURL.output)
    }

    /// What record writes, publish sends back unchanged.
    func testRecordedFeedPublishesBackTheSameMessages() throws {
        let dir = try temporaryDirectory("roundtrip")
        let broker = try TestBroker(dir: dir)
        let config = try writeConfig(dir: dir, brokerURL: broker.url)
        let out = "\(dir)/recorded.jsonl"
        let recorder = try Child(try Tools.binary("muckwatch"), ["record", "--config", config, "--out", out, "--count", "30"],
                                 log: "\(dir)/record.log")
        try eventually("record to subscribe (log: \(dir)/record.log)", timeout: 20) { recorder.log.contains("recording from") }
        let publisher = try TestPublisher(port: broker.port, clientId: "roundtrip-pub")
        for i in 0..<30 {
            try publisher.publish("muckwatch/v1/camera/CAM-\(i % 2)/event", #"{"event_id":"e-\#(i)","note":"渣土车 \#(i)"}"#)
        }
        try eventually("record to stop after 30", timeout: 15) { !recorder.process.isRunning }
        XCTAssertEqual(recorder.process.terminationStatus, 0, recorder.log)

        let subscriber = try TestSubscriber(port: broker.port, filter: "muckwatch/v1/camera/+/event")
        let run = try runMuckwatch(["publish", out, "--broker", broker.url, "--speed", "0"], dir: dir, name: "publish")
        XCTAssertEqual(run.status, 0, run.output)
        try eventually("30 republished messages") { subscriber.count >= 30 }
        let recorded = try readFeed(out)
        XCTAssertEqual(subscriber.messages.map(\.topic), recorded.map(\.topic))
        XCTAssertEqual(subscriber.messages.map(\.payload), recorded.map(\.payload))
    }

    // MARK: helpers

    private func writeConfig(dir: String, brokerURL: String, name: String = "muckwatch.yaml") throws -> String {
        let path = "\(dir)/\(name)"
        try """
            broker:
              url: \(brokerURL)
              client_id: feedtools-test
              reconnect_min_s: 1
              reconnect_max_s: 2
            store:
              path: \(dir)/muckwatch.db
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func writeFeed(_ messages: [FeedMessage], to path: String) throws {
        try (messages.map(\.feedLine).joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    private func readFeed(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> [FeedMessage] {
        try FeedReader(path: path).map { result in
            switch result {
            case .success(let m): return m
            case .failure(let error):
                XCTFail("\(path): \(error)", file: file, line: line)
                throw error
            }
        }
    }

    /// Runs muckwatch to its end; its stdout and stderr together.
    private func runMuckwatch(_ arguments: [String], dir: String, name: String,
                              timeout: Double = 60) throws -> (status: Int32, output: String, seconds: Double) {
        let started = Date()
        let child = try Child(try Tools.binary("muckwatch"), arguments, log: "\(dir)/\(name).log")
        try eventually("muckwatch \(arguments.first ?? "") to finish (log: \(dir)/\(name).log)", timeout: timeout) {
            !child.process.isRunning
        }
        child.process.waitUntilExit()
        return (child.process.terminationStatus, child.log, Date().timeIntervalSince(started))
    }

    /// An error is one line, the sentence starting with `Error: `.
    private func assertOneSentence(_ output: String, contains text: String, file: StaticString = #filePath, line: UInt = #line) {
        let lines = output.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "expected one line, got:\n\(output)", file: file, line: line)
        XCTAssertTrue(output.hasPrefix("Error: ") && output.contains(text), "expected an error about '\(text)', got:\n\(output)",
                      file: file, line: line)
    }
}

private func lines(of path: String) throws -> [Substring] {
    ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
}

/// A real MQTT subscriber (libmosquitto, QoS 1, clean session) that keeps
/// what arrives with its arrival time; ready once it has seen its own probe.
final class TestSubscriber: Sendable {
    private struct State {
        var messages: [Arrival] = []
        var arrivals: [Double] = []
        var probed = false
    }

    private final class Inbox: Sendable {
        let state = Mutex(State())
    }

    let client: MQTTClient
    private let inbox: Inbox

    init(port: Int, filter: String) throws {
        let inbox = Inbox()
        var s = MQTTSettings()
        s.host = "127.0.0.1"
        s.port = port
        s.clientId = "test-sub-\(UUID().uuidString.prefix(8))"
        s.cleanSession = true
        s.subscriptions = [filter, "test-probe/\(s.clientId!)"]
        s.qos = 1
        let probeTopic = "test-probe/\(s.clientId!)"
        client = try MQTTClient(settings: s) { burst in
            let now = Date().timeIntervalSince1970
            inbox.state.withLock { st in
                for m in burst {
                    if m.topic == probeTopic { st.probed = true; continue }
                    st.messages.append(m)
                    st.arrivals.append(now)
                }
            }
        }
        self.inbox = inbox
        try client.start()
        try eventually("the test subscriber to connect", timeout: 10) { client.isConnected }
        let prober = try TestPublisher(port: port, clientId: "prober-\(UUID().uuidString.prefix(8))")
        try eventually("the test subscriber to be subscribed", timeout: 10) {
            try prober.publish(probeTopic, "probe")
            Thread.sleep(forTimeInterval: 0.05)
            return inbox.state.withLock { $0.probed }
        }
    }

    var count: Int { inbox.state.withLock { $0.messages.count } }
    var messages: [Arrival] { inbox.state.withLock { $0.messages } }
    var arrivals: [Double] { inbox.state.withLock { $0.arrivals } }

    deinit { client.stop() }
}
