import ArgumentParser
import Foundation
import MuckwatchIngest
import MuckwatchStore

#if canImport(Glibc)
import Glibc
#endif

/// `muckwatch bench-soak`: the daemon under a steady load through a real
/// broker for a long time (default 30 min at 5 000 msg/s), sampling every
/// 10 s its RSS, the WAL's size, the bytes on disk and publish→alert latency.
/// Prints each sample, the growth rates and a one-line verdict against the
/// targets: RSS growth under 5 %, WAL under 64 MB, p99 under 50 ms.
struct BenchSoak: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-soak",
        abstract: "Run muckwatchd under a steady load for a long time and report RSS, WAL, disk and latency (use a release build).")

    @Option(help: "Minutes of load.")
    var minutes = 30.0

    @Option(help: "Publish rate (msg/s).")
    var rate = 5000

    @Option(help: "Trucks the load comes from.")
    var trucks = 2000

    @Option(help: "One message in this many is a spill event that raises an alert.")
    var alertEvery = 500

    @Option(help: "Seconds between samples.")
    var sampleEvery = 10.0

    @OptionGroup var rigOptions: BenchRig.Options

    struct Sample {
        var at: Double
        var rssKB: Int
        var walBytes: Int64
        var diskBytes: Int64
        var stored: Int
        var pending: Int
        var p99: Double?
    }

    func run() async throws {
        let work = NSTemporaryDirectory() + "muckwatch-soak-\(getpid())"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { if !rigOptions.keep { try? FileManager.default.removeItem(atPath: work) } }
        let rig = try BenchRig(work: work, daemon: rigOptions.daemon)
        defer { rig.stop() }
        let store = try SQLiteStore(path: rig.db)
        var settings = MQTTSettings()
        (settings.host, settings.port, settings.clientId, settings.cleanSession, settings.maxInflight) =
            ("127.0.0.1", rig.port, "bench-soak-pub", true, 100)
        let client = try MQTTClient(settings: settings)
        try client.start()
        defer { client.stop() }
        guard client.waitUntilConnected(timeout: 10) else { throw CLIError("the load could not connect to the broker") }
        say("soak: \(rate) msg/s from \(trucks) trucks for \(minutes) min through mosquitto on 127.0.0.1:\(rig.port); a sample every \(Int(sampleEvery)) s")
        say("   time      RSS      WAL     disk    stored   pending   p99 (window)")

        let alerts = try AlertLatencies(alertLog: rig.alerts)
        var samples: [Sample] = []
        var windowStart = 0
        let start = monotonic()
        let total = Int(minutes * 60) * rate
        var nextSample = start + sampleEvery
        for i in 0..<total {
            let due = start + Double(i) / Double(rate)
            while monotonic() < due {
                alerts.collect()
                usleep(200)
            }
            if i % alertEvery == 0 {
                try alerts.publishSpill(client)
            } else {
                let device = "T-\(i % trucks)"
                try client.publish(topic: "muckwatch/v1/truck/\(device)/telemetry", payload: Array(payload(device, i).utf8))
            }
            if monotonic() >= nextSample {
                nextSample += sampleEvery
                let window = Array(alerts.latencies[windowStart...])
                windowStart = alerts.latencies.count
                let s = try sample(at: monotonic() - start, rig: rig, store: store, window: window)
                samples.append(s)
                say(line(s))
            }
        }
        _ = alerts.finish()
        try report(samples, all: alerts.latencies)
    }

    /// A truck fix whose time advances with the message number, 10 s apart per truck.
    private func payload(_ device: String, _ i: Int) -> String {
        let ts = 1_764_000_000_000 + Int64(i / trucks) * 10_000
        return #"{"device":"\#(device)","ts":\#(ts),"lat":22.54321,"lon":114.05786,"speed_kmh":35.2,"heading_deg":90,"cover":"closed","load":"full","load_kg":18250,"body":"down","seq":\#(i)}"#
    }

    private func sample(at t: Double, rig: BenchRig, store: SQLiteStore, window: [Double]) throws -> Sample {
        let progress = try store.progress()
        func size(_ path: String) -> Int64 {
            ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
        }
        let wal = size(rig.db + "-wal")
        return Sample(at: t, rssKB: Self.rssKB(pid: rig.daemon.process.processIdentifier), walBytes: wal,
                      diskBytes: size(rig.db) + wal + size(rig.db + "-shm") + size(rig.alerts),
                      stored: progress.messages, pending: progress.pending, p99: percentile(window, 0.99))
    }

    private func line(_ s: Sample) -> String {
        String(format: "%6.0f s %6d MB %5.1f MB %6.0f MB %9d %9d   %@", s.at, s.rssKB / 1024, Double(s.walBytes) / 1e6,
               Double(s.diskBytes) / 1e6, s.stored, s.pending, s.p99.map { String(format: "%.1f ms", $0 * 1000) } ?? "-")
    }

    private func report(_ samples: [Sample], all latencies: [Double]) throws {
        guard samples.count >= 4, let last = samples.last else {
            throw CLIError("too few samples (\(samples.count)) to judge; run for longer")
        }
        // RSS after the first tenth of the run (caches warm), against the end.
        let warm = samples[max(1, samples.count / 10)]
        let growth = Double(last.rssKB - warm.rssKB) / Double(warm.rssKB) * 100
        let walMax = samples.map(\.walBytes).max() ?? 0
        let diskPerMin = Double(last.diskBytes - warm.diskBytes) / max(1, (last.at - warm.at) / 60)
        let bytesPerMessage = Double(last.diskBytes) / Double(max(1, last.stored))
        let p99 = percentile(latencies, 0.99) ?? .infinity
        say(String(format: "RSS:  %d MB after warming (%.0f s), %d MB at the end: %+.1f %% (target < 5 %%)",
                   warm.rssKB / 1024, warm.at, last.rssKB / 1024, growth))
        say(String(format: "WAL:  at most %.1f MB (target < 64 MB)", Double(walMax) / 1e6))
        say(String(format: "disk: %.1f MB per minute, %.0f bytes per stored message (store, WAL and alert log)",
                   diskPerMin / 1e6, bytesPerMessage))
        say(String(format: "latency: %d alerts, publish->alert p99 %.1f ms (target < 50 ms); %d message(s) pending at the end",
                   latencies.count, p99 * 1000, last.pending))
        var failed: [String] = []
        if growth >= 5 { failed.append(String(format: "RSS grew %.1f %%", growth)) }
        if walMax >= 64_000_000 { failed.append(String(format: "WAL reached %.1f MB", Double(walMax) / 1e6)) }
        if p99 >= 0.05 { failed.append(String(format: "p99 %.1f ms", p99 * 1000)) }
        say(failed.isEmpty ? "verdict: PASS (RSS, WAL and latency within their targets)"
                           : "verdict: FAIL: " + failed.joined(separator: "; "))
    }

    static func rssKB(pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
    }
}

func percentile(_ values: [Double], _ p: Double) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}
