import ArgumentParser
import Foundation
import MuckwatchCore
import MuckwatchScenario

/// `muckwatch scenario`: writes a synthetic recorded feed with planted
/// violations, near-misses and bad messages, the config to replay it with,
/// the sites, and the manifest of what was planted.
struct Scenario: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a synthetic feed with planted violations, its config, sites and manifest.",
        discussion: """
            Writes into the --out folder (created if missing; files there are replaced):
              feed.jsonl     the recorded feed (SPEC §8), in receive-time order
              config.yaml    a config for it: topics and rules defaults, the trucks' registry
              sites.geojson  construction sites, disposal sites and wash zones (WGS-84 polygons)
              planted.json   the planted violations and near-misses, bad messages and
                             redeliveries, with the alerts a replay must raise
            The same options give the same bytes. The defaults make a small scenario for
            tests; --trucks 2000 --report-interval-s 2 makes about 2 million lines for benchmarks.
            """)

    @Option(help: "Folder to write the scenario into.")
    var out: String

    @Option(help: "Muck trucks.")
    var trucks = 6

    @Option(help: "Length of the scenario in hours.")
    var hours = 1.0

    @Option(help: "Seed for every random choice.")
    var seed: UInt64 = 1

    @Option(help: "Start, RFC 3339 (22:00 in Shenzhen, when muck trucks run).")
    var start = "2026-11-24T14:00:00Z"

    @Option(name: .customLong("fume-monitors"), help: "Restaurants' fume monitors.")
    var fumeMonitors = 3

    @Option(name: .customLong("report-interval-s"), help: "Seconds between tracker reports while driving.")
    var reportIntervalS = 10

    func options() throws -> ScenarioOptions {
        var o = ScenarioOptions()
        o.trucks = trucks
        o.hours = hours
        o.seed = seed
        guard let instant = RFC3339.parse(start) else {
            throw ValidationError("--start '\(start)' is not an RFC 3339 time like 2026-11-24T14:00:00Z")
        }
        o.start = instant
        o.fumeMonitors = fumeMonitors
        o.reportIntervalS = reportIntervalS
        if let problem = o.problem { throw ValidationError(problem) }
        return o
    }

    func validate() throws {
        _ = try options()
    }

    func run() throws {
        let began = ContinuousClock.now
        let generator: ScenarioGenerator
        do {
            generator = try ScenarioGenerator(options: try options())
        } catch let error as ScenarioError {
            throw ValidationError(error.description)
        }
        let dir = URL(fileURLWithPath: out)
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw CLIError("cannot create the folder \(out): \(Self.reason(error))")
        }
        try write(generator.configYAML, to: dir.appendingPathComponent("config.yaml"))
        try write(generator.sitesGeoJSON, to: dir.appendingPathComponent("sites.geojson"))

        let feedPath = dir.appendingPathComponent("feed.jsonl").path
        let feed = try LineFile(path: feedPath)
        let summary: ScenarioSummary
        do {
            summary = try generator.writeFeed(bytes: { try feed.write($0) })
            try feed.close()
        } catch {
            throw CLIError("cannot write \(feedPath): \(Self.reason(error))")
        }
        try write(generator.manifestJSON(summary), to: dir.appendingPathComponent("planted.json"))

        let seconds = (ContinuousClock.now - began) / .milliseconds(1) / 1000
        FileHandle.standardError.write(Data(
            (generator.summaryLine(summary) + "; wrote \(out) in \(String(format: "%.1f", seconds)) s\n").utf8))
    }

    private func write(_ text: String, to url: URL) throws {
        do {
            try text.write(to: url, atomically: true, encoding: .utf8)
        } catch {
            throw CLIError("cannot write \(url.path): \(Self.reason(error))")
        }
    }

    static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return ns.localizedDescription
    }
}

/// Lines appended to a new file through a 4 MB buffer.
private final class LineFile {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private let path: String

    init(path: String) throws {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path)
        else { throw CLIError("cannot create \(path)") }
        self.handle = handle
        buffer.reserveCapacity(1 << 22)
    }

    func write(_ line: [UInt8]) throws {
        buffer.append(contentsOf: line)
        buffer.append(0x0A)
        if buffer.count >= 1 << 22 { try flush() }
    }

    private func flush() throws {
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        try flush()
        try handle.close()
    }
}
