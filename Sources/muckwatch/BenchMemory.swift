import ArgumentParser
import Foundation
import Logging
import MuckwatchCore
import MuckwatchRuntime
import MuckwatchStore

/// `muckwatch bench-memory` (issue 14, item 7): a flood of distinct device
/// ids through the daemon's pipeline (`PipelineHost`, a store on disk),
/// and the resident memory before it, after it, and after messages 7 h later
/// (pipeline time) have let the flooded ids' state go.
struct BenchMemory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-memory",
        abstract: "Measure memory under a flood of device ids, and after their state goes idle.")

    @Option(help: "Messages that warm the store's page cache first.")
    var warm = 200_000

    @Option(help: "Devices sending the warming messages.")
    var devices = 100

    @Option(help: "Distinct device ids in the flood.")
    var flood = 100_000

    @Option(help: "Working folder (default: a new one in /tmp, removed after).")
    var dir: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() async throws {
        let folder = dir ?? NSTemporaryDirectory() + "muckwatch-bench-memory-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { if dir == nil { try? FileManager.default.removeItem(atPath: folder) } }
        let (before, afterFlood, afterIdle) = try await onThread(named: "muckwatch.bench-memory") { [warm, devices, flood] in
            try Self.measure(folder: folder, warm: warm, devices: devices, flood: flood)
        }
        let perDevice = Double(afterFlood - before) * 1024 / Double(flood)
        if json {
            print(#"{"rss_before_flood_kb":\#(before),"rss_after_flood_kb":\#(afterFlood),"rss_after_7h_kb":\#(afterIdle),"bytes_per_active_truck":\#(Int(perDevice))}"#)
        } else {
            print("""
                warm:            \(warm) messages from \(devices) devices
                RSS before flood: \(before / 1024) MB
                RSS after flood:  \(afterFlood / 1024) MB (\(flood) new device ids)
                RSS 7 h later:    \(afterIdle / 1024) MB (\((afterIdle - before) / 1024) MB above before the flood)
                per active truck: \(Int(perDevice)) bytes (the flood's growth / its ids, store caches included)
                """)
        }
    }

    /// RSS before the flood, after it, and seven hours later (KB). Blocking:
    /// runs the pipeline host on the calling thread.
    private static func measure(folder: String, warm: Int, devices: Int, flood: Int) throws -> (Int, Int, Int) {
        var logger = Logger(label: "muckwatch.bench-memory")
        logger.logLevel = .warning
        let settings = PipelineSettings()
        let store = try SQLiteStore(path: folder + "/muckwatch.db", checkpoints: .backgroundBounded)
        let runner = try PipelineHost(store: store, settings: settings, alertLogPath: folder + "/alerts.jsonl", logger: logger)
        let start = RFC3339.parse("2026-11-24T08:00:00+08:00")!

        func report(_ device: String, _ ts: Instant, _ i: Int) -> Arrival {
            let lat = 22.5 + Double(i % 1000) * 0.0001, lon = 114.0 + Double(i / 1000 % 1000) * 0.0001
            let payload = #"{"device":"\#(device)","ts":\#(ts.millis),"lat":\#(lat),"lon":\#(lon),"speed_kmh":30,"cover":"closed","load":"full","seq":\#(i)}"#
            return Arrival(topic: "muckwatch/v1/truck/\(device)/telemetry", payload: Array(payload.utf8), qos: 1,
                                 retain: false, arrivedAt: ts)
        }
        func feed(_ arrivals: [Arrival]) throws {
            for chunk in stride(from: 0, to: arrivals.count, by: 8192) {
                _ = try store.accept(Array(arrivals[chunk..<min(chunk + 8192, arrivals.count)]))
                try runner.drain()
            }
        }
        // Warm: `devices` trucks, one report each every 2 s.
        let rounds = warm / devices
        for r in stride(from: 0, to: rounds, by: 100) {
            var batch: [Arrival] = []
            for round in r..<min(r + 100, rounds) {
                for d in 0..<devices { batch.append(report("T-\(d)", start.adding(seconds: Double(round) * 2), round * devices + d)) }
            }
            try feed(batch)
        }
        let warmEnd = start.adding(seconds: Double(rounds) * 2)
        let before = Self.rssKB()
        // The flood: one message from each of `flood` new ids, within a minute.
        try feed((0..<flood).map { i in report("FLOOD-\(i)", warmEnd.adding(seconds: Double(i) * 60 / Double(flood)), i) })
        let afterFlood = Self.rssKB()
        // Seven hours later the fleet reports again for ten minutes.
        let later = warmEnd.adding(seconds: 7 * 3600)
        var batch: [Arrival] = []
        for round in 0..<300 {
            for d in 0..<devices { batch.append(report("T-\(d)", later.adding(seconds: Double(round) * 2), round * devices + d)) }
        }
        try feed(batch)
        let afterIdle = Self.rssKB()
        return (before, afterFlood, afterIdle)
    }

    static func rssKB() -> Int { BenchSoak.rssKB(pid: getpid()) }
}
