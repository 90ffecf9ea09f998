import ArgumentParser
import Foundation
import MuckwatchIngest
import MuckwatchScenario
import MuckwatchStore

#if canImport(Glibc)
import Glibc
#endif

/// `muckwatch bench`: the ingest hot path against real peers, in one run on
/// one machine. It starts its own loopback mosquitto, then
///  1. in each of `rounds` rounds, times `mosquitto_sub` receiving N truck
///     messages at QoS 1, then muckwatchd storing (and processing) the same N;
///     the medians are compared,
///  2. publishes at a fixed rate with spill events mixed in and measures
///     publish → alert-line latency.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark ingest against mosquitto_sub and publish→alert latency (use a release build).")

    @Option(help: "Messages for the throughput runs.")
    var count = 200_000

    @Option(help: "Rounds of the throughput runs (peer, then daemon, each round); medians are compared.")
    var rounds = 3

    @Option(help: "Publish rate (msg/s) for the latency run.")
    var rate = 5000

    @Option(help: "Length of the latency run in seconds.")
    var seconds = 10

    @Option(help: "One message in this many is a spill event that raises an alert (latency run).")
    var alertEvery = 50

    @OptionGroup var rigOptions: BenchRig.Options

    func run() async throws {
        let work = NSTemporaryDirectory() + "muckwatch-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { if !rigOptions.keep { try? FileManager.default.removeItem(atPath: work) } }
        let mosquittoSub = try tool("mosquitto_sub", package: "mosquitto-clients")
        // The daemon runs throughout; the peer's rounds publish the same
        // payloads under a topic prefix of the same length that the daemon
        // does not subscribe to.
        let rig = try BenchRig(work: work, daemon: rigOptions.daemon)
        defer { rig.stop() }
        let (port, db, alerts, daemonLog) = (rig.port, rig.db, rig.alerts, rig.daemonLog)
        say("broker: mosquitto on 127.0.0.1:\(port); \(count) truck messages of ~\(payload(0).utf8.count) B, QoS 1")
        let store = try SQLiteStore(path: db)

        var subRates: [Double] = [], daemonRates: [Double] = []
        for round in 1...rounds {
            // The peer: mosquitto_sub.
            let sub = try Spawned(mosquittoSub, ["-h", "127.0.0.1", "-p", "\(port)", "-q", "1", "-i", "bench-sub",
                                                 "-t", "mosquitto/v1/truck/+/telemetry", "-C", "\(count)"],
                                  log: "/dev/null")
            try await Task.sleep(for: .milliseconds(500))
            var start = monotonic()
            try publishAll(port: port, clientId: "bench-pub-s\(round)", prefix: "mosquitto", first: round * count)
            try waitFor("mosquitto_sub to receive \(count)", timeout: 600) { !sub.process.isRunning }
            let subSeconds = monotonic() - start
            subRates.append(Double(count) / subSeconds)

            // The daemon: stored (committed, acknowledgeable) and through the rules.
            let before = try store.progress().messages
            start = monotonic()
            try publishAll(port: port, clientId: "bench-pub-d\(round)", prefix: "muckwatch", first: round * count)
            var stored: Double = 0
            try waitFor("muckwatchd to store and process \(count)", timeout: 900) {
                let p = try store.progress()
                if stored == 0 && p.messages >= before + count { stored = monotonic() - start }
                return p.messages >= before + count && p.pending == 0
            }
            let processed = monotonic() - start
            daemonRates.append(Double(count) / stored)
            say(String(format: "round %d: mosquitto_sub %7.0f msg/s (%.2f s); muckwatchd %7.0f msg/s (%.2f s stored, %.2f s through the rules); ratio %.2f",
                       round, subRates.last!, subSeconds, daemonRates.last!, stored, processed,
                       daemonRates.last! / subRates.last!))
        }
        let subMedian = median(subRates), daemonMedian = median(daemonRates)
        say(String(format: "mosquitto_sub:  %7.0f msg/s  (median of %d rounds)", subMedian, rounds))
        say(String(format: "muckwatchd:     %7.0f msg/s  (median of %d rounds, stored)", daemonMedian, rounds))
        say(String(format: "ratio:          %.2f x mosquitto_sub  (target >= 0.90)", daemonMedian / subMedian))

        // 3. Latency at a fixed rate.
        let latencies = try latencyRun(port: port, alertLog: alerts)
        guard !latencies.isEmpty else { throw CLIError("no alert arrived during the latency run; see \(daemonLog)") }
        say(String(format: "latency at %d msg/s over %d s: %d alerts, publish->alert p50 %.1f ms, p99 %.1f ms, max %.1f ms  (target p99 < 50 ms)",
                   rate, seconds, latencies.count, percentile(latencies, 0.5)! * 1000, percentile(latencies, 0.99)! * 1000,
                   latencies.max()! * 1000))
        if rigOptions.keep { say("kept \(work)") }
    }

    private func payload(_ seq: Int) -> String {
        let second = seq % 7200
        let ts = String(format: "2026-11-24T%02d:%02d:%02d+08:00", 13 + second / 3600, (second / 60) % 60, second % 60)
        return #"{"device":"T-\#(seq % 500)","ts":"\#(ts)","plate":"粤B\#(10000 + seq % 500)","lat":22.54321,"lon":114.05786,"speed_kmh":35.2,"heading_deg":90,"cover":"closed","load":"full","load_kg":18250,"body":"down","seq":\#(seq)}"#
    }

    /// Publishes `count` truck messages numbered from `first` (each round its
    /// own numbers, so none is a redelivery of an earlier round's message).
    private func publishAll(port: Int, clientId: String, prefix: String, first: Int) throws {
        let client = try publisher(port: port, clientId: clientId)
        defer { client.stop() }
        for seq in first..<(first + count) {
            try client.publish(topic: "\(prefix)/v1/truck/T-\(seq % 500)/telemetry", payload: Array(payload(seq).utf8))
        }
        try waitFor("the broker to acknowledge \(count) publishes", timeout: 600) { client.publishedCount >= count }
    }

    private func publisher(port: Int, clientId: String) throws -> MQTTClient {
        var s = MQTTSettings()
        s.host = "127.0.0.1"
        s.port = port
        s.clientId = clientId
        s.cleanSession = true
        s.maxInflight = 100
        let client = try MQTTClient(settings: s)
        try client.start()
        guard client.waitUntilConnected(timeout: 10) else {
            throw CLIError("the benchmark publisher could not connect to 127.0.0.1:\(port)")
        }
        return client
    }

    /// Publishes `rate` msg/s for `seconds`; every `alertEvery`-th message is
    /// a spill event for a new plate. Returns each alert's latency in seconds.
    private func latencyRun(port: Int, alertLog: String) throws -> [Double] {
        let client = try publisher(port: port, clientId: "bench-pub-3")
        defer { client.stop() }
        let alerts = try AlertLatencies(alertLog: alertLog)
        let start = monotonic()
        for i in 0..<rate * seconds {
            let due = start + Double(i) / Double(rate)
            while monotonic() < due {
                alerts.collect()
                usleep(200)
            }
            if i % alertEvery == 0 {
                try alerts.publishSpill(client)
            } else {
                try client.publish(topic: "muckwatch/v1/truck/T-\(i % 500)/telemetry", payload: Array(payload((rounds + 1) * count + i).utf8))
            }
        }
        return alerts.finish()
    }
}

/// A loopback mosquitto and muckwatchd subscribed to it, in `work`.
final class BenchRig {
    /// What the benchmarks that run a daemon share on their command line.
    struct Options: ParsableArguments {
        @Option(help: "The muckwatchd binary (default: next to this muckwatch).")
        var daemon: String?

        @Flag(help: "Keep the working folder (broker, store, logs) for inspection.")
        var keep = false
    }

    let port: Int
    let db: String
    let alerts: String
    let daemonLog: String
    let broker: Spawned
    let daemon: Spawned

    init(work: String, daemon daemonPath: String?) throws {
        let daemonPath = daemonPath ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("muckwatchd").path
        let mosquitto = try tool("mosquitto", package: "mosquitto")
        guard FileManager.default.isExecutableFile(atPath: daemonPath) else {
            throw CLIError("no muckwatchd at \(daemonPath); build it (`swift build -c release`) or pass --daemon")
        }
        let port = Loopback.freePort()
        self.port = port
        try """
            listener \(port) 127.0.0.1
            allow_anonymous true
            user \(NSUserName())
            persistence true
            persistence_location \(work)/
            autosave_interval 1
            max_queued_messages 1000000
            max_inflight_messages 1000
            """.write(toFile: "\(work)/mosquitto.conf", atomically: true, encoding: .utf8)
        broker = try Spawned(mosquitto, ["-c", "\(work)/mosquitto.conf"], log: "\(work)/broker.log")
        try waitFor("the broker", timeout: 10) { Loopback.accepts(port: port) }
        db = "\(work)/muckwatch.db"
        alerts = "\(work)/alerts.jsonl"
        daemonLog = "\(work)/muckwatchd.log"
        try "broker:\n  url: mqtt://127.0.0.1:\(port)\n  client_id: bench-muckwatchd\n"
            .write(toFile: "\(work)/muckwatch.yaml", atomically: true, encoding: .utf8)
        daemon = try Spawned(daemonPath, ["--config", "\(work)/muckwatch.yaml", "--db", db,
                                          "--alert-log", alerts, "--log-level", "notice"], log: daemonLog)
        do {
            try waitFor("muckwatchd to subscribe", timeout: 30) { [daemonLog] in
                ((try? String(contentsOfFile: daemonLog, encoding: .utf8)) ?? "").contains("subscribed to")
            }
        } catch {
            stop()
            throw error
        }
    }

    func stop() {
        daemon.stop()
        broker.stop()
    }
}

/// Publish→alert-line latency: spill events for new plates, published with
/// their send time, matched with the alert lines the daemon appends.
final class AlertLatencies {
    private var sentAt: [Int: Double] = [:]
    private(set) var latencies: [Double] = []
    private let reader: FileHandle
    private var partial = ""
    private var sent = 0

    init(alertLog: String) throws {
        reader = try FileHandle(forReadingFrom: URL(fileURLWithPath: alertLog))
        reader.seekToEndOfFile()
    }

    func publishSpill(_ client: MQTTClient) throws {
        sent += 1
        sentAt[sent] = monotonic()
        let event = #"{"camera":"CAM-BENCH","event_id":"bench-\#(sent)","ts":"2026-11-24T15:00:00+08:00","type":"spill","plate":"BENCH-\#(sent)","confidence":0.9,"lat":22.55,"lon":114.06}"#
        try client.publish(topic: "muckwatch/v1/camera/CAM-BENCH/event", payload: Array(event.utf8))
    }

    /// Reads the alert lines written since the last call.
    func collect() {
        let data = reader.availableData
        guard !data.isEmpty else { return }
        let now = monotonic()
        partial += String(decoding: data, as: UTF8.self)
        while let nl = partial.firstIndex(of: "\n") {
            let line = partial[..<nl]
            partial = String(partial[partial.index(after: nl)...])
            if let r = line.range(of: "\"plate\":\"BENCH-"), let end = line[r.upperBound...].firstIndex(of: "\""),
               let k = Int(line[r.upperBound..<end]), let t0 = sentAt.removeValue(forKey: k) {
                latencies.append(now - t0)
            }
        }
    }

    /// Waits up to 10 s for the alerts still due; returns every latency seen.
    func finish() -> [Double] {
        let deadline = monotonic() + 10
        while !sentAt.isEmpty && monotonic() < deadline {
            collect()
            usleep(200)
        }
        if !sentAt.isEmpty { say("warning: \(sentAt.count) of \(sent) alerts did not arrive within 10 s of the last publish") }
        return latencies
    }
}

func say(_ s: String) {
    FileHandle.standardOutput.write(Data((s + "\n").utf8))
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func monotonic() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func tool(_ name: String, package: String) throws -> String {
    for dir in ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"]
    where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
        return "\(dir)/\(name)"
    }
    throw CLIError("\(name) is not installed; apt-get install \(package)")
}

func waitFor(_ what: String, timeout: Double, _ condition: () throws -> Bool) throws {
    let deadline = monotonic() + timeout
    while monotonic() < deadline {
        if try condition() { return }
        usleep(20_000)
    }
    throw CLIError("gave up after \(Int(timeout)) s waiting for \(what)")
}

/// A child process, stopped with SIGTERM when done.
final class Spawned {
    let process = Process()

    init(_ path: String, _ args: [String], log: String) throws {
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = args
        if log != "/dev/null" { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let out = FileHandle(forWritingAtPath: log)
        process.standardOutput = out
        process.standardError = out
        // This runs on a dispatch worker thread, which blocks SIGTERM, SIGINT
        // and SIGHUP; a child spawned from it inherits that mask and would
        // ignore our SIGTERM. Unblock around the spawn.
        var all = sigset_t(), saved = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_UNBLOCK, &all, &saved)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        try process.run()
    }

    /// SIGTERM, then SIGKILL if it has not gone after 10 s. (Not
    /// `waitUntilExit`: off the main thread it spins a core.)
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = monotonic() + 10
        while process.isRunning && monotonic() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { usleep(10_000) }
        }
    }
}
