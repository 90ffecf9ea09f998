// Integration-test support: a real mosquitto on a free loopback port, the
// real muckwatchd binary, and a real MQTT publisher. Nothing is mocked.
import Foundation
import GRDB
import MuckwatchIngest
import MuckwatchScenario
import XCTest

#if canImport(Glibc)
import Glibc
#endif

enum Tools {
    /// The path of a required system tool; a missing one fails the test and
    /// names the Debian package that provides it.
    static func require(_ name: String, package: String) throws -> String {
        for dir in ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"] {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        XCTFail("'\(name)' is not installed: apt-get install \(package) (or run `make test`, which installs it)")
        throw CocoaError(.fileNoSuchFile)
    }

    /// Where `swift build` put our executables (next to the test bundle).
    static func binary(_ name: String) throws -> String {
        var candidates: [String] = []
        if let dir = ProcessInfo.processInfo.environment["MUCKWATCH_BIN_DIR"] { candidates.append(dir) }
        let testBinary = URL(fileURLWithPath: CommandLine.arguments.first { $0.contains(".xctest") } ?? CommandLine.arguments[0])
        var dir = testBinary.deletingLastPathComponent()
        while dir.path.contains(".xctest") { dir = dir.deletingLastPathComponent() }
        candidates.append(dir.path)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug").path)
        for c in candidates where FileManager.default.isExecutableFile(atPath: "\(c)/\(name)") { return "\(c)/\(name)" }
        XCTFail("\(name) is not built (looked in \(candidates.joined(separator: ", "))); run `swift build --build-tests` first")
        throw CocoaError(.fileNoSuchFile)
    }
}

/// Polls until `condition` holds or `timeout` passes.
func eventually(_ what: String, timeout: TimeInterval = 30, file: StaticString = #filePath, line: UInt = #line,
                _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return }
        Thread.sleep(forTimeInterval: 0.05)
    }
    XCTFail("timed out after \(Int(timeout)) s waiting for \(what)", file: file, line: line)
    throw CocoaError(.userCancelled)
}

/// A child process with its output in a file.
final class Child {
    let process = Process()
    let logPath: String

    init(_ executable: String, _ arguments: [String], log: String) throws {
        logPath = log
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func signal(_ sig: Int32) { if process.isRunning { kill(process.processIdentifier, sig) } }

    func stop(_ sig: Int32 = SIGTERM) {
        signal(sig)
        process.waitUntilExit()
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
}

/// A mosquitto broker on a free loopback port, configured by the test:
/// persistence on (saved every second) and a large queue, as shipped.
final class TestBroker {
    let port: Int
    let dir: String
    private let executable: String
    private var child: Child?
    private var starts = 0

    init(dir: String) throws {
        executable = try Tools.require("mosquitto", package: "mosquitto")
        port = Loopback.freePort()
        self.dir = dir
        try FileManager.default.createDirectory(atPath: "\(dir)/broker", withIntermediateDirectories: true)
        try """
            listener \(port) 127.0.0.1
            allow_anonymous true
            user \(NSUserName())
            persistence true
            persistence_location \(dir)/broker/
            autosave_interval 1
            max_queued_messages 200000
            max_inflight_messages 1000
            """.write(toFile: "\(dir)/mosquitto.conf", atomically: true, encoding: .utf8)
        try start()
    }

    var url: String { "mqtt://127.0.0.1:\(port)" }

    func start() throws {
        starts += 1
        child = try Child(executable, ["-c", "\(dir)/mosquitto.conf"], log: "\(dir)/broker-\(starts).log")
        try eventually("mosquitto to listen on port \(port)", timeout: 10) { Loopback.accepts(port: port) }
    }

    func stop(_ sig: Int32 = SIGTERM) {
        child?.stop(sig)
        child = nil
    }

    deinit { stop() }
}

/// The real daemon binary with a config written by the test.
final class TestDaemon {
    let dir: String
    /// Where the store and the alert log are (`dir` unless told otherwise).
    let dataDir: String
    let clientId: String
    let configPath: String
    var dbPath: String { "\(dataDir)/muckwatch.db" }
    var alertLogPath: String { "\(dataDir)/alerts.jsonl" }
    private var child: Child?
    private var starts = 0

    convenience init(dir: String, brokerURL: String, clientId: String = "muckwatchd-test", dataDir: String? = nil,
                     extraYAML: String = "") throws {
        try self.init(dir: dir, clientId: clientId, broker: "url: \(brokerURL)", dataDir: dataDir, extraYAML: extraYAML)
    }

    /// `broker` holds the lines of the config's `broker:` block (unindented);
    /// the client id and a short reconnect backoff are added to them.
    init(dir: String, clientId: String = "muckwatchd-test", broker: String, dataDir: String? = nil,
         extraYAML: String = "") throws {
        self.dir = dir
        self.dataDir = dataDir ?? dir
        self.clientId = clientId
        configPath = "\(dir)/muckwatch.yaml"
        let brokerBlock = (broker.split(separator: "\n").map(String.init) + [
            "client_id: \(clientId)", "reconnect_min_s: 1", "reconnect_max_s: 2",
        ]).map { "  " + $0 }.joined(separator: "\n")
        try """
            broker:
            \(brokerBlock)
            store:
              path: \(self.dataDir)/muckwatch.db
            alerts:
              log: \(self.dataDir)/alerts.jsonl
            registry:
              trucks:
                - device: T-0001
                  plate: 粤B12345
                  company: 深圳市示例渣土运输有限公司
                  empty_kg: 12000
                  phone: "013912345678"
            \(extraYAML)
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    var log: String { child?.log ?? "" }
    /// The log of the latest start.
    var logPath: String { "\(dir)/muckwatchd-\(starts).log" }
    /// The running daemon's process id.
    var pid: Int32? { child.map { $0.process.processIdentifier } }
    var isRunning: Bool { child?.process.isRunning ?? false }

    /// Starts the daemon and, unless told not to, waits for its subscription.
    func start(waitForSubscription: Bool = true) throws {
        starts += 1
        child = try Child(try Tools.binary("muckwatchd"), ["--config", configPath, "--log-level", "info"], log: logPath)
        guard waitForSubscription else { return }
        try eventually("muckwatchd to subscribe (log: \(logPath))", timeout: 20) {
            self.log.contains("subscribed to")
        }
    }

    func signal(_ sig: Int32) { child?.signal(sig) }

    func stop(_ sig: Int32 = SIGTERM) -> Int32 {
        guard let child else { return 0 }
        child.stop(sig)
        self.child = nil
        return child.process.terminationStatus
    }

    var alertLines: [String] {
        ((try? String(contentsOfFile: alertLogPath, encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
    }

    /// Reads the store the way an operator's tool would.
    func query<T>(_ body: (Database) throws -> T) throws -> T {
        let queue = try DatabaseQueue(path: dbPath, configuration: { var c = Configuration(); c.readonly = true; return c }())
        return try queue.read(body)
    }

    deinit { _ = stop(SIGKILL) }
}

/// A real MQTT publisher (libmosquitto, QoS 1) with a persistent session, so
/// messages in flight survive a broker restart.
final class TestPublisher {
    let client: MQTTClient
    private(set) var sent = 0

    init(port: Int, clientId: String) throws {
        var s = MQTTSettings()
        s.host = "127.0.0.1"
        s.port = port
        s.clientId = clientId
        s.cleanSession = false
        s.reconnectMinS = 1
        s.reconnectMaxS = 1
        s.maxInflight = 100
        client = try MQTTClient(settings: s)
        try client.start()
        try eventually("publisher \(clientId) to connect to 127.0.0.1:\(port)", timeout: 10) { client.isConnected }
    }

    func publish(_ topic: String, _ payload: String) throws {
        try publish(topic, Array(payload.utf8))
    }

    func publish(_ topic: String, _ payload: [UInt8]) throws {
        // While disconnected libmosquitto may refuse; retry until it queues.
        let deadline = Date().addingTimeInterval(30)
        while true {
            do {
                try client.publish(topic: topic, payload: payload, qos: 1)
                sent += 1
                return
            } catch where Date() < deadline {
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
    }

    func waitAllAcknowledged(timeout: TimeInterval = 60) throws {
        try eventually("the broker to acknowledge \(sent) publishes", timeout: timeout) { client.publishedCount >= sent }
    }

    deinit { client.stop() }
}

func temporaryDirectory(_ name: String) throws -> String {
    let dir = NSTemporaryDirectory() + "muckwatch-\(name)-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

func truckPayload(seq: Int, second: Int, cover: String = "closed", load: String = "full", speed: Double = 30,
                  device: String? = nil) -> String {
    let base = RFC3339Base.instant(second: second)
    return """
        {\(device.map { "\"device\":\"\($0)\"," } ?? "")"ts":"\(base)","lat":22.54321,"lon":114.05786,"speed_kmh":\(speed),\
        "cover":"\(cover)","load":"\(load)","seq":\(seq)}
        """
}

enum RFC3339Base {
    /// 2026-11-24T21:15:00+08:00 plus `second` seconds, as RFC 3339 text.
    static func instant(second: Int) -> String {
        let h = 21 + (15 * 60 + second) / 3600
        let m = ((15 * 60 + second) / 60) % 60
        let s = second % 60
        return String(format: "2026-11-24T%02d:%02d:%02d+08:00", h, m, s)
    }
}
