import Foundation
import MuckwatchCore

// MuckwatchScenario owns the test and benchmark scaffolding: the synthetic
// scenario that `muckwatch scenario`, the benches and the tests generate, and
// the JT/T 808 / HJ 212 frame writers (ProtocolEncoding.swift), and the loopback
// helpers that start a private broker (Loopback.swift). `muckwatchd`
// links none of it. The generator is split along its own sections: the
// options and manifest (ScenarioManifest), the world (ScenarioWorld), motion
// along routes (ScenarioMotion), the per-source streams (ScenarioStreams,
// ScenarioTrucks, ScenarioFumeAndDrones), bad messages (ScenarioBadMessages),
// the planted showcases (ScenarioShowcase, ScenarioExtras), the files beside
// the feed (ScenarioFiles), and the small helpers they share (ScenarioBasics:
// randomness, number formatting, the local clock, topics, payloads).
//
// A synthetic recorded feed (SPEC §8) for tests and benchmarks: muck trucks
// shuttling between construction and disposal sites around Shenzhen, fume
// monitors, site cameras and drones, with violations, near-misses and bad
// messages planted at known times and listed in a manifest.
//
// Everything comes from seeded SplitMix64 generators (one per truck, monitor
// and purpose), numbers are written with fixed decimals, and the feed is
// produced by merging per-source streams by receive time, so the same options
// give the same bytes and a large feed never sits in memory. No I/O here: the
// feed goes to a line sink, the other files are returned as text.

// MARK: - Generator

/// Builds the scenario's world (sites, trucks) and probes the scripted trucks
/// up front; `writeFeed` then generates the feed lazily, stream by stream.
public final class ScenarioGenerator {
    public let options: ScenarioOptions
    let world: World
    public private(set) var violations: [PlantedViolation] = []
    public private(set) var badMessages: [PlantedBadMessage] = []
    public private(set) var duplicates: [PlantedDuplicate] = []
    public private(set) var incidents: [ExpectedIncident] = []
    /// Drones, site-camera background events and bad messages, in `t` order.
    private var scripted: [ScenarioMessage] = []
    /// Planted violations of the rules the trips do not exercise.
    private(set) var showcase: RuleShowcase
    /// Attribution with candidates, weight, permits, geofence realism.
    private(set) var extras: ShowcaseExtras
    /// The sites as the registry loads them from `sites.geojson`.
    let registrySites: [Site]

    public init(options: ScenarioOptions) throws(ScenarioError) {
        if let problem = options.problem { throw ScenarioError(description: problem) }
        self.options = options
        world = World(options: options)
        registrySites = Self.registrySites(of: world)
        showcase = RuleShowcase(world: world, sites: registrySites)
        let exit = showcase.signals.first { $0.rule == "unwashed_exit" }
        extras = ShowcaseExtras(world: world, unwashed: exit.flatMap { e in e.plate.map { (e.id, $0, e.ts) } })
        plant()
    }

    /// The generated trucks as the registry lists them.
    public var registry: [RegisteredTruck] {
        func day(_ date: String) -> Instant {
            RFC3339.parse(date + "T00:00:00Z")!.adding(seconds: -Double(Clock.offset))
        }
        return registryEntries.map { e in
            RegisteredTruck(device: e.device, plate: e.plate, company: e.company, emptyKg: Double(e.emptyKg), phone: e.phone,
                            permitFrom: day(e.permit.from), permitUntil: day(e.permit.until),
                            permittedHours: e.hours.map { h in
                                let m = h.split(separator: "-").map { part in part.split(separator: ":").map { Int($0)! } }
                                return DailyWindow(startMinute: m[0][0] * 60 + m[0][1], endMinute: m[1][0] * 60 + m[1][1])
                            })
        }
    }

    /// A truck as `config.yaml` registers it.
    struct RegistryEntry {
        var device: String
        var plate: String
        var company: String
        var emptyKg: Int
        /// The JT/T 808 terminal phone, 12 digits.
        var phone: String
        /// Local dates, `until` exclusive.
        var permit: (from: String, until: String)
        var hours: [String]
    }

    /// A showcase truck's JT/T 808 phone: S-16 is 013900000016.
    static func showcasePhone(_ device: String) -> String { "0139" + pad(Int(device.dropFirst(2)) ?? 0, 8) }

    /// Every truck: the trips', then the showcases'.
    var registryEntries: [RegistryEntry] {
        let permit = Self.permit(options), hours = Self.permittedHours(options)
        var out = world.trucks.map {
            RegistryEntry(device: $0.device, plate: $0.plate, company: $0.company, emptyKg: $0.emptyKg,
                          phone: "0138" + pad($0.index + 1, 8), permit: permit, hours: hours)
        }
        let company = world.trucks.first?.company ?? world.companies[0]
        for t in showcase.trucks {
            out.append(RegistryEntry(device: t.device, plate: t.plate, company: company, emptyKg: 12_000,
                                     phone: Self.showcasePhone(t.device), permit: permit, hours: [t.hours]))
        }
        for t in extras.trucks {
            out.append(RegistryEntry(device: t.device, plate: t.plate, company: company, emptyKg: 12_000,
                                     phone: Self.showcasePhone(t.device), permit: t.permit ?? permit,
                                     hours: hours))
        }
        return out
    }

    /// Valid all through the scenario: from January 1 of its first (local) year to January 1 after its last.
    static func permit(_ o: ScenarioOptions) -> (from: String, until: String) {
        let first = RFC3339.format(o.start, offsetSeconds: Clock.offset)
        let last = RFC3339.format(o.start.adding(seconds: o.hours * 3600), offsetSeconds: Clock.offset)
        return (String(first.prefix(4)) + "-01-01", String(Int(last.prefix(4))! + 1) + "-01-01")
    }

    /// The night shift muck trucks run (22:00-06:00) when the scenario fits in it; else
    /// a window around the scenario, or none (any time) for a day or more.
    static func permittedHours(_ o: ScenarioOptions) -> [String] {
        let local = RFC3339.format(o.start, offsetSeconds: Clock.offset)
        let u = Array(local.utf8)
        let minute = (Int(u[11] - 48) * 10 + Int(u[12] - 48)) * 60 + Int(u[14] - 48) * 10 + Int(u[15] - 48)
        let span = o.hours * 60
        let untilSix = minute >= 22 * 60 ? Double(30 * 60 - minute) : minute < 6 * 60 ? Double(6 * 60 - minute) : -1
        if span <= untilSix { return ["22:00-06:00"] }
        guard span <= 20 * 60 else { return [] }
        let from = (minute / 60 + 23) % 24, to = (Int(((Double(minute) + span) / 60).rounded(.up)) + 1) % 24
        return [pad(from, 2) + ":00-" + pad(to, 2) + ":00"]
    }

    // MARK: Feed

    /// Writes the feed, one line per call (no newline), in `t` order.
    public func writeFeed(_ sink: (String) throws -> Void) rethrows -> ScenarioSummary {
        try writeFeed(bytes: { try sink(String(decoding: $0, as: UTF8.self)) })
    }

    /// Writes the feed as UTF-8 lines (no newline; the buffer is reused, so
    /// copy what you keep), in `t` order.
    public func writeFeed(bytes sink: ([UInt8]) throws -> Void) rethrows -> ScenarioSummary {
        var sources: [any FeedSource] = world.trucks.map { TruckStream(spec: $0, world: world) }
        for i in 0..<options.fumeMonitors { sources.append(FumeStream(index: i, world: world)) }
        sources.append(ScriptStream(scripted))

        var heads: [ScenarioMessage?] = sources.map { $0.next() }
        var heap = StreamHeap()
        for (i, h) in heads.enumerated() { if let h { heap.push(t: h.t, stream: i) } }

        var summary = ScenarioSummary()
        var counts = [Int](repeating: 0, count: ScenarioMessage.Kind.allCases.count)
        var line = Bytes()
        line.b.reserveCapacity(1024)
        while let (_, s) = heap.pop() {
            let m = heads[s]!
            summary.lines += 1
            counts[m.kind.index] += 1
            if let tag = m.tag { summary.lineOf[tag] = summary.lines }
            line.b.removeAll(keepingCapacity: true)
            m.appendFeedLine(to: &line)
            try sink(line.b)
            heads[s] = sources[s].next()
            if let next = heads[s] { heap.push(t: next.t, stream: s) }
        }
        for kind in ScenarioMessage.Kind.allCases { summary.byKind[kind.rawValue] = counts[kind.index] }
        return summary
    }

    // MARK: Planting

    private func plant() {
        // Probe every scripted truck: its planted items and reports, exactly as the feed will have them.
        var signals: [ExpectedSignal] = []
        var records: [(item: PlantedViolation, duplicate: ScenarioMessage?)] = []
        var firstRoads: [(TruckSpec, Phase)] = []
        /// Per block: the slot-C truck's fix, 80-110 s into its uncovered stretch, for the drone to see it at.
        var uncoveredFix: [Int: (spec: TruckSpec, tick: Int64, p: Point, t: Int64)] = [:]
        let fenceRegistry = Registry(sites: registrySites)
        for spec in world.trucks where spec.slot != nil {
            let probe = TruckStream(spec: spec, world: world)
            var windows: [(index: Int, range: ClosedRange<Double>)] = []
            for r in probe.records {
                if r.item.kind.hasPrefix("tracker_") {
                    windows.append((records.count, r.window))
                } else if let c = r.item.confidence, c >= 0.6 {
                    signals.append(ExpectedSignal(rule: r.item.rule, subject: .truck(spec), ts: r.item.from, t: r.item.t!,
                                          record: records.count))
                }
                records.append((r.item, r.duplicate))
            }
            if let road = probe.firstRoad { firstRoads.append((spec, road)) }
            // §6's tracker rule over the planted truck's own reports, with
            // the pipeline's own geofence for "outside every site".
            let last = windows.map(\.range.upperBound).max() ?? -1
            guard last >= 0 else { continue }
            var since: Int64?
            var fences = TruckTracker(registry: fenceRegistry, dwellS: 20)
            while let r = probe.nextReport(), Double(r.tick) <= last + 60 {
                let at = ScenarioGeo.written(r.p)
                let view = fences.observe(TruckTelemetry(
                    device: spec.device, ts: Instant(millis: world.instant(Double(r.tick)).millis), plate: nil,
                    lat: at.lat, lon: at.lon,
                    speedKmh: nil, headingDeg: nil, cover: .unknown, load: .unknown, loadKg: nil, body: .unknown, seq: nil))
                let loaded = r.load == "full" || r.load == "partial" || (r.loadKg.map { $0 > spec.emptyKg } ?? false)
                guard loaded, r.coverOpen, r.speedTenths >= 50, !view.insideAnySite else { since = nil; continue }
                if spec.slot == .c, uncoveredFix[spec.block] == nil, r.speedTenths >= 150,
                   let w = windows.first(where: { $0.range.contains(Double(r.tick)) })?.range,
                   Double(r.tick) >= w.lowerBound + 80, Double(r.tick) <= w.upperBound - 40 {
                    uncoveredFix[spec.block] = (spec, r.tick, r.p, r.t)
                }
                let s = since ?? r.tick
                if r.tick - s >= 30 {
                    since = r.tick
                    let ts = Double(r.tick)
                    let record = windows.first { $0.range.contains(ts) }?.index ?? -1
                    signals.append(ExpectedSignal(rule: "uncovered_load", subject: .truck(spec), ts: world.instant(ts),
                                          t: Instant(millis: r.t), record: record))
                } else {
                    since = s
                }
            }
        }

        // Drones: one per block with a slot-F truck (at least one), finding the spill it left.
        var droneIndex = 0
        for block in 0..<world.blocks {
            let f = firstRoads.first { $0.0.block == block && $0.0.slot == .f }
            if f == nil && block > 0 { continue }
            droneIndex += 1
            let flight = DroneFlight(index: droneIndex, world: world, target: f)
            scripted += flight.messages
            // An earlier sortie over the block's slot-C truck, driving uncovered: the third source of its incident.
            if let c = uncoveredFix[block] {
                let home = world.sites[f?.0.home ?? world.construction[0]]
                let sortie = DroneSortie(drone: flight.drone, base: home.centre.moved(home.halfW + 150, 100), truck: c.spec,
                                         seen: (c.tick, c.p, c.t), world: world)
                let flightStart = flight.messages.map(\.t).min().map { Double($0 - world.options.start.millis) / 1000 }
                if let event = sortie.event, sortie.landing + 60 < flightStart ?? .infinity {
                    scripted += sortie.messages
                    signals.append(ExpectedSignal(rule: "uncovered_load", subject: .truck(c.spec), ts: event.from, t: event.t!,
                                                  record: records.count))
                    records.append((event, nil))
                }
            }
            if let spill = flight.spill {
                // No plate from the air: attribution names the truck whose track passed it.
                signals.append(ExpectedSignal(rule: "spill", subject: f.map { .truck($0.0) } ?? .other(kind: "drone", id: flight.drone, plate: nil), ts: spill.from,
                                      t: spill.t!, record: records.count))
                records.append((spill, nil))
            }
        }
        // The showcase: a planted violation of every other rule, on devices of its own.
        let offset = records.count
        scripted += showcase.messages
        records += showcase.records.map { r in
            var r = r
            r.expectedSignals = 0  // counted below, from the signals
            return (r, nil)
        }
        for x in showcase.signals {
            signals.append(ExpectedSignal(rule: x.rule, subject: .other(kind: x.kind, id: x.id, plate: x.plate), ts: x.ts,
                                          t: x.t, record: offset + x.record))
        }
        // The extras: attribution with a candidate, weight, permits, geofence realism.
        let extrasOffset = records.count
        scripted += extras.messages
        records += extras.records.map { ($0, nil) }
        for x in extras.signals {
            signals.append(ExpectedSignal(rule: x.rule, subject: .other(kind: "truck", id: x.device, plate: x.plate), ts: x.ts,
                                          t: x.t, record: extrasOffset + x.record, candidates: x.candidates))
        }
        scripted += siteCameraBackground()
        let bad = BadMessages(world: world)
        scripted += bad.messages
        badMessages = bad.planted
        for i in scripted.indices { scripted[i].order = i }
        scripted.sort { ($0.t, $0.order) < ($1.t, $1.order) }

        // Ids in time order.
        let order = records.indices.sorted { (records[$0].item.from, $0) < (records[$1].item.from, $1) }
        var items = records.map(\.item)
        let width = max(2, String(order.count).count)
        for (n, i) in order.enumerated() { items[i].id = "P" + pad(n + 1, width) }

        // Signals become incidents the way IncidentBook merges them.
        signals.sort { ($0.t, $0.ts, $0.record) < ($1.t, $1.ts, $1.record) }
        var open: [String: (index: Int, last: Instant)] = [:]
        var built: [ExpectedIncident] = []
        var history: [String: [Instant]] = [:]
        for s in signals {
            let key = s.rule + "|" + s.subject.key
            if var inc = open[key], abs(s.ts.seconds(since: inc.last)) <= 600 {
                inc.last = max(inc.last, s.ts)
                open[key] = inc
                built[inc.index].lastSignal = max(built[inc.index].lastSignal, s.ts)
                built[inc.index].signals += 1
                if s.record >= 0, !built[inc.index].planted.contains(items[s.record].id) {
                    built[inc.index].planted.append(items[s.record].id)
                }
            } else {
                let severity = Self.severity[s.rule] ?? .major
                let party = s.subject.key
                let prior = (history[party] ?? []).filter { $0 <= s.ts && $0 >= s.ts.adding(seconds: -30 * 86_400) }.count
                history[party, default: []].append(s.ts)
                open[key] = (built.count, s.ts)
                built.append(ExpectedIncident(
                    id: "", rule: s.rule, severity: severity.rawValue, subjectKind: s.subject.kind,
                    subjectId: s.subject.id, plate: s.subject.plate, firstSignal: s.ts, lastSignal: s.ts, signals: 1,
                    planted: s.record >= 0 ? [items[s.record].id] : [], priorIncidents: prior,
                    suggestedAction: SuggestedAction.suggest(severity: severity, priorIncidents: prior).rawValue,
                    candidates: s.candidates))
            }
            if s.record >= 0 { items[s.record].expectedSignals += 1 }
        }
        let incidentWidth = max(2, String(built.count).count)
        for i in built.indices {
            built[i].id = "I" + pad(i + 1, incidentWidth)
            for p in built[i].planted {
                if let k = items.firstIndex(where: { $0.id == p }) { items[k].incident = built[i].id }
            }
        }
        for i in items.indices { items[i].alertExpected = items[i].expectedSignals > 0 }
        incidents = built

        for i in order {
            if let dup = records[i].duplicate {
                duplicates.append(PlantedDuplicate(id: "U" + pad(duplicates.count + 1, 2), of: items[i].id,
                                                   topic: dup.topicText, t: Instant(millis: dup.t), line: nil, tag: dup.tag!))
            }
        }
        violations = order.map { items[$0] }
    }

    /// SPEC §6's severities.
    static let severity: [String: Severity] = [
        "uncovered_load": .major, "spill": .critical, "illegal_dumping": .critical, "unwashed_exit": .minor,
        "off_hours": .minor, "fume_exceedance": .major, "purifier_off": .major, "device_silent": .minor,
    ]

    /// ScenarioSite cameras' own detections that no rule acts on (bare soil,
    /// sprinklers off): about once an hour at half the construction sites.
    private func siteCameraBackground() -> [ScenarioMessage] {
        var out: [ScenarioMessage] = []
        for site in world.sites where site.kind == .construction {
            var rng = SplitMix64(world.seed, .siteCamera, UInt64(site.number))
            var counter = 0
            for hour in 0...Int(world.duration / 3600) {
                guard rng.chance(0.5) else { continue }
                let ts = (Double(hour) + rng.uniform(0, 1)) * 3600
                let type = rng.chance(0.6) ? "bare_soil" : "sprinkler_off"
                let confidence = rng.uniform(0.62, 0.9)
                let delay = rng.int(500, 2000)
                guard ts < world.duration else { continue }
                counter += 1
                let tsMs = world.instant(ts).millis
                let payload = Payloads.event(
                    key: "camera", source: site.camera, eventId: "e-" + site.id + "-" + pad(counter, 4), tsMillis: tsMs,
                    type: type, plate: nil, confidence: confidence, at: site.centre, clipPrefix: site.camera.lowercased())
                out.append(ScenarioMessage(t: tsMs + Int64(delay), topic: Topics.camera(site.camera),
                                           payload: Array(payload.utf8), kind: .camera))
            }
        }
        return out
    }
}

// MARK: - Signals as §6 and IncidentBook see them

private struct ExpectedSignal {
    enum Subject {
        case truck(TruckSpec)
        case other(kind: String, id: String, plate: String?)

        var kind: String { if case .other(let k, _, _) = self { return k } else { return "truck" } }
        var id: String {
            switch self {
            case .truck(let t): t.device
            case .other(_, let id, _): id
            }
        }
        var plate: String? {
            switch self {
            case .truck(let t): t.plate
            case .other(_, _, let plate): plate
            }
        }
        var key: String { kind + "|" + id }
    }

    var rule: String
    var subject: Subject
    var ts: Instant
    var t: Instant
    /// Index of the planted record it comes from, or -1.
    var record: Int
    /// Attribution's other candidates, for a signal from an event with no plate.
    var candidates: [String] = []
}
