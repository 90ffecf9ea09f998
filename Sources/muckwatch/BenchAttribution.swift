import ArgumentParser
import Foundation
import MuckwatchCore
import MuckwatchScenario
import MuckwatchStore

/// `muckwatch bench-attribution`: attribution query latency over a day of a
/// city's tracks (issue 5), against the same queries without the R*Tree.
struct BenchAttribution: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-attribution",
        abstract: "Benchmark attribution queries over a day of tracks: R*Tree vs a B-tree time-range scan (use a release build).")

    @Option(help: "Trucks.") var trucks = 5000
    @Option(help: "Hours of tracks.") var hours = 24
    @Option(help: "Seconds between a truck's fixes.") var intervalS = 10
    @Option(help: "Seconds of track per index row (the daemon uses 60).") var chunkS = 60
    @Option(help: "Attribution queries against the R*Tree.") var queries = 2000
    @Option(help: "Of those, how many are also asked of the B-tree peer (it is slow).") var peerQueries = 200
    @Option(help: "Folder for the two database files (default: a temporary one, removed after).") var dir: String?
    @Flag(help: "Keep the database files.") var keep = false

    func run() throws {
        let work = dir ?? NSTemporaryDirectory() + "muckwatch-bench-attribution-\(getpid())"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { if !keep && dir == nil { try? FileManager.default.removeItem(atPath: work) } }
        let store = try SQLiteStore(path: work + "/rtree.db")
        let peer = try TrackScanPeer(path: work + "/btree.db")

        // Trucks drive straight legs at 20–50 km/h in a 40 × 30 km box around Shenzhen.
        let origin = GeoPoint(lat: 22.45, lon: 113.85)
        let start = RFC3339.parse("2026-11-24T00:00:00+08:00")!
        var rng = SplitMix64(state: 5)
        struct Truck { var x, y, heading, speed: Double; var legLeft: Int; var chunk: [TrackFix] }
        var fleet = (0..<trucks).map { _ in
            Truck(x: rng.uniform(0, 40_000), y: rng.uniform(0, 30_000), heading: rng.uniform(0, 2 * .pi),
                  speed: rng.uniform(20, 50) / 3.6, legLeft: Int(rng.uniform(120, 1200)), chunk: [])
        }
        func point(_ x: Double, _ y: Double) -> GeoPoint {
            GeoPoint(lat: origin.lat + y / 111_320, lon: origin.lon + x / (111_320 * cos(origin.lat * .pi / 180)))
        }
        // Where each query's event happens: a fix of a random truck, chosen up front.
        let steps = hours * 3600 / intervalS
        var targets: [Int: [(query: Int, truck: Int)]] = [:]
        for q in 0..<queries { targets[Int(rng.next() % UInt64(steps)), default: []].append((q, Int(rng.next() % UInt64(trucks)))) }
        var events = [(GeoPoint, Instant)?](repeating: nil, count: queries)

        print("building: \(trucks) trucks × \(hours) h, a fix every \(intervalS) s (\(trucks * steps) fixes), \(chunkS) s per index row ...")
        let buildStart = Date()
        var rows = 0, pending: [TrackChunk] = []
        var rtreeS = 0.0, peerS = 0.0
        func flush() throws {
            let t0 = Date()
            try store.addTrackChunks(pending)
            rtreeS += Date().timeIntervalSince(t0)
            let t1 = Date()
            try peer.add(pending)
            peerS += Date().timeIntervalSince(t1)
            rows += pending.count
            pending.removeAll(keepingCapacity: true)
        }
        for step in 0..<steps {
            let ts = start.adding(seconds: Double(step * intervalS))
            for i in fleet.indices {
                var t = fleet[i]
                if step > 0 {
                    t.x += cos(t.heading) * t.speed * Double(intervalS)
                    t.y += sin(t.heading) * t.speed * Double(intervalS)
                    t.legLeft -= intervalS
                    if t.x < 0 || t.x > 40_000 || t.y < 0 || t.y > 30_000 || t.legLeft <= 0 {
                        t.x = min(max(t.x, 0), 40_000)
                        t.y = min(max(t.y, 0), 30_000)
                        t.heading = rng.uniform(0, 2 * .pi)
                        t.speed = rng.uniform(20, 50) / 3.6
                        t.legLeft = Int(rng.uniform(120, 1200))
                    }
                }
                t.chunk.append(TrackFix(ts: ts, point: point(t.x, t.y)))
                if ts.seconds(since: t.chunk[0].ts) >= Double(chunkS) {
                    pending.append(TrackChunk(device: String(format: "T-%05d", i), fixes: t.chunk))
                    t.chunk = [t.chunk.last!]
                }
                fleet[i] = t
            }
            for (q, k) in targets[step] ?? [] {
                // The spill lies up to 40 m off the truck's position, seen up to 10 minutes later.
                let f = fleet[k].chunk.last!
                let off = rng.uniform(0, 40), angle = rng.uniform(0, 2 * .pi)
                let p = GeoPoint(lat: f.point.lat + off * sin(angle) / 111_320,
                                 lon: f.point.lon + off * cos(angle) / (111_320 * cos(f.point.lat * .pi / 180)))
                events[q] = (p, f.ts.adding(seconds: rng.uniform(0, 600)))
            }
            if pending.count >= 200_000 { try flush() }
        }
        pending += fleet.enumerated().compactMap { i, t in t.chunk.count > 1 ? TrackChunk(device: String(format: "T-%05d", i), fixes: t.chunk) : nil }
        try flush()
        let built = Date().timeIntervalSince(buildStart)
        let size = { (path: String) in ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) / 1_048_576 }
        print(String(format: "built in %.0f s: %d index rows; inserts %.0f s into the R*Tree (%d MB), %.0f s into the B-tree peer (%d MB)",
                     built, rows, rtreeS, size(work + "/rtree.db"), peerS, size(work + "/btree.db")))

        func measure(_ n: Int, _ ask: (GeoPoint, Instant) throws -> [TrackPass]) throws -> (ms: [Double], found: Int, hits: Int) {
            var ms: [Double] = [], found = 0, hits = 0
            for case let (p, t)? in events.prefix(n) {
                let t0 = DispatchTime.now().uptimeNanoseconds
                let passes = try ask(p, t)
                ms.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
                found += passes.count
                if !passes.isEmpty { hits += 1 }
            }
            return (ms.sorted(), found, hits)
        }
        let rtree = try measure(queries) { p, t in
            try store.trackPasses(near: p, radiusM: 50, from: t.adding(seconds: -600), to: t)
        }
        let scan = try measure(min(peerQueries, queries)) { p, t in
            try peer.passes(near: p, radiusM: 50, from: t.adding(seconds: -600), to: t, maxChunkS: Int64(chunkS + intervalS))
        }
        func pct(_ v: [Double], _ q: Double) -> Double { v.isEmpty ? .nan : v[min(v.count - 1, Int(Double(v.count) * q))] }
        print(String(format: "R*Tree:  %d queries, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms; %.2f trucks found per query, %d of %d found their truck's track",
                     rtree.ms.count, pct(rtree.ms, 0.5), pct(rtree.ms, 0.9), pct(rtree.ms, 0.99), rtree.ms.last ?? Double.nan,
                     Double(rtree.found) / Double(max(1, rtree.ms.count)), rtree.hits, rtree.ms.count))
        print(String(format: "B-tree:  %d queries, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms; %.2f trucks found per query",
                     scan.ms.count, pct(scan.ms, 0.5), pct(scan.ms, 0.9), pct(scan.ms, 0.99), scan.ms.last ?? Double.nan,
                     Double(scan.found) / Double(max(1, scan.ms.count))))
        print(String(format: "ratio:   R*Tree p50 %.2f ms vs B-tree time-range scan p50 %.2f ms: %.0f× faster",
                     pct(rtree.ms, 0.5), pct(scan.ms, 0.5), pct(scan.ms, 0.5) / pct(rtree.ms, 0.5)))
        if keep || dir != nil { print("databases kept in \(work)") }
    }
}
