import Foundation

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

// MARK: - Options

/// The size, span and seed of a scenario (`muckwatch scenario`).
public struct ScenarioOptions: Sendable, Equatable {
    public var trucks = 6
    public var hours = 1.0
    public var seed: UInt64 = 1
    /// 2026-11-24T14:00:00Z: 22:00 in Shenzhen, when muck trucks may run.
    public var start = Instant(millis: 1_795_528_800_000)
    public var fumeMonitors = 3
    /// Trackers report this often while driving (every 30 s while parked at a site).
    public var reportIntervalS = 10

    public init() {}

    public static let trucksRange = 1...100_000
    public static let hoursRange = 0.05...48.0
    public static let fumeMonitorsRange = 0...5_000
    public static let reportIntervalRange = 1...30

    /// Why these options cannot be generated, or nil.
    public var problem: String? {
        if !Self.trucksRange.contains(trucks) { return "--trucks must be within \(Self.trucksRange), not \(trucks)" }
        if !hours.isFinite || !Self.hoursRange.contains(hours) {
            return "--hours must be within \(Self.hoursRange.lowerBound)...\(Self.hoursRange.upperBound), not \(hours)"
        }
        if !Self.fumeMonitorsRange.contains(fumeMonitors) {
            return "--fume-monitors must be within \(Self.fumeMonitorsRange), not \(fumeMonitors)"
        }
        if !Self.reportIntervalRange.contains(reportIntervalS) {
            return "--report-interval-s must be within \(Self.reportIntervalRange), not \(reportIntervalS)"
        }
        if start.millis < 0 || start.millis > 4_000_000_000_000 { return "--start must be between 1970 and 2096" }
        if start.millis % 1000 != 0 { return "--start must be a whole second" }
        return nil
    }

    /// The command that generates this scenario.
    public var commandLine: String {
        "muckwatch scenario --out DIR --trucks \(trucks) --hours \(Self.decimal(hours)) --seed \(seed)"
            + " --start \(RFC3339.format(start, offsetSeconds: 0)) --fume-monitors \(fumeMonitors)"
            + " --report-interval-s \(reportIntervalS)"
    }

    /// `1`, `0.5`: a whole number without a fraction.
    static func decimal(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }
}

public struct ScenarioError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

// MARK: - Manifest

/// A violation or near-miss planted in the feed.
public struct PlantedViolation: Sendable, Equatable {
    public var id: String
    /// `tracker_uncovered`, `tracker_open_short`, `camera_spill`, ...
    public var kind: String
    public var rule: String
    /// Whether its signals raise (or join) an alert.
    public var alertExpected: Bool
    /// Signals the rule gives for it (0 for a near-miss).
    public var expectedSignals: Int
    /// The incident it belongs to, when it fires.
    public var incident: String?
    /// The truck concerned (the suspected party, when one is known).
    public var device: String?
    public var plate: String?
    /// What reports it: the tracker's device, a camera or a drone.
    public var source: String
    /// Device time (payload `ts`) of the window; one instant for an event.
    public var from: Instant
    public var to: Instant
    public var confidence: Double?
    /// For a single message: its topic, receive time and feed line.
    public var topic: String?
    public var t: Instant?
    public var line: Int?
    public var note: String
    var tag: String?

    /// Kinds meant to fire; every other kind is a near-miss.
    public static let firingKinds: Set<String> = ["tracker_uncovered", "camera_uncovered_load", "camera_spill", "drone_spill",
                                                  "tracker_body_raised", "tracker_load_drop", "tracker_off_hours",
                                                  "tracker_goes_dark", "tracker_unwashed_exit", "fume_high_mean",
                                                  "purifier_off_long", "drone_uncovered_load", "camera_spill_unplated",
                                                  "tracker_load_dumped", "camera_unwashed_exit", "tracker_expired_permit",
                                                  "jt808_uncovered_load", "hj212_high_mean"]
}

/// A message the daemon must dead-letter, and why.
public struct PlantedBadMessage: Sendable, Equatable {
    public var id: String
    public var reason: DeadLetterReason
    public var topic: String
    public var t: Instant
    public var line: Int?
    public var binary: Bool
    public var note: String
    var tag: String
}

/// A redelivered message that must be recognised and not processed again.
public struct PlantedDuplicate: Sendable, Equatable {
    public var id: String
    /// The planted item whose message it repeats.
    public var of: String
    public var topic: String
    public var t: Instant
    public var line: Int?
    var tag: String
}

/// What the pipeline should open: one alert and one draft case each.
public struct ExpectedIncident: Sendable, Equatable {
    public var id: String
    public var rule: String
    public var severity: String
    public var subjectKind: String
    public var subjectId: String
    public var plate: String?
    public var firstSignal: Instant
    public var lastSignal: Instant
    public var signals: Int
    public var planted: [String]
    public var priorIncidents: Int
    public var suggestedAction: String
    /// For an incident attribution opened: the other trucks whose tracks passed (devices, nearest first).
    public var candidates: [String] = []
}

/// What a written feed holds.
public struct ScenarioSummary: Sendable, Equatable {
    public var lines = 0
    /// Messages by kind (the keys of `ScenarioSummary.kinds`).
    public var byKind: [String: Int] = [:]
    /// Feed line numbers of the planted messages, by tag.
    var lineOf: [String: Int] = [:]

    public static let kinds = ["truck_telemetry", "fume_reading", "camera_event", "drone_telemetry", "drone_event",
                               "bad", "duplicate"]
}

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
    private var showcase: RuleShowcase
    /// Attribution with candidates, weight, permits, geofence realism.
    private var extras: ShowcaseExtras
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

// MARK: - Randomness

/// SplitMix64 (Steele, Lea and Flood, 2014): small, fast, and the same on
/// every platform. Each truck, monitor and purpose gets its own.
public struct SplitMix64: Sendable {
    private var state: UInt64

    public init(state: UInt64) { self.state = state }

    init(_ seed: UInt64, _ purpose: Purpose, _ index: UInt64 = 0) {
        var a = SplitMix64(state: seed)
        var b = SplitMix64(state: a.next() ^ (purpose.rawValue &* 0xD1B5_4A32_D192_ED03))
        state = b.next() ^ (index &* 0x9E37_79B9_7F4A_7C15)
        _ = next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * unit() }
    mutating func int(_ lo: Int, _ hi: Int) -> Int { lo + Int(next() % UInt64(hi - lo + 1)) }
    mutating func chance(_ p: Double) -> Bool { unit() < p }
}

enum Purpose: UInt64 {
    case world = 1, truckPlan, truckNoise, truckEvents, route, fume, drone, siteCamera, bad, registry
}

// MARK: - Formatting

func pad(_ v: Int, _ width: Int) -> String {
    let s = String(v)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

/// `v` with exactly `decimals` decimals, from integer arithmetic.
func fixed(_ v: Double, _ decimals: Int) -> String {
    var scale: Int64 = 1
    for _ in 0..<decimals { scale *= 10 }
    let n = Int64((v * Double(scale)).rounded())
    let a = n.magnitude
    var s = n < 0 ? "-" : ""
    s += String(a / UInt64(scale))
    if decimals > 0 {
        let f = String(a % UInt64(scale))
        s += "." + String(repeating: "0", count: decimals - f.count) + f
    }
    return s
}

enum Clock {
    static let offset = 8 * 3600

    /// `2026-11-24T22:15:03+08:00` (whole seconds, as trackers send) or with `.mmm`.
    static func local(_ millis: Int64, withMillis: Bool) -> String {
        let s = RFC3339.format(Instant(millis: millis), offsetSeconds: offset)
        guard !withMillis else { return s }
        var u = Array(s.utf8)
        u.removeSubrange(19..<23)
        return String(decoding: u, as: UTF8.self)
    }

    /// `20261124-2215` and the seconds into that minute, for a clip segment.
    static func segment(_ millis: Int64) -> (name: String, offsetS: Double) {
        let u = Array(RFC3339.format(Instant(millis: millis), offsetSeconds: offset).utf8)
        let name = String(decoding: u[0..<4] + u[5..<7] + u[8..<10] + [UInt8(ascii: "-")] + u[11..<13] + u[14..<16],
                          as: UTF8.self)
        let seconds = Int(u[17] - 48) * 10 + Int(u[18] - 48)
        let ms = Int(u[20] - 48) * 100 + Int(u[21] - 48) * 10 + Int(u[22] - 48)
        return (name, Double(seconds) + Double(ms) / 1000)
    }
}

enum Topics {
    static func truck(_ d: String) -> String { "muckwatch/v1/truck/\(d)/telemetry" }
    static func fume(_ d: String) -> String { "muckwatch/v1/fume/\(d)/reading" }
    static func camera(_ d: String) -> String { "muckwatch/v1/camera/\(d)/event" }
    static func drone(_ d: String) -> String { "muckwatch/v1/drone/\(d)/telemetry" }
    static func droneEvent(_ d: String) -> String { "muckwatch/v1/drone/\(d)/event" }
}

enum Payloads {
    /// A camera or drone event (§4.3).
    static func event(key: String, source: String, eventId: String, tsMillis: Int64, type: String, plate: String?,
                      confidence: Double, at p: Point, clipPrefix: String,
                      clip: (url: String, offset: Double)? = nil) -> String {
        var s = "{\"" + key + "\":\"" + source + "\",\"event_id\":\"" + eventId + "\",\"ts\":\""
        s += Clock.local(tsMillis, withMillis: true) + "\",\"type\":\"" + type + "\""
        if let plate { s += ",\"plate\":\"" + plate + "\"" }
        s += ",\"confidence\":" + fixed(confidence, 2)
        s += ",\"lat\":" + fixed(ScenarioGeo.lat(p), 6) + ",\"lon\":" + fixed(ScenarioGeo.lon(p), 6)
        let c = clip ?? {
            let seg = Clock.segment(tsMillis)
            return ("file:///var/lib/muckwatch/media/" + clipPrefix + "/seg-" + seg.name + ".ts", seg.offsetS)
        }()
        s += ",\"clip\":{\"url\":\"" + c.url + "\",\"offset_s\":" + fixed(c.offset, 1) + "}}"
        return s
    }
}

// MARK: - Geometry (metres east and north of the city centre)

struct Point: Equatable {
    var x: Double
    var y: Double

    func distance(to p: Point) -> Double {
        let dx = p.x - x, dy = p.y - y
        return (dx * dx + dy * dy).squareRoot()
    }

    func lerp(_ p: Point, _ f: Double) -> Point { Point(x: x + (p.x - x) * f, y: y + (p.y - y) * f) }
    func moved(_ dx: Double, _ dy: Double) -> Point { Point(x: x + dx, y: y + dy) }
}

enum ScenarioGeo {
    /// Futian, Shenzhen.
    static let lat0 = 22.5431, lon0 = 114.0579
    /// WGS-84 metres per degree at 22.54° N.
    static let metresPerDegreeLat = 110_738.0, metresPerDegreeLon = 102_864.0

    static func lat(_ p: Point) -> Double { lat0 + p.y / metresPerDegreeLat }
    /// The point as the feed writes it: six decimals, read back.
    static func written(_ p: Point) -> GeoPoint {
        GeoPoint(lat: Double(fixed(lat(p), 6))!, lon: Double(fixed(lon(p), 6))!)
    }
    static func lon(_ p: Point) -> Double { lon0 + p.x / metresPerDegreeLon }

    /// Compass bearing in whole degrees, 0 = north.
    static func bearing(_ a: Point, _ b: Point) -> Int {
        let deg = atan2(b.x - a.x, b.y - a.y) * 180 / Double.pi
        return (Int(deg.rounded()) + 360) % 360
    }
}

/// A polyline with its cumulative lengths and per-segment headings.
struct Route {
    let points: [Point]
    let cumulative: [Double]
    let headings: [Int]

    init(_ points: [Point]) {
        self.points = points
        var c = [0.0]
        var h: [Int] = []
        for i in 1..<points.count {
            c.append(c[i - 1] + points[i - 1].distance(to: points[i]))
            h.append(ScenarioGeo.bearing(points[i - 1], points[i]))
        }
        cumulative = c
        headings = h
    }

    var length: Double { cumulative[cumulative.count - 1] }

    func at(_ distance: Double, hint: inout Int) -> (Point, Int) {
        let d = min(max(distance, 0), length)
        if hint >= points.count - 1 || cumulative[hint] > d { hint = 0 }
        while hint < points.count - 2 && cumulative[hint + 1] < d { hint += 1 }
        let len = cumulative[hint + 1] - cumulative[hint]
        let f = len > 0 ? (d - cumulative[hint]) / len : 0
        return (points[hint].lerp(points[hint + 1], f), headings[hint])
    }

    /// A road between two gates: one to three waypoints off the straight line.
    static func road(from a: Point, to b: Point, seed: UInt64, key: UInt64) -> Route {
        var rng = SplitMix64(seed, .route, key)
        let d = a.distance(to: b)
        let n = min(3, max(1, Int(d / 3000)))
        let dx = b.x - a.x, dy = b.y - a.y
        let px = d > 0 ? -dy / d : 0, py = d > 0 ? dx / d : 0
        var points = [a]
        for i in 1...n {
            let f = Double(i) / Double(n + 1) + rng.uniform(-0.05, 0.05)
            let off = rng.uniform(-0.12, 0.12) * d
            points.append(Point(x: a.x + dx * f + px * off, y: a.y + dy * f + py * off))
        }
        points.append(b)
        return Route(points)
    }
}

// MARK: - Motion along a route

/// A stretch of constant acceleration (speeds in m/s, times from the drive's start).
struct Piece {
    var t0: Double
    var dur: Double
    var v0: Double
    var v1: Double
    var s0: Double
}

/// A forced slow-down inside a drive: stand still or crawl for a while.
struct Hold {
    var at: Double
    var duration: Double
    var speed: Double
    /// When it began, once placed (nil when the drive was too short for it).
    var start: Double?
}

struct Motion {
    struct Limits {
        var minCruise: Double
        var maxCruise: Double
        var trafficStops: Bool
        var accel = 0.7
        var brake = 1.1

        static let road = Limits(minCruise: 25 / 3.6, maxCruise: 52 / 3.6, trafficStops: true)
        static let yard = Limits(minCruise: 5 / 3.6, maxCruise: 10 / 3.6, trafficStops: false)
    }

    var pieces: [Piece]
    var duration: Double { pieces.last.map { $0.t0 + $0.dur } ?? 0 }

    func at(_ tau: Double, hint: inout Int) -> (distance: Double, speed: Double) {
        guard !pieces.isEmpty else { return (0, 0) }
        if hint >= pieces.count || pieces[hint].t0 > tau { hint = 0 }
        while hint < pieces.count - 1 && pieces[hint].t0 + pieces[hint].dur <= tau { hint += 1 }
        let p = pieces[hint]
        let x = min(max(tau - p.t0, 0), p.dur)
        let a = p.dur > 0 ? (p.v1 - p.v0) / p.dur : 0
        return (p.s0 + p.v0 * x + a * x * x / 2, p.v0 + a * x)
    }

    /// Speeds for a drive of `length` metres: pull away, cruise with changes,
    /// red lights (none near `calm`), the `holds`, and brake to a stop at the end.
    static func make(length: Double, limits: Limits, holds: inout [Hold], calm: [ClosedRange<Double>],
                     rng: inout SplitMix64) -> Motion {
        var pieces: [Piece] = []
        var t = 0.0, s = 0.0, v = 0.0
        func add(_ dur: Double, _ v1: Double) {
            guard dur > 0 else { v = v1; return }
            pieces.append(Piece(t0: t, dur: dur, v0: v, v1: v1, s0: s))
            s += (v + v1) / 2 * dur
            t += dur
            v = v1
        }
        func brakeDistance(_ v: Double) -> Double { v * v / (2 * limits.brake) }
        func ramp(_ from: Double, _ to: Double) -> Double {
            to >= from ? (to - from) / limits.accel : (from - to) / limits.brake
        }
        func fits(_ dur: Double, _ v1: Double) -> Bool { s + (v + v1) / 2 * dur + brakeDistance(v1) <= length }
        func calmAround(_ a: Double, _ b: Double) -> Bool { calm.contains { $0.lowerBound <= b && a <= $0.upperBound } }

        var nextHold = 0
        while true {
            if nextHold < holds.count && t >= holds[nextHold].at {
                let h = holds[nextHold]
                nextHold += 1
                let d = ramp(v, h.speed)
                let need = s + (v + h.speed) / 2 * d + h.speed * h.duration + brakeDistance(h.speed) + 100
                if need <= length {
                    add(d, h.speed)
                    holds[nextHold - 1].start = t
                    add(h.duration, h.speed)
                    continue
                }
            }
            if limits.trafficStops && v > 3 && length - s > 500 && !calmAround(t, t + 150) && rng.chance(0.14) {
                let d = ramp(v, 0)
                let wait = rng.uniform(15, 60)
                if fits(d, 0) {
                    add(d, 0)
                    add(wait, 0)
                    continue
                }
            }
            var target = v < limits.minCruise ? rng.uniform(limits.minCruise, limits.maxCruise) : v + rng.uniform(-3, 3)
            target = min(max(target, limits.minCruise), limits.maxCruise)
            let dur = max(ramp(v, target), rng.uniform(12, 40))
            if fits(dur, target) {
                add(dur, target)
                continue
            }
            let remaining = length - s
            if v < 0.3 {
                let peak = min(target, (remaining / (1 / (2 * limits.accel) + 1 / (2 * limits.brake))).squareRoot())
                let cruise = remaining - peak * peak / (2 * limits.accel) - brakeDistance(peak)
                add(peak / limits.accel, peak)
                if cruise > 0.01 { add(cruise / peak, peak) }
                add(peak / limits.brake, 0)
            } else {
                let cruise = remaining - brakeDistance(v)
                if cruise > 0.01 { add(cruise / v, v) }
                add(v / limits.brake, 0)
            }
            break
        }
        return Motion(pieces: pieces)
    }
}

// MARK: - The world: sites, cameras, companies, trucks, monitors

struct ScenarioSite {
    enum Kind: String { case construction, disposal }
    var kind: Kind
    var number: Int
    var id: String
    var name: String
    var centre: Point
    var halfW: Double
    var halfH: Double
    var ring: [Point]
    var gate: Point
    var camera: String
    var washId: String?
    var washName: String?
    var washRing: [Point] = []
    var washCentre: Point
    /// The ends of the side the gate is on, and the unit vector into the site across it.
    var gateSide: (a: Point, b: Point) = (Point(x: 0, y: 0), Point(x: 0, y: 0))
    var inward = Point(x: 0, y: 0)
}

/// The scripted trucks of each block of 50 (the first six).
enum Slot: Int, CaseIterable {
    /// A: tracker uncovered 90 s; camera spill at the gate (and its redelivery).
    case a
    /// B: near-misses: cover open 20 s moving, open at a roadside stop, open crawling at 3 km/h.
    case b
    /// C: camera sees it leave uncovered; the tracker confirms (one incident); 0.59 detection at the tip.
    case c
    /// D: starts at a disposal site: 0.59 spill detection there; drives back empty with the cover open.
    case d
    /// E: uncovered at the gate and again on arrival at the tip.
    case e
    /// F: a drone finds a spill on its route.
    case f
}

struct TruckSpec {
    var index: Int
    var device: String
    var plate: String
    var company: String
    var emptyKg: Int
    var netKg: Int
    /// The weighing sensor reads this much under the registered empty weight.
    var scaleBias: Int
    var hasScale: Bool
    var sendsPlate: Bool
    var sendsBody: Bool
    var home: Int
    var block: Int
    var slot: Slot?
    /// When a scripted truck leaves for its first road drive (s from the start).
    var departure: Double
}

final class World {
    let options: ScenarioOptions
    let seed: UInt64
    let duration: Double
    var sites: [ScenarioSite] = []
    var construction: [Int] = []
    var disposal: [Int] = []
    var companies: [String] = []
    var trucks: [TruckSpec] = []
    var monitors: [(id: String, restaurant: String, address: String)] = []
    static let blockSize = 50
    var blocks: Int { (options.trucks + Self.blockSize - 1) / Self.blockSize }

    init(options: ScenarioOptions) {
        self.options = options
        seed = options.seed
        duration = options.hours * 3600
        var rng = SplitMix64(seed, .world)
        buildSites(&rng)
        buildCompanies(&rng)
        buildTrucks()
        buildMonitors(&rng)
    }

    func instant(_ s: Double) -> Instant { Instant(millis: options.start.millis + Int64((s * 1000).rounded())) }

    private static let districts = ["福田", "南山", "罗湖", "龙华", "宝安", "龙岗", "光明", "坪山"]
    private static let areas = ["中心区", "科技园", "后海", "梅林", "西丽", "北站", "新城", "湾区", "车公庙", "华强北"]
    private static let projects = ["地铁站", "住宅", "商业综合体", "学校", "医院", "产业园", "道路改造", "安置房", "体育馆", "污水厂"]
    private static let tips = ["黄麻布", "塘朗", "清林径", "坪地", "石岩", "松岗", "公明", "观澜", "红花岭", "老虎坑"]

    private func buildSites(_ rng: inout SplitMix64) {
        let n = options.trucks
        let cCount = min(200, max(3, n / 8 + 2))
        let dCount = min(40, max(2, n / 60 + 2))
        let rC = max(7000, Double(cCount).squareRoot() * 700)
        var centres: [Point] = []
        func place(_ count: Int, _ minR: Double, _ maxR: Double, _ spacing: Double) -> [Point] {
            var out: [Point] = []
            var sp = spacing
            var attempts = 0
            while out.count < count {
                let p = Point(x: rng.uniform(-maxR, maxR), y: rng.uniform(-1500, maxR))
                let r = p.distance(to: Point(x: 0, y: 0))
                attempts += 1
                if attempts > 3000 { sp *= 0.85; attempts = 0 }
                guard r >= minR, r <= maxR, !centres.contains(where: { $0.distance(to: p) < sp }) else { continue }
                centres.append(p)
                out.append(p)
            }
            return out
        }
        var usedNames = Set<String>()
        func unique(_ name: String) -> String {
            var n = name, k = 2
            while usedNames.contains(n) { n = name + "（\(k)期）"; k += 1 }
            usedNames.insert(n)
            return n
        }
        let cWidth = max(2, String(cCount).count), dWidth = max(2, String(dCount).count)
        for (i, c) in place(cCount, 1000, rC, 700).enumerated() {
            let name = unique(Self.districts[rng.int(0, 7)] + Self.areas[rng.int(0, 9)] + Self.projects[rng.int(0, 9)] + "项目")
            let id = "CS-" + pad(i + 1, cWidth)
            var site = shape(.construction, i + 1, id, name, c, halfW: rng.uniform(60, 110), halfH: rng.uniform(45, 80), &rng)
            site.camera = "CAM-CS" + pad(i + 1, cWidth)
            site.washId = "WZ-" + pad(i + 1, cWidth)
            site.washName = name + "洗车槽"
            construction.append(sites.count)
            sites.append(site)
        }
        for (i, c) in place(dCount, rC, rC + 6000, 1500).enumerated() {
            let name = unique(Self.districts[rng.int(0, 7)] + Self.tips[rng.int(0, 9)] + "建筑废弃物受纳场")
            let id = "DS-" + pad(i + 1, dWidth)
            var site = shape(.disposal, i + 1, id, name, c, halfW: rng.uniform(160, 230), halfH: rng.uniform(110, 160), &rng)
            site.camera = "CAM-DS" + pad(i + 1, dWidth)
            disposal.append(sites.count)
            sites.append(site)
        }
    }

    /// A quadrilateral site with its gate on the side facing the city centre
    /// and, for construction sites, a wash zone just inside the gate.
    private func shape(_ kind: ScenarioSite.Kind, _ number: Int, _ id: String, _ name: String, _ c: Point,
                       halfW: Double, halfH: Double, _ rng: inout SplitMix64) -> ScenarioSite {
        let j = 8.0
        let sw = c.moved(-halfW + rng.uniform(-j, j), -halfH + rng.uniform(-j, j))
        let se = c.moved(halfW + rng.uniform(-j, j), -halfH + rng.uniform(-j, j))
        let ne = c.moved(halfW + rng.uniform(-j, j), halfH + rng.uniform(-j, j))
        let nw = c.moved(-halfW + rng.uniform(-j, j), halfH + rng.uniform(-j, j))
        let ring = [sw, se, ne, nw]
        let (a, b, inward): (Point, Point, (Double, Double)) =
            abs(c.x) > abs(c.y)
            ? (c.x > 0 ? (nw, sw, (1, 0)) : (se, ne, (-1, 0)))
            : (c.y > 0 ? (sw, se, (0, 1)) : (ne, nw, (0, -1)))
        let mid = a.lerp(b, 0.5)
        let gate = mid.moved(inward.0 * 4, inward.1 * 4)
        let washCentre = mid.moved(inward.0 * 25, inward.1 * 25)
        var site = ScenarioSite(kind: kind, number: number, id: id, name: name, centre: c, halfW: halfW, halfH: halfH,
                        ring: ring, gate: gate, camera: "", washCentre: washCentre)
        site.gateSide = (a, b)
        site.inward = Point(x: inward.0, y: inward.1)
        if kind == .construction {
            let (hx, hy) = inward.0 == 0 ? (12.0, 4.0) : (4.0, 12.0)
            site.washRing = [washCentre.moved(-hx, -hy), washCentre.moved(hx, -hy),
                             washCentre.moved(hx, hy), washCentre.moved(-hx, hy)]
        }
        return site
    }

    private static let brands = ["鹏城", "鹏达", "恒通", "华建", "深港", "宏运", "顺达", "盛泰", "金鹏", "安顺",
                                 "新城", "裕丰", "粤通", "祥和", "建安", "德信"]
    private static let trades = ["渣土运输有限公司", "土石方工程有限公司", "建筑废弃物运输有限公司"]

    private func buildCompanies(_ rng: inout SplitMix64) {
        let count = min(400, max(2, options.trucks / 10 + 1))
        var names: [String] = []
        for d in [""] + Self.districts {
            for t in Self.trades { for b in Self.brands { names.append("深圳市" + d + b + t) } }
        }
        // A seeded shuffle of the first 48, then the district-named ones.
        var head = Array(names[0..<48])
        for i in stride(from: head.count - 1, to: 0, by: -1) { head.swapAt(i, rng.int(0, i)) }
        companies = Array((head + names[48...]).prefix(count))
    }

    private func buildTrucks() {
        var rng = SplitMix64(seed, .registry)
        let n = options.trucks
        let width = max(4, String(n).count)
        let letters = Array("ABCDEFGHJKLMNPQRSTUVWXYZ")
        let offset = Int(rng.next() % 240_000)
        for i in 0..<n {
            let k = (i * 104_729 + offset) % 240_000  // a permutation: 104729 is prime to 240000
            // 粤BS9000-粤BS9099 are the showcases' (a 5-digit plate stands in for any the trips would take).
            let plate = k / 100 == 1690 ? "粤B9S" + pad(k % 100, 3) : "粤B" + String(letters[k / 10_000]) + pad(k % 10_000, 4)
            let block = i / Self.blockSize
            let slotIndex = i - block * Self.blockSize
            let slot = Slot(rawValue: slotIndex)
            let blockOffset = block == 0 ? 0.0 : Double((block * 331) % max(60, Int(duration) - 2700))
            var home = rng.int(0, construction.count - 1)
            if slot != nil { home = (block * 6 + slotIndex) % construction.count }
            trucks.append(TruckSpec(
                index: i, device: "T-" + pad(i + 1, width), plate: plate,
                company: companies[rng.int(0, companies.count - 1)],
                emptyKg: rng.int(230, 290) * 50, netKg: rng.int(280, 380) * 50, scaleBias: rng.int(4, 20) * 10,
                hasScale: i % 3 != 2, sendsPlate: i % 4 != 1, sendsBody: i % 5 != 4,
                home: construction[home], block: block, slot: slot,
                departure: Double(60 * (3 + 5 * slotIndex)) + blockOffset))
        }
    }

    private static let restaurants = ["湘味小馆", "潮汕牛肉火锅", "川香麻辣烫", "粤式茶餐厅", "东北烧烤", "兰州拉面",
                                      "客家菜馆", "海鲜大排档", "深夜粥铺", "重庆小面"]
    private static let roads = ["华强北路", "深南大道", "福华路", "红荔路", "莲花路", "新洲路", "车公庙路", "彩田路"]

    private func buildMonitors(_ rng: inout SplitMix64) {
        for i in 0..<options.fumeMonitors {
            let d = Self.districts[rng.int(0, 3)]
            let road = Self.roads[rng.int(0, 7)]
            monitors.append((id: "F-" + pad(101 + i, 4),
                             restaurant: Self.restaurants[rng.int(0, 9)] + "（" + road + "店）",
                             address: d + "区" + road + String(rng.int(1, 300)) + "号"))
        }
    }

    /// Where a truck tips its load: on a scripted first trip a near tip (at
    /// least 3 km by air) or the farthest of the nearest four; else one of the nearest three.
    func disposalSite(from home: Int, slot: Slot?, rng: inout SplitMix64) -> Int {
        let g = sites[home].gate
        let byDistance = disposal.sorted { (sites[$0].gate.distance(to: g), $0) < (sites[$1].gate.distance(to: g), $1) }
        let near = Array(byDistance.prefix(4))
        switch slot {
        case .b?, .e?: return near.last!
        case .a?, .c?, .f?: return near.first { sites[$0].gate.distance(to: g) >= 3000 } ?? near.last!
        default: return near[rng.int(0, min(2, near.count - 1))]
        }
    }
}

// MARK: - Streams

struct ScenarioMessage {
    enum Kind: String, CaseIterable {
        case truck = "truck_telemetry", fume = "fume_reading", camera = "camera_event"
        case droneTelemetry = "drone_telemetry", droneEvent = "drone_event", bad, duplicate

        var index: Int {
            switch self {
            case .truck: 0
            case .fume: 1
            case .camera: 2
            case .droneTelemetry: 3
            case .droneEvent: 4
            case .bad: 5
            case .duplicate: 6
            }
        }
    }

    var t: Int64
    /// UTF-8, as the feed line needs it.
    var topic: [UInt8]
    var payload: [UInt8]
    var kind: Kind
    var tag: String? = nil
    /// Tie-breaker for messages with the same `t` from one stream.
    var order = 0

    init(t: Int64, topic: [UInt8], payload: [UInt8], kind: Kind, tag: String? = nil, order: Int = 0) {
        self.t = t
        self.topic = topic
        self.payload = payload
        self.kind = kind
        self.tag = tag
        self.order = order
    }

    init(t: Int64, topic: String, payload: [UInt8], kind: Kind, tag: String? = nil, order: Int = 0) {
        self.init(t: t, topic: Array(topic.utf8), payload: payload, kind: kind, tag: tag, order: order)
    }

    var topicText: String { String(decoding: topic, as: UTF8.self) }

    /// The feed line (SPEC §8) exactly as `FeedMessage.feedLine` writes it,
    /// appended as bytes: the generator's hot path.
    func appendFeedLine(to out: inout Bytes) {
        out.add("{\"t\":\"")
        out.time(t, offsetSeconds: 0, withMillis: true)
        out.add("\",\"topic\":")
        out.quoted(topic)
        out.add(",\"qos\":1,\"retain\":false,")
        // Binary: planted bad messages and JT/T 808 frames; everything else was built from Strings.
        if (kind == .bad || payload.first == 0x7e) && String(validating: payload, as: UTF8.self) == nil {
            out.add("\"payload_b64\":\"")
            out.add(Data(payload).base64EncodedString())
            out.add("\"}")
        } else {
            out.add("\"payload\":")
            out.quoted(payload)
            out.add("}")
        }
    }
}

/// A byte buffer with the JSON and time formatting the feed needs.
struct Bytes {
    var b: [UInt8] = []

    mutating func add(_ s: StaticString) { s.withUTF8Buffer { b.append(contentsOf: $0) } }
    mutating func add(_ s: [UInt8]) { b.append(contentsOf: s) }
    mutating func add(_ s: String) { b.append(contentsOf: s.utf8) }

    mutating func int(_ v: Int64) {
        if v < 0 { b.append(UInt8(ascii: "-")) }
        var m = v.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[n] = UInt8(48 + m % 10)
                m /= 10
                n += 1
            } while m > 0
            while n > 0 {
                n -= 1
                b.append(d[n])
            }
        }
    }

    /// `v` zero-padded to `width` digits (v ≥ 0).
    mutating func padded(_ v: Int, _ width: Int) {
        var w = 1, p = 10
        while p <= v { w += 1; p *= 10 }
        for _ in w..<max(w, width) { b.append(48) }
        int(Int64(v))
    }

    /// As `fixed(_:_:)`.
    mutating func fixed(_ v: Double, _ decimals: Int) {
        var scale: Int64 = 1
        for _ in 0..<decimals { scale *= 10 }
        let n = Int64((v * Double(scale)).rounded())
        if n < 0 { b.append(UInt8(ascii: "-")) }
        let a = Int64(n.magnitude)
        int(a / scale)
        if decimals > 0 {
            b.append(UInt8(ascii: "."))
            padded(Int(a % scale), decimals)
        }
    }

    /// As `RFC3339.format` (`Z` for offset 0), without `.mmm` if asked.
    mutating func time(_ millis: Int64, offsetSeconds: Int, withMillis: Bool) {
        let local = millis + Int64(offsetSeconds) * 1000
        let ms = Int(((local % 1000) + 1000) % 1000)
        let total = (local - Int64(ms)) / 1000
        var days = total / 86_400
        if total % 86_400 != 0 && total < 0 { days -= 1 }
        let sec = Int(total - days * 86_400)
        let (y, m, d) = RFC3339.civilFromDays(Int(days))
        padded(y, 4); b.append(UInt8(ascii: "-")); padded(m, 2); b.append(UInt8(ascii: "-")); padded(d, 2)
        b.append(UInt8(ascii: "T"))
        padded(sec / 3600, 2); b.append(UInt8(ascii: ":")); padded(sec / 60 % 60, 2); b.append(UInt8(ascii: ":"))
        padded(sec % 60, 2)
        if withMillis { b.append(UInt8(ascii: ".")); padded(ms, 3) }
        if offsetSeconds == 0 { b.append(UInt8(ascii: "Z")); return }
        let a = abs(offsetSeconds)
        b.append(UInt8(ascii: offsetSeconds < 0 ? "-" : "+"))
        padded(a / 3600, 2); b.append(UInt8(ascii: ":")); padded(a / 60 % 60, 2)
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// A JSON string of UTF-8 bytes, escaped as `JSONLine` does.
    mutating func quoted(_ s: [UInt8]) {
        b.append(UInt8(ascii: "\""))
        for c in s {
            switch c {
            case UInt8(ascii: "\""): b.append(UInt8(ascii: "\\")); b.append(c)
            case UInt8(ascii: "\\"): b.append(c); b.append(c)
            case 0x0A: b.append(UInt8(ascii: "\\")); b.append(UInt8(ascii: "n"))
            case 0x0D: b.append(UInt8(ascii: "\\")); b.append(UInt8(ascii: "r"))
            case 0x09: b.append(UInt8(ascii: "\\")); b.append(UInt8(ascii: "t"))
            case 0..<0x20:
                add("\\u00")
                b.append(Self.hex[Int(c >> 4)])
                b.append(Self.hex[Int(c & 0x0f)])
            default: b.append(c)
            }
        }
        b.append(UInt8(ascii: "\""))
    }
}

protocol FeedSource: AnyObject {
    /// The next message, in non-decreasing `t`; nil when done.
    func next() -> ScenarioMessage?
}

/// A binary min-heap of stream heads by (t, stream).
struct StreamHeap {
    private var items: [(t: Int64, stream: Int)] = []

    private static func less(_ a: (t: Int64, stream: Int), _ b: (t: Int64, stream: Int)) -> Bool {
        a.t != b.t ? a.t < b.t : a.stream < b.stream
    }

    mutating func push(t: Int64, stream: Int) {
        items.append((t, stream))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.less(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> (Int64, Int)? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && Self.less(items[l], items[m]) { m = l }
                if r < items.count && Self.less(items[r], items[m]) { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return (top.t, top.stream)
    }
}

final class ScriptStream: FeedSource {
    private let messages: [ScenarioMessage]
    private var i = 0

    init(_ messages: [ScenarioMessage]) { self.messages = messages }

    func next() -> ScenarioMessage? {
        guard i < messages.count else { return nil }
        defer { i += 1 }
        return messages[i]
    }
}

// MARK: - Trucks

struct Phase {
    enum Kind { case waiting, loading, washing, unloading, driving }
    var kind: Kind
    var from: Double
    var to: Double
    var place = Point(x: 0, y: 0)
    var heading = 0
    var loaded = false
    var route: Route? = nil
    var motion: Motion? = nil
    var road = false
    var fromSite = 0
    var toSite = 0

    var isSiteStop: Bool { kind != .driving }
}

/// One tracker report, before it is written.
struct TruckReport {
    var tick: Int64
    var t: Int64
    var p: Point
    var speedTenths: Int
    var heading: Int
    var coverOpen: Bool
    var load: String
    var loadKg: Int?
    var body: String
    var seq: Int64
}

/// A planted item as its truck stream made it (before ids are given out).
struct PlantRecord {
    var item: PlantedViolation
    var window: ClosedRange<Double>
    var duplicate: ScenarioMessage?
}

/// One truck: its plan, generated a site visit at a time just ahead of its
/// reports; its tracker's telemetry; and the gate cameras' detections of it.
final class TruckStream: FeedSource {
    let spec: TruckSpec
    private let world: World
    private let interval: Int64
    private let parkedInterval: Int64
    /// In the wash zone at least every 10 s, so the wash shows as a dwell of 9+ fixes.
    private let washInterval: Int64
    private let end: Int64
    private var planRng: SplitMix64
    private var noise: SplitMix64
    private var eventRng: SplitMix64
    private var phases: [Phase] = []
    private var phaseIndex = 0
    private var planEnd = 0.0
    private var atConstruction: Bool
    private var roads = 0
    private var heading: Int
    private var currentDisposal = 0
    private var firstHolds: [Hold] = []
    private var overrides: [ClosedRange<Double>] = []
    private(set) var records: [PlantRecord] = []
    private(set) var firstRoad: Phase?
    private var pending: [ScenarioMessage] = []
    private var lookahead: ScenarioMessage?
    private var tick: Int64
    private var seq: Int64
    private var lastT: Int64 = .min
    private var eventCount = 0
    private var telemetryDone = false
    private var routeHint = 0, motionHint = 0
    private let topic: [UInt8]
    private let payloadHead: [UInt8]
    private let payloadPlate: [UInt8]

    init(spec: TruckSpec, world: World) {
        self.spec = spec
        self.world = world
        topic = Array(Topics.truck(spec.device).utf8)
        payloadHead = Array(("{\"device\":\"" + spec.device + "\",\"ts\":\"").utf8)
        payloadPlate = Array((spec.sendsPlate ? "\",\"plate\":\"" + spec.plate + "\"" : "\"").utf8)
        interval = Int64(world.options.reportIntervalS)
        parkedInterval = max(interval, 30)
        washInterval = min(interval, 10)
        end = Int64(world.duration.rounded(.up))
        planRng = SplitMix64(world.seed, .truckPlan, UInt64(spec.index))
        noise = SplitMix64(world.seed, .truckNoise, UInt64(spec.index))
        eventRng = SplitMix64(world.seed, .truckEvents, UInt64(spec.index))
        if let slot = spec.slot {
            atConstruction = slot != .d
        } else {
            atConstruction = planRng.chance(0.55)
        }
        heading = planRng.int(0, 359)
        if !atConstruction { currentDisposal = world.disposalSite(from: spec.home, slot: nil, rng: &planRng) }
        tick = Int64(noise.int(0, Int(interval) - 1))
        seq = Int64(noise.int(1, 40_000))

        // The first visit, then moved in time: a scripted truck leaves for its
        // first road drive when its script says, any other is caught somewhere
        // in its first visit or drive.
        appendVisit()
        let road = phases.last!
        let shift = spec.slot != nil ? spec.departure - road.from : -planRng.uniform(0, road.to)
        for i in phases.indices {
            phases[i].from += shift
            phases[i].to += shift
        }
        planEnd += shift
        if phases[0].from > -1 {
            var wait = phases[0]
            wait.kind = .waiting
            wait.loaded = phases[0].kind == .unloading
            wait.to = wait.from
            wait.from = -60
            phases.insert(wait, at: 0)
        }
        firstRoad = phases.last!
        if spec.slot != nil { plantOnFirstRoad() }
        passEvents(phases.last!, first: true)
    }

    // MARK: Plan

    private func stop(_ kind: Phase.Kind, _ duration: Double, at p: Point, loaded: Bool) {
        phases.append(Phase(kind: kind, from: planEnd, to: planEnd + duration, place: p, heading: heading, loaded: loaded))
        planEnd += duration
    }

    private func drive(_ route: Route, loaded: Bool, road: Bool, from: Int = 0, to: Int = 0,
                       holds: inout [Hold], calm: [ClosedRange<Double>]) {
        let motion = Motion.make(length: route.length, limits: road ? .road : .yard, holds: &holds, calm: calm,
                                 rng: &planRng)
        phases.append(Phase(kind: .driving, from: planEnd, to: planEnd + motion.duration, loaded: loaded,
                            route: route, motion: motion, road: road, fromSite: from, toSite: to))
        planEnd += motion.duration
        heading = route.headings.last ?? heading
    }

    private func yard(_ a: Point, _ b: Point, loaded: Bool) {
        var none: [Hold] = []
        drive(Route([a, b]), loaded: loaded, road: false, holds: &none, calm: [])
    }

    /// What the scripted truck's first road drive must allow (times from its start).
    private func firstRoadConstraints() -> (holds: [Hold], calm: [ClosedRange<Double>]) {
        switch spec.slot {
        case .a?: return ([], [45...170])
        case .b?:
            return ([Hold(at: 200, duration: 120, speed: 0), Hold(at: 420, duration: 70, speed: 3 / 3.6)], [45...100])
        case .c?: return ([], [0...200])
        case .d?: return ([], [60...200])
        default: return ([], [])
        }
    }

    /// Appends one site visit and the road drive that leaves it.
    private func appendVisit() {
        let first = phases.isEmpty
        var holds: [Hold] = []
        var calm: [ClosedRange<Double>] = []
        if roads == 0 { (holds, calm) = firstRoadConstraints() }
        if atConstruction {
            let site = world.sites[spec.home]
            let load = site.centre.moved(planRng.uniform(-0.4, 0.4) * site.halfW, planRng.uniform(-0.4, 0.4) * site.halfH)
            if !first { yard(site.gate, load, loaded: false) }
            stop(.loading, planRng.uniform(420, 720), at: load, loaded: false)
            yard(load, site.washCentre, loaded: true)
            stop(.washing, planRng.uniform(100, 150), at: site.washCentre, loaded: true)
            yard(site.washCentre, site.gate, loaded: true)
            currentDisposal = world.disposalSite(from: spec.home, slot: roads == 0 ? spec.slot : nil, rng: &planRng)
            let tip = world.sites[currentDisposal]
            let route = Route.road(from: site.gate, to: tip.gate, seed: world.seed,
                                   key: UInt64(spec.home) << 20 | UInt64(currentDisposal))
            drive(route, loaded: true, road: true, from: spec.home, to: currentDisposal, holds: &holds, calm: calm)
        } else {
            let tip = world.sites[currentDisposal]
            let dump = tip.centre.moved(planRng.uniform(-0.5, 0.5) * tip.halfW, planRng.uniform(-0.5, 0.5) * tip.halfH)
            if !first { yard(tip.gate, dump, loaded: true) }
            stop(.unloading, planRng.uniform(240, 420), at: dump, loaded: true)
            yard(dump, tip.gate, loaded: false)
            let home = world.sites[spec.home]
            let route = Route.road(from: tip.gate, to: home.gate, seed: world.seed,
                                   key: UInt64(currentDisposal) << 20 | UInt64(spec.home))
            drive(route, loaded: false, road: true, from: currentDisposal, to: spec.home, holds: &holds, calm: calm)
        }
        if roads == 0 { firstHolds = holds }
        roads += 1
        atConstruction.toggle()
    }

    private func extendPlan(until s: Double) {
        while planEnd < s {
            appendVisit()
            passEvents(phases.last!, first: false)
        }
    }

    // MARK: Planted items

    private func record(_ kind: String, from: Double, to: Double, note: String) {
        guard from >= 0, to < world.duration else { return }
        overrides.append(from...to)
        records.append(PlantRecord(
            item: PlantedViolation(
                id: "", kind: kind, rule: "uncovered_load", alertExpected: false, expectedSignals: 0, incident: nil,
                device: spec.device, plate: spec.plate, source: spec.device, from: world.instant(from),
                to: world.instant(to), confidence: nil, topic: nil, t: nil, line: nil, note: note, tag: nil),
            window: from...to))
    }

    private func plantOnFirstRoad() {
        let s = phases.last!.from
        switch spec.slot! {
        case .a:
            record("tracker_uncovered", from: s + 60, to: s + 150,
                   note: "loaded, cover open for 90 s while driving at 25-52 km/h outside every site")
        case .b:
            record("tracker_open_short", from: s + 60, to: s + 80,
                   note: "loaded, cover open for only 20 s while driving (under the 30 s threshold)")
            if let h = firstHolds[0].start {
                record("tracker_open_stationary", from: s + h + 5, to: s + h + 115,
                       note: "loaded, cover open for 110 s while stopped at the roadside (0 km/h)")
            }
            if let h = firstHolds[1].start {
                record("tracker_open_crawling", from: s + h + 5, to: s + h + 65,
                       note: "loaded, cover open for 60 s while crawling at 3 km/h (under 5 km/h)")
            }
        case .c:
            record("tracker_uncovered", from: s, to: s + 150,
                   note: "leaves the site with the cover open for 150 s; joins the gate camera's incident")
        case .d:
            record("tracker_open_empty", from: s + 70, to: s + 190,
                   note: "cover open for 120 s while driving back empty (load empty, load_kg at or under empty_kg)")
        case .e, .f:
            break
        }
    }

    // MARK: Camera detections at the gates

    private func passEvents(_ road: Phase, first: Bool) {
        for departure in [true, false] {
            let site = world.sites[departure ? road.fromSite : road.toSite]
            let ts = departure ? road.from + eventRng.uniform(2, 4) : road.to - eventRng.uniform(1, 3)
            if eventRng.chance(0.65) {
                event(site, ts, "muck_truck", eventRng.uniform(0.8, 0.99), plate: eventRng.chance(0.85))
            }
            if eventRng.chance(0.05) {
                event(site, ts + 0.4, "uncovered_load", eventRng.uniform(0.2, 0.55), plate: eventRng.chance(0.7))
            }
            if eventRng.chance(0.03) {
                event(site, ts + 0.6, "spill", eventRng.uniform(0.1, 0.5), plate: eventRng.chance(0.7))
            }
            guard first, let slot = spec.slot else { continue }
            switch (slot, departure) {
            case (.a, true):
                event(site, ts + 0.9, "spill", eventRng.uniform(0.72, 0.9), plate: true, planted: "camera_spill",
                      note: "gate camera sees mud falling from the loaded truck as it leaves", duplicate: true)
            case (.c, true):
                event(site, ts + 0.9, "uncovered_load", eventRng.uniform(0.78, 0.92), plate: true,
                      planted: "camera_uncovered_load", note: "gate camera sees the truck leave with its load uncovered")
            case (.c, false):
                event(site, ts + 0.9, "uncovered_load", 0.59, plate: true, planted: "camera_uncovered_load_below_threshold",
                      note: "tip gate camera: uncovered load at confidence 0.59, under the 0.6 threshold")
            case (.d, true):
                event(site, ts + 0.9, "spill", 0.59, plate: true, planted: "camera_spill_below_threshold",
                      note: "tip gate camera: spill at confidence 0.59, under the 0.6 threshold")
            case (.e, true):
                event(site, ts + 0.9, "uncovered_load", eventRng.uniform(0.85, 0.95), plate: true,
                      planted: "camera_uncovered_load", note: "gate camera sees the truck leave with its load uncovered")
            case (.e, false):
                event(site, ts + 0.9, "uncovered_load", eventRng.uniform(0.66, 0.75), plate: true,
                      planted: "camera_uncovered_load",
                      note: "tip gate camera sees it arrive still uncovered: a new incident if over 10 min after the last signal")
            default:
                break
            }
        }
    }

    private func event(_ site: ScenarioSite, _ ts: Double, _ type: String, _ confidence: Double, plate: Bool,
                       planted: String? = nil, note: String = "", duplicate: Bool = false) {
        let delay = Int64(eventRng.int(400, 1600))
        guard ts >= 0, ts < world.duration else { return }
        eventCount += 1
        let tsMs = world.instant(ts).millis
        let payload = Payloads.event(
            key: "camera", source: site.camera, eventId: "e-" + spec.device.dropFirst(2) + "-" + pad(eventCount, 4),
            tsMillis: tsMs, type: type, plate: plate ? spec.plate : nil, confidence: confidence,
            at: site.gate, clipPrefix: site.camera.lowercased())
        var m = ScenarioMessage(t: tsMs + delay, topic: Topics.camera(site.camera), payload: Array(payload.utf8),
                                kind: .camera, order: eventCount)
        if let planted {
            m.tag = spec.device + "#" + String(eventCount)
            var dup: ScenarioMessage?
            if duplicate {
                var d = m
                d.t += 1200
                d.kind = .duplicate
                d.tag = m.tag! + "#dup"
                pending.append(d)
                dup = d
            }
            records.append(PlantRecord(
                item: PlantedViolation(
                    id: "", kind: planted, rule: type, alertExpected: false, expectedSignals: 0, incident: nil,
                    device: spec.device, plate: spec.plate, source: site.camera, from: Instant(millis: tsMs),
                    to: Instant(millis: tsMs), confidence: Double(fixed(confidence, 2))!, topic: m.topicText,
                    t: Instant(millis: m.t), line: nil, note: note, tag: m.tag),
                window: ts...ts, duplicate: dup))
        }
        pending.append(m)
    }

    // MARK: Reports

    /// The next tracker report (dropped ones skipped), or nil at the end.
    func nextReport() -> TruckReport? {
        while tick < end {
            let now = Double(tick)
            extendPlan(until: now + 600)
            while phases[phaseIndex].to <= now {
                phaseIndex += 1
                routeHint = 0
                motionHint = 0
            }
            let ph = phases[phaseIndex]
            seq += 1
            let thisTick = tick
            let every = ph.kind == .washing ? washInterval : ph.isSiteStop ? parkedInterval : interval
            tick = ph.isSiteStop ? min(tick + every, Int64(ph.to.rounded(.up))) : tick + every
            if phaseIndex > 8 {
                phases.removeFirst(phaseIndex - 2)
                phaseIndex = 2
            }

            var report = state(ph, at: now)
            report.tick = thisTick
            report.seq = seq
            report.p = report.p.moved(noise.uniform(-1.5, 1.5), noise.uniform(-1.5, 1.5))
            var delay = Int64(noise.int(150, 800))
            if noise.chance(0.02) { delay += Int64(noise.int(1000, 3500)) }
            // A lost report now and then (never inside a planted window).
            if noise.chance(0.004) && !overrides.contains(where: { $0.contains(now) }) { continue }
            let t = max(world.options.start.millis + thisTick * 1000 + delay, lastT + 1)
            lastT = t
            report.t = t
            return report
        }
        return nil
    }

    private func state(_ ph: Phase, at now: Double) -> TruckReport {
        var r = TruckReport(tick: 0, t: 0, p: ph.place, speedTenths: 0, heading: ph.heading, coverOpen: false,
                            load: ph.loaded ? "full" : "empty", loadKg: nil, body: "down", seq: 0)
        var net = ph.loaded ? 1.0 : 0.0
        let u = ph.to > ph.from ? (now - ph.from) / (ph.to - ph.from) : 0
        switch ph.kind {
        case .waiting, .washing:
            break
        case .loading:
            r.coverOpen = u >= 0.06 && u < 0.94
            net = min(max((u - 0.1) / 0.75, 0), 1)
            r.load = net <= 0 ? "empty" : net < 0.97 ? "partial" : "full"
        case .unloading:
            r.coverOpen = u >= 0.08 && u < 0.92
            if u >= 0.2 && u < 0.75 { r.body = "raised" }
            net = 1 - min(max((u - 0.3) / 0.35, 0), 1)
            r.load = net <= 0 ? "empty" : net < 0.97 ? "partial" : "full"
        case .driving:
            let (distance, speed) = ph.motion!.at(now - ph.from, hint: &motionHint)
            let (p, h) = ph.route!.at(distance, hint: &routeHint)
            r.p = p
            let kmh = speed * 3.6
            r.speedTenths = kmh < 1 ? 0 : max(0, Int(((kmh + noise.uniform(-0.8, 0.8)) * 10).rounded()))
            r.heading = r.speedTenths > 0 ? (h + noise.int(-2, 2) + 360) % 360 : h
        }
        if overrides.contains(where: { $0.contains(now) }) { r.coverOpen = true }
        if spec.hasScale {
            let kg = Double(spec.emptyKg - spec.scaleBias) + net * Double(spec.netKg) + noise.uniform(-30, 30)
            r.loadKg = Int((kg / 10).rounded()) * 10
        }
        return r
    }

    func next() -> ScenarioMessage? {
        if lookahead == nil && !telemetryDone {
            if let r = nextReport() {
                lookahead = format(r)
            } else {
                telemetryDone = true
                extendPlan(until: world.duration + 600)
            }
        }
        // A detection goes first when no report can come before it: later
        // reports arrive after the lookahead, later plan phases start 600 s on.
        var best: Int?
        for (i, m) in pending.enumerated() where best == nil || (m.t, m.order) < (pending[best!].t, pending[best!].order) {
            best = i
        }
        if let b = best, lookahead == nil || pending[b].t <= lookahead!.t {
            return pending.remove(at: b)
        }
        defer { lookahead = nil }
        return lookahead
    }

    /// The §4.1 payload, written as bytes (the feed's bulk).
    private func format(_ r: TruckReport) -> ScenarioMessage {
        var s = Bytes()
        s.b.reserveCapacity(280)
        s.add(payloadHead)
        s.time(world.options.start.millis + r.tick * 1000, offsetSeconds: Clock.offset, withMillis: false)
        s.add(payloadPlate)
        s.add(",\"lat\":")
        s.fixed(ScenarioGeo.lat(r.p), 6)
        s.add(",\"lon\":")
        s.fixed(ScenarioGeo.lon(r.p), 6)
        s.add(",\"speed_kmh\":")
        s.int(Int64(r.speedTenths / 10))
        s.b.append(UInt8(ascii: "."))
        s.int(Int64(r.speedTenths % 10))
        s.add(",\"heading_deg\":")
        s.int(Int64(r.heading))
        s.add(r.coverOpen ? ",\"cover\":\"open\",\"load\":\"" : ",\"cover\":\"closed\",\"load\":\"")
        s.add(r.load)
        s.b.append(UInt8(ascii: "\""))
        if let kg = r.loadKg {
            s.add(",\"load_kg\":")
            s.int(Int64(kg))
        }
        if spec.sendsBody { s.add(r.body == "raised" ? ",\"body\":\"raised\"" : ",\"body\":\"down\"") }
        s.add(",\"seq\":")
        s.int(r.seq)
        s.b.append(UInt8(ascii: "}"))
        return ScenarioMessage(t: r.t, topic: topic, payload: s.b, kind: .truck)
    }
}

// MARK: - Fume monitors

/// A restaurant's fume monitor: a reading a minute, well under 2.0 mg/m³ on
/// any 10-minute mean (cooking peaks of a few minutes, at least 10 min apart).
final class FumeStream: FeedSource {
    private let id: String
    private let world: World
    private var rng: SplitMix64
    private let base: Double
    private let flow: Double
    private let epochMillis: Bool
    private var tick: Int64
    private let end: Int64
    private var walk = 0.0
    private var peakLeft = 0
    private var peak = 0.0
    private var cooldown = 0
    private let topic: [UInt8]

    init(index: Int, world: World) {
        self.world = world
        id = world.monitors[index].id
        topic = Array(Topics.fume(id).utf8)
        rng = SplitMix64(world.seed, .fume, UInt64(index))
        base = rng.uniform(0.35, 1.0)
        flow = Double(rng.int(350, 800)) * 10
        epochMillis = index % 2 == 0
        tick = Int64(rng.int(0, 59))
        end = Int64(world.duration.rounded(.up))
    }

    func next() -> ScenarioMessage? {
        guard tick < end else { return nil }
        let ts = world.options.start.millis + tick * 1000
        tick += 60
        walk = min(max(0.9 * walk + rng.uniform(-0.05, 0.05), -0.3), 0.3)
        if peakLeft > 0 {
            peakLeft -= 1
            if peakLeft == 0 { cooldown = 10 }
        } else if cooldown > 0 {
            cooldown -= 1
        } else if rng.chance(0.04) {
            peakLeft = rng.int(2, 5)
            peak = rng.uniform(0.3, 0.7)
        }
        let conc = max(0.02, base + walk + (peakLeft > 0 ? peak : 0) + rng.uniform(-0.12, 0.12))
        var s = Bytes()
        s.add("{\"monitor\":\"" + id + "\",\"ts\":")
        if epochMillis {
            s.int(ts)
        } else {
            s.add("\"")
            s.time(ts, offsetSeconds: Clock.offset, withMillis: false)
            s.add("\"")
        }
        s.add(",\"conc_mg_m3\":")
        s.fixed(conc, 2)
        s.add(",\"fan\":\"on\",\"purifier\":\"on\",\"flow_m3_h\":")
        s.int(Int64((flow * rng.uniform(0.97, 1.03) / 10).rounded()) * 10)
        s.add("}")
        return ScenarioMessage(t: ts + Int64(rng.int(100, 600)), topic: topic, payload: s.b, kind: .fume)
    }
}

// MARK: - Drones

/// A dock-based drone's patrol: over its home site, to a spot on a scripted
/// truck's route just after the truck passed (where it finds a spill), over
/// the nearest other site, and home. Telemetry every 5 s while flying.
struct DroneFlight {
    let drone: String
    var messages: [ScenarioMessage] = []
    var spill: PlantedViolation?

    init(index: Int, world: World, target: (TruckSpec, Phase)?) {
        drone = "D-" + pad(index, 2)
        var rng = SplitMix64(world.seed, .drone, UInt64(index))
        let speed = 12.0, climb = 40.0, altitude = 120.0
        let homeIndex = target.map { $0.0.home } ?? world.construction[0]
        let homeSite = world.sites[homeIndex]
        let base = homeSite.centre.moved(homeSite.halfW + 150, 100)

        // The spill spot, and when the drone reports it.
        var spot: Point?
        var seenAt = 300.0
        if let (_, road) = target {
            var h1 = 0, h2 = 0
            let tau = min(240, road.motion!.duration / 2)
            let (d, _) = road.motion!.at(tau, hint: &h1)
            spot = road.route!.at(d, hint: &h2).0.moved(4, -3)
            seenAt = road.from + tau + 150
        }
        // Waypoints and hover times.
        var legs: [(Point, hover: Double)] = [(homeSite.centre, 45)]
        if let spot { legs.append((spot, 60)) }
        let pivot = spot ?? homeSite.centre
        let others = world.construction.filter { $0 != homeIndex }
        if let next = others.min(by: {
            (world.sites[$0].centre.distance(to: pivot), $0) < (world.sites[$1].centre.distance(to: pivot), $1)
        }) {
            legs.append((world.sites[next].centre, 45))
        }
        // Take off so that it reaches the spot 20 s before it reports the spill.
        var takeoff = 300.0
        if spot != nil {
            let toSpot = climb + base.distance(to: legs[0].0) / speed + legs[0].hover + legs[0].0.distance(to: legs[1].0) / speed
            takeoff = seenAt - 20 - toSpot
        }
        struct Segment {
            var from: Double, to: Double
            var a: Point, b: Point
            var alt0: Double, alt1: Double
            var heading: Int
        }
        var segments: [Segment] = []
        var t = takeoff
        var here = base
        var heading = 0
        segments.append(Segment(from: t, to: t + climb, a: base, b: base, alt0: 0, alt1: altitude, heading: heading))
        t += climb
        var arrivals: [Double] = []
        for (p, hover) in legs + [(base, 0)] {
            heading = ScenarioGeo.bearing(here, p)
            let dur = here.distance(to: p) / speed
            segments.append(Segment(from: t, to: t + dur, a: here, b: p, alt0: altitude, alt1: altitude, heading: heading))
            t += dur
            arrivals.append(t)
            here = p
            if hover > 0 {
                segments.append(Segment(from: t, to: t + hover, a: p, b: p, alt0: altitude, alt1: altitude, heading: heading))
                t += hover
            }
        }
        segments.append(Segment(from: t, to: t + climb, a: base, b: base, alt0: altitude, alt1: 0, heading: heading))
        let landing = t + climb

        var tick = (takeoff / 5).rounded(.up) * 5
        var k = 0
        while tick <= landing {
            defer { tick += 5 }
            while k < segments.count - 1 && segments[k].to < tick { k += 1 }
            guard tick >= 0, tick < world.duration else { continue }
            let s = segments[k]
            let f = s.to > s.from ? min(max((tick - s.from) / (s.to - s.from), 0), 1) : 0
            let p = s.a.lerp(s.b, f).moved(rng.uniform(-0.8, 0.8), rng.uniform(-0.8, 0.8))
            let alt = s.alt0 + (s.alt1 - s.alt0) * f + rng.uniform(-0.3, 0.3)
            let tsMs = world.instant(tick).millis
            var text = "{\"drone\":\"" + drone + "\",\"ts\":\"" + Clock.local(tsMs, withMillis: true) + "\""
            text += ",\"lat\":" + fixed(ScenarioGeo.lat(p), 6) + ",\"lon\":" + fixed(ScenarioGeo.lon(p), 6)
            text += ",\"alt_m\":" + fixed(max(0, alt), 1) + ",\"heading_deg\":" + String(s.heading) + "}"
            messages.append(ScenarioMessage(t: tsMs + Int64(rng.int(100, 400)), topic: Topics.drone(drone),
                                            payload: Array(text.utf8), kind: .droneTelemetry))
        }

        // Detections: bare soil over its home site, the spill, maybe sprinklers off over the last site.
        let flightName = Clock.segment(world.instant(takeoff).millis).name
        var count = 0
        func detect(_ ts: Double, _ type: String, _ confidence: Double, _ at: Point, tag: Bool) -> ScenarioMessage? {
            let delay = Int64(rng.int(300, 1200))
            guard ts >= 0, ts < world.duration else { return nil }
            count += 1
            let tsMs = world.instant(ts).millis
            let clip = (url: "file:///var/lib/muckwatch/media/" + drone.lowercased() + "/flight-" + flightName + ".mp4",
                        offset: ts - takeoff)
            let payload = Payloads.event(key: "drone", source: drone, eventId: "e-" + drone + "-" + pad(count, 4),
                                         tsMillis: tsMs, type: type, plate: nil, confidence: confidence, at: at,
                                         clipPrefix: "", clip: clip)
            let m = ScenarioMessage(t: tsMs + delay, topic: Topics.droneEvent(drone), payload: Array(payload.utf8),
                                    kind: .droneEvent, tag: tag ? drone + "#" + String(count) : nil)
            messages.append(m)
            return m
        }
        for (i, (p, _)) in legs.enumerated() {
            let arrive = arrivals[i]
            if spot != nil && i == 1 {
                let confidence = Double(fixed(rng.uniform(0.78, 0.9), 2))!
                let at = p.moved(rng.uniform(-3, 3), rng.uniform(-3, 3))
                if let m = detect(seenAt, "spill", confidence, at, tag: true), let (truck, _) = target {
                    spill = PlantedViolation(
                        id: "", kind: "drone_spill", rule: "spill", alertExpected: false, expectedSignals: 0,
                        incident: nil, device: truck.device, plate: nil, source: drone,
                        from: world.instant(seenAt), to: world.instant(seenAt), confidence: confidence, topic: m.topicText,
                        t: Instant(millis: m.t), line: nil,
                        note: "drone sees a spill on the road, no plate read: attribution names \(truck.device), "
                            + "whose track passed 150 s before",
                        tag: m.tag)
                }
            } else if i == 0 {
                let at = p.moved(rng.uniform(-30, 30), rng.uniform(-30, 30))
                _ = detect(arrive + 20, "bare_soil", rng.uniform(0.66, 0.93), at, tag: false)
            } else if rng.chance(0.5) {
                _ = detect(arrive + 15, "sprinkler_off", rng.uniform(0.6, 0.85), p, tag: false)
            }
        }
    }
}

// MARK: - Bad messages

/// One of each kind of message the daemon dead-letters, per block of trucks,
/// spread over the scenario.
struct BadMessages {
    var messages: [ScenarioMessage] = []
    var planted: [PlantedBadMessage] = []

    init(world: World) {
        var rng = SplitMix64(world.seed, .bad)
        for block in 0..<world.blocks {
            let first = block * World.blockSize
            let count = min(World.blockSize, world.options.trucks - first)
            let monitor = world.monitors.isEmpty ? "F-0101" : world.monitors[block % world.monitors.count].id
            let camera = world.sites[world.construction[block % world.construction.count]].camera
            for (j, item) in Self.catalogue.enumerated() {
                let at = world.duration * (0.04 + 0.92 * (Double(j) + 0.5) / Double(Self.catalogue.count))
                    + Double(block) * 11.3
                let tick = min(Int64(at), Int64(world.duration) - 2)
                guard tick >= 0 else { continue }
                let tsMs = world.options.start.millis + tick * 1000
                let t = tsMs + Int64(rng.int(200, 900))
                let spec = world.trucks[first + j % min(6, count)]
                let p = world.sites[spec.home].gate.moved(rng.uniform(-400, 400), rng.uniform(-400, 400))
                let lat = fixed(ScenarioGeo.lat(p), 6), lon = fixed(ScenarioGeo.lon(p), 6)
                let ts = "\"" + Clock.local(tsMs, withMillis: false) + "\""
                let device = spec.device, plate = spec.plate
                func truck(_ fields: String) -> [UInt8] {
                    Array(("{\"device\":\"\(device)\",\"ts\":\(ts),\"plate\":\"\(plate)\"," + fields + "}").utf8)
                }
                func event(_ fields: String) -> [UInt8] {
                    Array(("{\"camera\":\"\(camera)\",\"event_id\":\"e-bad-\(block + 1)-\(j + 1)\",\"ts\":\(ts)," + fields + "}").utf8)
                }
                var topic = Topics.truck(device)
                let payload: [UInt8]
                switch item.key {
                case "truncated":
                    let full = truck("\"lat\":\(lat),\"lon\":\(lon),\"speed_kmh\":31.4,\"heading_deg\":87,\"cover\":\"closed\",\"load\":\"full\"")
                    payload = Array(full.prefix(full.count * 3 / 5))
                case "jt808":
                    payload = Self.jt808(phone: 13_912_340_000 + Int64(spec.index), serial: UInt16(block * 31 + 7),
                                         lat: ScenarioGeo.lat(p), lon: ScenarioGeo.lon(p), tsMs: tsMs)
                case "jt808_checksum", "jt808_short", "jt808_encrypted":
                    let phone = pad(13_912_340_000 + spec.index, 12)
                    topic = "jt808/\(phone)/up"
                    let body = JT808.locationBody(status: 0x3, lat: ScenarioGeo.lat(p), lon: ScenarioGeo.lon(p), speedKmh: 30,
                                                  directionDeg: 90, time: Instant(millis: tsMs))
                    let serial = UInt16(block * 31 + 9)
                    switch item.key {
                    case "jt808_checksum":
                        payload = JT808.frame(messageId: 0x0200, phone: phone, serial: serial, body: body, corruptChecksum: true)
                    case "jt808_short":
                        let whole = JT808.frame(messageId: 0x0200, phone: phone, serial: serial, body: body)
                        payload = Array(whole.prefix(whole.count - 12))
                    default:
                        payload = JT808.frame(messageId: 0x0200, phone: phone, serial: serial, body: body, encryption: 1)
                    }
                case "array":
                    payload = Array("[\(lat),\(lon)]".utf8)
                case "empty":
                    topic = Topics.camera(camera)
                    payload = []
                case "lat_string":
                    payload = truck("\"lat\":\"\(lat)\",\"lon\":\(lon),\"speed_kmh\":28.0,\"cover\":\"closed\",\"load\":\"full\"")
                case "seq_fraction":
                    payload = truck("\"lat\":\(lat),\"lon\":\(lon),\"speed_kmh\":22.5,\"cover\":\"closed\",\"load\":\"empty\",\"seq\":1042.5")
                case "conc_string":
                    topic = Topics.fume(monitor)
                    payload = Array("{\"monitor\":\"\(monitor)\",\"ts\":\(tsMs),\"conc_mg_m3\":\"1.35\",\"fan\":\"on\",\"purifier\":\"on\"}".utf8)
                case "no_position":
                    payload = truck("\"speed_kmh\":0.0,\"cover\":\"closed\",\"load\":\"empty\"")
                case "no_conc":
                    topic = Topics.fume(monitor)
                    payload = Array("{\"monitor\":\"\(monitor)\",\"ts\":\(tsMs),\"fan\":\"on\",\"purifier\":\"on\",\"flow_m3_h\":0}".utf8)
                case "no_type":
                    topic = Topics.camera(camera)
                    payload = event("\"confidence\":0.82,\"lat\":\(lat),\"lon\":\(lon)")
                case "no_device":
                    topic = "muckwatch/v1/truck//telemetry"
                    payload = Array("{\"ts\":\(ts),\"lat\":\(lat),\"lon\":\(lon),\"speed_kmh\":12.3}".utf8)
                case "swapped":
                    payload = truck("\"lat\":\(lon),\"lon\":\(lat),\"speed_kmh\":35.2,\"cover\":\"closed\",\"load\":\"full\"")
                case "confidence_percent":
                    topic = Topics.camera(camera)
                    payload = event("\"type\":\"muck_truck\",\"plate\":\"\(plate)\",\"confidence\":87,\"lat\":\(lat),\"lon\":\(lon)")
                case "speed_garbage":
                    payload = truck("\"lat\":\(lat),\"lon\":\(lon),\"speed_kmh\":655.35,\"cover\":\"closed\",\"load\":\"full\"")
                case "future_truck":
                    let future = "\"" + Clock.local(tsMs + 30 * 86_400_000, withMillis: false) + "\""
                    payload = Array("{\"device\":\"\(device)\",\"ts\":\(future),\"lat\":\(lat),\"lon\":\(lon),\"speed_kmh\":18.0,\"cover\":\"closed\",\"load\":\"full\"}".utf8)
                case "future_fume":
                    topic = Topics.fume(monitor)
                    payload = Array("{\"monitor\":\"\(monitor)\",\"ts\":\(tsMs + 25 * 3_600_000),\"conc_mg_m3\":0.84,\"fan\":\"on\",\"purifier\":\"on\"}".utf8)
                case "cover_half":
                    payload = truck("\"lat\":\(lat),\"lon\":\(lon),\"speed_kmh\":33.0,\"cover\":\"half\",\"load\":\"full\"")
                case "ts_no_offset":
                    let local = Clock.local(tsMs, withMillis: false)
                    let bare = String(local.prefix(10)) + " " + String(local.dropFirst(11).prefix(8))
                    payload = Array("{\"device\":\"\(device)\",\"ts\":\"\(bare)\",\"lat\":\(lat),\"lon\":\(lon),\"speed_kmh\":20.0}".utf8)
                case "type_unknown":
                    topic = Topics.camera(camera)
                    payload = event("\"type\":\"smoke\",\"confidence\":0.71,\"lat\":\(lat),\"lon\":\(lon)")
                default: // status_topic
                    topic = "muckwatch/v1/truck/\(device)/status"
                    payload = Array("{\"device\":\"\(device)\",\"ts\":\(ts),\"battery_v\":12.6,\"gsm_rssi\":-71}".utf8)
                }
                let tag = "bad#\(block)#\(j)"
                messages.append(ScenarioMessage(t: t, topic: topic, payload: payload, kind: .bad, tag: tag))
                planted.append(PlantedBadMessage(
                    id: "B" + pad(planted.count + 1, 3), reason: item.reason, topic: topic, t: Instant(millis: t),
                    line: nil, binary: String(validating: payload, as: UTF8.self) == nil, note: item.note, tag: tag))
            }
        }
    }

    static let catalogue: [(key: String, reason: DeadLetterReason, note: String)] = [
        ("truncated", .invalidJSON, "truncated JSON: the tracker's connection dropped mid-message"),
        ("jt808", .invalidJSON, "a raw JT/T 808 location frame (binary, so payload_b64) on the native topic: a misconfigured gateway"),
        ("jt808_checksum", .badChecksum, "a JT/T 808 location frame on its gateway topic whose XOR checksum is wrong (a line fault)"),
        ("jt808_short", .badFrame, "a JT/T 808 frame cut off mid-body, its closing 0x7e never sent"),
        ("jt808_encrypted", .unsupported, "a JT/T 808 location frame with an RSA-encrypted body"),
        ("array", .invalidJSON, "JSON, but an array of coordinates, not an object"),
        ("empty", .invalidJSON, "an empty payload (a retained message being cleared)"),
        ("lat_string", .wrongType, "'lat' as a string"),
        ("seq_fraction", .wrongType, "'seq' with a fraction"),
        ("conc_string", .wrongType, "'conc_mg_m3' as a string"),
        ("no_position", .missingField, "no 'lat'/'lon': the tracker has no GPS fix"),
        ("no_conc", .missingField, "no 'conc_mg_m3': the sensor is warming up"),
        ("no_type", .missingField, "camera event without 'type'"),
        ("no_device", .missingField, "no 'device' and an empty device level in the topic"),
        ("swapped", .outOfRange, "lat and lon swapped (lat 114.x)"),
        ("confidence_percent", .outOfRange, "confidence as a percentage (87), outside 0...1"),
        ("speed_garbage", .outOfRange, "speed_kmh 655.35 (0xFFFF/100, a sensor fault)"),
        ("future_truck", .futureTime, "'ts' 30 days ahead (the tracker's clock jumped a month)"),
        ("future_fume", .futureTime, "epoch-ms 'ts' 25 h ahead"),
        ("cover_half", .invalidValue, "cover 'half', not closed|open|unknown"),
        ("ts_no_offset", .invalidValue, "'ts' without a UTC offset"),
        ("type_unknown", .invalidValue, "event type 'smoke', not one of §4.3's"),
        ("status_topic", .unknownTopic, "a tracker status topic no filter matches (reaches replay, or a wider subscription)"),
    ]

    /// A JT/T 808 0x0200 location report, escaped and framed by 0x7e.
    static func jt808(phone: Int64, serial: UInt16, lat: Double, lon: Double, tsMs: Int64) -> [UInt8] {
        func frame(status: UInt32) -> [UInt8] {
            JT808.frame(messageId: 0x0200, phone: pad(Int(phone), 12), serial: serial,
                        body: JT808.locationBody(status: status, lat: lat, lon: lon, altitudeM: 12, speedKmh: 31.4,
                                                 directionDeg: 87, time: Instant(millis: tsMs)))
        }
        // ACC on, position fixed. Should that frame happen to be valid UTF-8,
        // status bit 31 (a lone 0x80 byte) keeps it binary.
        let out = frame(status: 0x0000_0003)
        return String(validating: out, as: UTF8.self) == nil ? out : frame(status: 0x8000_0003)
    }
}

// MARK: - More plants: attribution, fusion, weight, permits, geofence realism

/// Planted items beside `RuleShowcase`'s one violation per rule, on devices of
/// their own (S-08…S-15 and the road camera CAM-R01, 8 km west of the
/// showcase's lanes, 15–23 km south of the centre), except where a site
/// is the point (the jitter at a gate, the gate cameras):
/// - a camera spill with no plate that attribution pins on the nearer of two
///   passing trucks (10 m and 35 m), a third passing 70 m away, outside the radius;
/// - dumping told by the weight alone (no body sensor), and a 300 kg drop
///   while moving that is not a spill;
/// - the gate camera confirming the showcase's unwashed exit, and (under 0.6)
///   a washed truck's exit;
/// - an expired transport permit: parked (nothing), then driving (off_hours);
/// - geofence realism: GPS jitter across a site boundary for a minute while
///   parked by the gate, a repeated fix (same `ts`, new `seq`), a 90 s wash
///   before leaving, and a late batch of buffered fixes after a parked truck's
///   last report, before it powers off.
struct ShowcaseExtras {
    struct Truck {
        var device: String
        var plate: String
        /// Local dates (`2026-01-01`), `until` exclusive; nil: the scenario's usual permit.
        var permit: (from: String, until: String)?
    }

    struct Fix {
        var s: Double
        var p: Point
        var speed: Double
        var heading = 90
        var cover = "closed"
        var load = "full"
        var kg: Int? = nil
        /// nil: no body sensor fitted.
        var body: String? = "down"
        /// Receive time, when not 0.3 s after `s`.
        var t: Double? = nil
        var seq: Int64? = nil
        var tag: String? = nil
    }

    struct Signal {
        var rule: String
        var device: String
        var plate: String
        var ts: Instant
        var t: Instant
        var record: Int
        var candidates: [String] = []
    }

    private(set) var trucks: [Truck] = []
    private(set) var cameras: [(id: String, p: Point)] = []
    private(set) var messages: [ScenarioMessage] = []
    private(set) var records: [PlantedViolation] = []
    private(set) var signals: [Signal] = []
    /// Devices that send late or repeated fixes on purpose (not newer than their last).
    private(set) var pastFixDevices: Set<String> = []

    private let world: World
    private var seq: Int64 = 70_001
    private var events = 0

    /// `unwashed`: the showcase's unwashed exit (its truck and when it crossed), for the gate camera to see.
    init(world: World, unwashed: (device: String, plate: String, at: Instant)?) {
        self.world = world
        guard world.duration >= 3600 else { return }
        let spot = Point(x: -8000, y: -15_000)

        // spill, attributed: a road camera sees a spill with no plate at 22:45.
        cameras.append(("CAM-R01", spot))
        func pass(offset: Double, abeam s: Double, east: Bool) -> [Fix] {
            let dir = east ? 1.0 : -1.0
            var out = (-3...3).map { k in
                Fix(s: s + Double(k) * 10, p: spot.moved(dir * Double(k) * 100, offset), speed: 36, heading: east ? 90 : 270)
            }
            out.append(Fix(s: s + 40, p: spot.moved(dir * 340, offset), speed: 0, heading: east ? 90 : 270))
            out.append(Fix(s: s + 70, p: spot.moved(dir * 340, offset), speed: 0, heading: east ? 90 : 270))
            return out
        }
        add("S-09", pass(offset: -35, abeam: 2400, east: false))
        add("S-10", pass(offset: 70, abeam: 2500, east: true))
        add("S-08", pass(offset: 10, abeam: 2640, east: true))
        let spill = event(camera: "CAM-R01", at: spot, s: 2700, type: "spill", plate: nil, confidence: 0.84)
        plant("camera_spill_unplated", "spill", "S-08", unplated: true, source: "CAM-R01", 2700, 2700, confidence: 0.84,
              message: spill,
              note: "road camera sees a spill, no plate read: attribution names S-08 (its track 10 m away at \(clock(2640))) "
                  + "and lists S-09 (35 m at \(clock(2400))) as the one other candidate")
        signal("spill", "S-08", spill, candidates: ["S-09"])
        plant("track_outside_radius", "spill", "S-10", source: "S-10", 2470, 2530,
              note: "passed 70 m from the spill at \(clock(2500)), outside the 50 m radius: not a candidate")

        // illegal_dumping by weight: pulls over and sheds 43 % of its load (no body sensor).
        let lane13 = spot.moved(0, -3000)
        var s13 = (0...6).map { k in Fix(s: 1200 + Double(k) * 10, p: lane13.moved(Double(k) * 83.3, 0), speed: 30, kg: 26_000, body: nil) }
        let stop13 = lane13.moved(6 * 83.3 + 40, 0)
        for s in stride(from: 1270.0, through: 1440, by: 10) {
            let kg = s < 1300 ? (s == 1280 ? 26_010 : 26_000) : s == 1300 ? 20_000 : s == 1310 ? 16_500 : 15_800
            s13.append(Fix(s: s, p: stop13, speed: 0, cover: (1290...1330).contains(s) ? "open" : "closed",
                           load: kg > 25_000 ? "full" : "partial", kg: kg, body: nil))
        }
        for k in 0...6 {
            s13.append(Fix(s: 1450 + Double(k) * 10, p: stop13.moved(Double(k) * 83.3, 0), speed: 30, load: "partial", kg: 15_800, body: nil))
        }
        s13.append(Fix(s: 1520, p: stop13.moved(6 * 83.3 + 40, 0), speed: 0, load: "partial", kg: 15_800, body: nil))
        s13.append(Fix(s: 1550, p: stop13.moved(6 * 83.3 + 40, 0), speed: 0, load: "partial", kg: 15_800, body: nil))
        add("S-13", s13)
        plant("tracker_load_dumped", "illegal_dumping", "S-13", source: "S-13", 1270, 1440,
              note: "stopped on a roadside from \(clock(1270)), load_kg 26000 → 20000 → 15800 (no body sensor): "
                  + "6000 kg, 43 % of the 14000 kg load, gone at \(clock(1300)), one signal per stop")
        signal("illegal_dumping", "S-13", s: 1300)

        // A 300 kg drop while moving: under spill's 500 kg.
        let lane14 = spot.moved(0, -4000)
        var s14 = (0...18).map { k in
            Fix(s: 1500 + Double(k) * 10, p: lane14.moved(Double(k) * 83.3, 0), speed: 30, kg: k < 8 ? 24_000 : 23_700)
        }
        s14.append(Fix(s: 1690, p: lane14.moved(18 * 83.3 + 40, 0), speed: 0, kg: 23_700))
        s14.append(Fix(s: 1720, p: lane14.moved(18 * 83.3 + 40, 0), speed: 0, kg: 23_700))
        add("S-14", s14)
        plant("tracker_small_drop", "spill", "S-14", source: "S-14", 1570, 1580,
              note: "load_kg 24000 → 23700 between \(clock(1570)) and \(clock(1580)) at 30 km/h: 300 kg, under 500")

        // A late batch: offline for 10 min, reconnects parked, uploads 6 buffered fixes, powers off.
        let lane12 = spot.moved(0, -6000)
        func x12(_ s: Double) -> Point { lane12.moved(-(min(s, 2380) - 1500) * 8.33, 0) }
        var s12 = stride(from: 1500.0, through: 1790, by: 10).map { Fix(s: $0, p: x12($0), speed: 30, heading: 270) }
        let batchSeq = seq + Int64(s12.count)
        s12.append(Fix(s: 2400, p: x12(2400), speed: 0, heading: 270, seq: batchSeq + 6))
        for k in 0..<6 {
            let s = 1800 + Double(k) * 60
            s12.append(Fix(s: s, p: x12(s), speed: 30, heading: 270, t: 2401 + Double(k) * 0.1, seq: batchSeq + Int64(k),
                           tag: k == 0 ? "S-12#late" : nil))
        }
        add("S-12", s12)
        seq = batchSeq + 7
        pastFixDevices.insert("S-12")
        plant("tracker_late_batch", "device_silent", "S-12", source: "S-12", 1800, 2100,
              message: messages.first { $0.tag == "S-12#late" },
              note: "offline \(clock(1800))–\(clock(2390)) (10 min, under 15), reports parked at \(clock(2400)), then uploads "
                  + "6 buffered fixes from \(clock(1800))–\(clock(2100)) at 30 km/h and powers off: past points, history only; "
                  + "its last current report is the parked one, so the 20 min of silence after it are normal")

        // Geofence realism at a construction site's gate: jitter, a repeated fix, a 90 s wash.
        let cs = world.sites[world.construction[1 % world.construction.count]]
        let (a, b) = cs.gateSide
        let len = max(a.distance(to: b), 1)
        let along = Point(x: (b.x - a.x) / len, y: (b.y - a.y) / len)
        var n = Point(x: -along.y, y: along.x)
        if n.x * cs.inward.x + n.y * cs.inward.y < 0 { n = Point(x: along.y, y: -along.x) }
        let mid = a.lerp(b, 0.5), g = cs.gate, w = cs.washCentre
        func side(_ lateral: Double, _ depth: Double) -> Point { mid.moved(along.x * lateral + n.x * depth, along.y * lateral + n.y * depth) }
        func out(_ d: Double) -> Point { g.moved(-n.x * d, -n.y * d) }
        // In at the gate, parked by it for over 3 min (past min_visit_s), a minute of jitter, washed 90 s, out.
        let s0 = 1500.0, parked = side(25, 3), j = 200.0, wash = j + 150
        var s11: [Fix] = [Fix(s: s0, p: out(150), speed: 18), Fix(s: s0 + 10, p: out(100), speed: 18),
                          Fix(s: s0 + 20, p: out(50), speed: 18), Fix(s: s0 + 30, p: g, speed: 10)]
        for s in stride(from: 40.0, to: j, by: 30) { s11.append(Fix(s: s0 + s, p: parked, speed: 0)) }
        for k in 0..<7 {
            s11.append(Fix(s: s0 + j + Double(k) * 10, p: side(25, k % 2 == 0 ? -6.5 : 7), speed: 0))
            if k == 2 {
                s11.append(Fix(s: s0 + j + 20, p: side(25, -7.5), speed: 0, t: s0 + j + 20.9, tag: "S-11#repeat"))
            }
        }
        for s in [j + 70, j + 100, j + 130] { s11.append(Fix(s: s0 + s, p: parked, speed: 0)) }
        s11.append(Fix(s: s0 + wash - 10, p: parked.lerp(w, 0.5), speed: 6))
        for k in 0...9 { s11.append(Fix(s: s0 + wash + Double(k) * 10, p: w, speed: 0)) }
        let leave = wash + 100
        s11 += [Fix(s: s0 + leave, p: w.lerp(g, 0.5), speed: 8), Fix(s: s0 + leave + 10, p: g, speed: 12),
                Fix(s: s0 + leave + 20, p: out(40), speed: 18), Fix(s: s0 + leave + 30, p: out(90), speed: 18),
                Fix(s: s0 + leave + 40, p: out(140), speed: 18), Fix(s: s0 + leave + 50, p: out(170), speed: 0),
                Fix(s: s0 + leave + 80, p: out(170), speed: 0)]
        for i in s11.indices { s11[i].load = "empty" }
        add("S-11", s11)
        pastFixDevices.insert("S-11")
        plant("tracker_gps_jitter", "unwashed_exit", "S-11", source: "S-11", s0 + j, s0 + j + 60,
              note: "parked 3 m inside \(cs.id)'s boundary by its gate since \(clock(s0 + 40)): for a minute its fixes alternate "
                  + "6.5 m outside and 7 m inside, each spell outside ~10 s, under the 20 s dwell: no exit (it would be unwashed)")
        plant("tracker_repeated_fix", "unwashed_exit", "S-11", source: "S-11", s0 + j + 20, s0 + j + 20,
              message: messages.first { $0.tag == "S-11#repeat" },
              note: "a second fix with the same ts and a new seq, 7.5 m outside: not newer than the last, changes nothing")
        plant("tracker_washed_90s", "unwashed_exit", "S-11", source: "S-11", s0 + wash, s0 + wash + 90,
              note: "90 s (10 fixes) in \(cs.washId ?? "its wash zone"), then out through the gate: over the 60 s min_wash_s")
        let washedExit = event(camera: cs.camera, at: cs.gate, s: s0 + leave + 11, type: "unwashed_exit", plate: plate("S-11"),
                               confidence: 0.55)
        plant("camera_unwashed_exit_below_threshold", "unwashed_exit", "S-11", source: cs.camera, s0 + leave + 11, s0 + leave + 11,
              confidence: 0.55, message: washedExit,
              note: "gate camera: unwashed exit at confidence 0.55, under the 0.6 threshold (the truck did wash)")

        // The showcase's unwashed exit, seen by its gate camera too: one incident, two signals.
        if let unwashed, let site = world.sites.first(where: { $0.kind == .construction }) {
            let s = unwashed.at.seconds(since: world.options.start) + 0.7
            let m = event(camera: site.camera, at: site.gate, s: s, type: "unwashed_exit", plate: unwashed.plate, confidence: 0.86)
            plant("camera_unwashed_exit", "unwashed_exit", unwashed.device, source: site.camera, s, s,
                  confidence: 0.86, message: m,
                  note: "gate camera sees \(unwashed.device) leave unwashed: joins the tracker's incident")
            signals.append(Signal(rule: "unwashed_exit", device: unwashed.device, plate: unwashed.plate, ts: world.instant(s),
                                  t: Instant(millis: m.t), record: records.count - 1))
        }

        // off_hours by permit: expired on the 1st of this month; parked (nothing), then driving.
        let lane15 = spot.moved(0, -8000)
        var s15 = [2700.0, 2730, 2760, 2790].map { Fix(s: $0, p: lane15, speed: 0) }
        for k in 0...18 { s15.append(Fix(s: 2800 + Double(k) * 10, p: lane15.moved(Double(k) * 83.3, 0), speed: 30)) }
        s15.append(Fix(s: 2990, p: lane15.moved(18 * 83.3 + 40, 0), speed: 0))
        s15.append(Fix(s: 3020, p: lane15.moved(18 * 83.3 + 40, 0), speed: 0))
        add("S-15", s15, permit: Self.expiredPermit(world.options.start))
        plant("tracker_expired_permit_parked", "off_hours", "S-15", source: "S-15", 2700, 2790,
              note: "transport permit expired, but parked (0 km/h): nothing")
        plant("tracker_expired_permit", "off_hours", "S-15", source: "S-15", 2800, 2980,
              note: "permit expired, driving \(clock(2800))–\(clock(2980)) at 30 km/h: one signal (evidence every 5 min)")
        signal("off_hours", "S-15", s: 2800)
    }

    /// The plate the device gets: 粤BS9008 for S-08 (the world's plates skip 粤BS9000–粤BS9099).
    func plate(_ device: String) -> String { "粤BS90" + device.suffix(2) }

    /// From January 1 of the year before, until the first of the start's month (both local).
    static func expiredPermit(_ start: Instant) -> (from: String, until: String) {
        let local = RFC3339.format(start, offsetSeconds: Clock.offset)
        let year = Int(local.prefix(4))!
        return (String(year - 1) + "-01-01", String(local.prefix(7)) + "-01")
    }

    private func clock(_ s: Double) -> String {
        String(RFC3339.format(world.instant(s), offsetSeconds: Clock.offset).dropFirst(11).prefix(8))
    }

    private mutating func add(_ device: String, _ fixes: [Fix], permit: (from: String, until: String)? = nil) {
        trucks.append(Truck(device: device, plate: plate(device), permit: permit))
        for f in fixes {
            let ms = world.instant(f.s).millis
            var j = "{\"device\":\"" + device + "\",\"ts\":\"" + Clock.local(ms, withMillis: false) + "\",\"plate\":\"" + plate(device)
            j += "\",\"lat\":" + fixed(ScenarioGeo.lat(f.p), 6) + ",\"lon\":" + fixed(ScenarioGeo.lon(f.p), 6)
            j += ",\"speed_kmh\":" + fixed(f.speed, 1) + ",\"heading_deg\":" + String(f.heading)
            j += ",\"cover\":\"" + f.cover + "\",\"load\":\"" + f.load + "\""
            if let kg = f.kg { j += ",\"load_kg\":" + String(kg) }
            if let body = f.body { j += ",\"body\":\"" + body + "\"" }
            let n = f.seq ?? seq
            if f.seq == nil { seq += 1 }
            j += ",\"seq\":" + String(n) + "}"
            messages.append(ScenarioMessage(t: f.t.map { world.instant($0).millis } ?? ms + 300, topic: Topics.truck(device),
                                            payload: Array(j.utf8), kind: .truck, tag: f.tag))
        }
    }

    private mutating func event(camera: String, at p: Point, s: Double, type: String, plate: String?,
                                confidence: Double) -> ScenarioMessage {
        events += 1
        let ms = world.instant(s).millis
        let payload = Payloads.event(key: "camera", source: camera, eventId: "e-" + camera + "-x" + pad(events, 3), tsMillis: ms,
                                     type: type, plate: plate, confidence: confidence, at: p, clipPrefix: camera.lowercased())
        let m = ScenarioMessage(t: ms + 700, topic: Topics.camera(camera), payload: Array(payload.utf8), kind: .camera,
                                tag: camera + "#x" + String(events))
        messages.append(m)
        return m
    }

    private mutating func plant(_ kind: String, _ rule: String, _ device: String, unplated: Bool = false, source: String,
                                _ from: Double, _ to: Double, confidence: Double? = nil, message: ScenarioMessage? = nil,
                                note: String) {
        records.append(PlantedViolation(
            id: "", kind: kind, rule: rule, alertExpected: false, expectedSignals: 0, incident: nil, device: device,
            plate: unplated ? nil : plate(device), source: source, from: world.instant(from), to: world.instant(to),
            confidence: confidence, topic: message?.topicText, t: message.map { Instant(millis: $0.t) }, line: nil,
            note: note, tag: message?.tag))
    }

    /// A tracker signal at a fix of the last planted item's device (received 0.3 s after).
    private mutating func signal(_ rule: String, _ device: String, s: Double) {
        signals.append(Signal(rule: rule, device: device, plate: plate(device), ts: world.instant(s),
                              t: world.instant(s).adding(seconds: 0.3), record: records.count - 1))
    }

    /// An event's signal, about the truck attribution names.
    private mutating func signal(_ rule: String, _ device: String, _ m: ScenarioMessage, candidates: [String]) {
        let ts = records[records.count - 1].from
        signals.append(Signal(rule: rule, device: device, plate: plate(device), ts: ts, t: Instant(millis: m.t),
                              record: records.count - 1, candidates: candidates))
    }
}

/// A short sortie of a block's drone: from its dock to hover over the road
/// where the block's slot-C truck is driving uncovered, report it (no plate
/// from the air, so attribution names the truck), and back.
struct DroneSortie {
    var messages: [ScenarioMessage] = []
    var event: PlantedViolation?
    var takeoff = 0.0
    var landing = 0.0

    /// `seen`: the truck's fix under the drone (scenario seconds, position, receive time).
    init(drone: String, base: Point, truck: TruckSpec, seen: (tick: Int64, p: Point, t: Int64), world: World) {
        var rng = SplitMix64(world.seed, .drone, 1 << 32 | UInt64(truck.block))
        let speed = 12.0, climb = 40.0, altitude = 100.0
        let seenAt = Double(seen.tick) + 0.5
        let leg = base.distance(to: seen.p) / speed
        takeoff = (seenAt - 25 - leg - climb).rounded(.down)
        let hoverTo = seenAt + 20
        landing = hoverTo + leg + climb
        guard takeoff >= 0, landing < world.duration else { return }
        let heading = ScenarioGeo.bearing(base, seen.p), back = ScenarioGeo.bearing(seen.p, base)
        var tick = (takeoff / 5).rounded(.up) * 5
        while tick <= landing {
            defer { tick += 5 }
            let (p, alt, h): (Point, Double, Int)
            if tick < takeoff + climb {
                (p, alt, h) = (base, altitude * (tick - takeoff) / climb, heading)
            } else if tick < takeoff + climb + leg {
                (p, alt, h) = (base.lerp(seen.p, (tick - takeoff - climb) / leg), altitude, heading)
            } else if tick <= hoverTo {
                (p, alt, h) = (seen.p, altitude, heading)
            } else if tick < hoverTo + leg {
                (p, alt, h) = (seen.p.lerp(base, (tick - hoverTo) / leg), altitude, back)
            } else {
                (p, alt, h) = (base, altitude * max(0, landing - tick) / climb, back)
            }
            let q = p.moved(rng.uniform(-0.8, 0.8), rng.uniform(-0.8, 0.8))
            let tsMs = world.instant(tick).millis
            var text = "{\"drone\":\"" + drone + "\",\"ts\":\"" + Clock.local(tsMs, withMillis: true) + "\""
            text += ",\"lat\":" + fixed(ScenarioGeo.lat(q), 6) + ",\"lon\":" + fixed(ScenarioGeo.lon(q), 6)
            text += ",\"alt_m\":" + fixed(max(0, alt + rng.uniform(-0.3, 0.3)), 1) + ",\"heading_deg\":" + String(h) + "}"
            messages.append(ScenarioMessage(t: tsMs + Int64(rng.int(100, 400)), topic: Topics.drone(drone),
                                            payload: Array(text.utf8), kind: .droneTelemetry))
        }
        // Where the truck's fix put it, a moment after: its track ends right there.
        let tsMs = world.instant(seenAt).millis
        let confidence = Double(fixed(rng.uniform(0.8, 0.9), 2))!
        let flight = Clock.segment(world.instant(takeoff).millis).name
        let payload = Payloads.event(
            key: "drone", source: drone, eventId: "e-" + drone + "-u" + pad(truck.block + 1, 3), tsMillis: tsMs,
            type: "uncovered_load", plate: nil, confidence: confidence, at: seen.p, clipPrefix: "",
            clip: ("file:///var/lib/muckwatch/media/" + drone.lowercased() + "/flight-" + flight + ".mp4", seenAt - takeoff))
        let m = ScenarioMessage(t: max(tsMs + Int64(rng.int(300, 1200)), seen.t + 150), topic: Topics.droneEvent(drone),
                                payload: Array(payload.utf8), kind: .droneEvent, tag: drone + "#u" + String(truck.block))
        messages.append(m)
        event = PlantedViolation(
            id: "", kind: "drone_uncovered_load", rule: "uncovered_load", alertExpected: false, expectedSignals: 0,
            incident: nil, device: truck.device, plate: nil, source: drone, from: Instant(millis: tsMs), to: Instant(millis: tsMs),
            confidence: confidence, topic: m.topicText, t: Instant(millis: m.t), line: nil,
            note: "drone over the road sees the truck's load uncovered, no plate read: attribution names \(truck.device), "
                + "whose track is right there; the third source of its incident (tracker, gate camera, drone)",
            tag: m.tag)
    }
}

// MARK: - The files beside the feed

extension ScenarioGenerator {
    private static let legalBasis = [
        "uncovered_load": "《城市建筑垃圾管理规定》第十四条：处置建筑垃圾的单位在运输建筑垃圾时，应当随车携带建筑垃圾处置核准文件，按照城市人民政府有关部门规定的运输路线、时间运行，不得丢弃、遗撒建筑垃圾，不得超出核准范围承运建筑垃圾。",
        "spill": "《城市市容和环境卫生管理条例》第十五条：在市区运行的交通运输工具，应当保持外型完好、整洁，货运车辆运输的液体、散装货物，应当密封、包扎、覆盖，避免泄漏、遗撒。",
    ]

    /// `config.yaml`: topics, every rule's thresholds (SPEC §6 defaults), and the
    /// registry: companies, trucks, the sites file, cameras and fume monitors.
    public var configYAML: String {
        let r = RuleSettings()
        func n(_ v: Double) -> String { ScenarioOptions.decimal(v) }
        var y = """
            # Muckwatch config for a generated scenario:
            #   \(options.commandLine)
            # Replay feed.jsonl with it; planted.json lists what it should (and should not) raise.
            # The construction sites, disposal sites and wash zones are in sites.geojson
            # beside this file (WGS-84 polygons).

            broker:
              url: mqtt://127.0.0.1:1883
              client_id: muckwatchd

            topics:

            """
        for route in TopicRoutes.defaults.routes { y += "  \(route.kind.rawValue): \(route.filter.text)\n" }
        y += """

            store:
              path: ./var/muckwatch.db

            alerts:
              log: ./var/alerts.jsonl

            timezone: Asia/Shanghai

            cases:
              verification_deadline_h: 72
              incident_window_s: 600

            rules:
              geofence: {dwell_s: \(n(r.geofence.dwellS))}
              attribution: {radius_m: \(n(r.attribution.radiusM)), lookback_s: \(n(r.attribution.lookbackS))}
              uncovered_load:
                min_speed_kmh: \(n(r.uncoveredLoad.minSpeedKmh))
                min_duration_s: \(n(r.uncoveredLoad.minDurationS))
                min_confidence: \(n(r.uncoveredLoad.minConfidence))
                legal_basis: "\(Self.legalBasis["uncovered_load"]!)"
              spill:
                min_confidence: \(n(r.spill.minConfidence))
                min_drop_kg: \(n(r.spill.minDropKg))
                drop_window_s: \(n(r.spill.dropWindowS))
                min_speed_kmh: \(n(r.spill.minSpeedKmh))
                legal_basis: "\(Self.legalBasis["spill"]!)"
              illegal_dumping: {min_loss_fraction: \(n(r.illegalDumping.minLossFraction)), max_speed_kmh: \(n(r.illegalDumping.maxSpeedKmh))}
              unwashed_exit: {min_wash_s: \(n(r.unwashedExit.minWashS)), min_visit_s: \(n(r.unwashedExit.minVisitS)), min_confidence: \(n(r.unwashedExit.minConfidence))}
              off_hours: {min_speed_kmh: \(n(r.offHours.minSpeedKmh))}
              fume_exceedance: {limit_mg_m3: \(fixed(r.fumeExceedance.limitMgM3, 1)), window_s: \(n(r.fumeExceedance.windowS))}
              purifier_off: {min_duration_s: \(n(r.purifierOff.minDurationS))}
              device_silent: {silence_s: \(n(r.deviceSilent.silenceS)), min_speed_kmh: \(n(r.deviceSilent.minSpeedKmh))}

            # S-16's tracker speaks JT/T 808; its vendor puts the cover in additional item 0xE1.
            protocols:
              jt808:
                vendors:
                  muck-e1: {cover: {item: 0xE1, mask: 0x01, set_means: closed}}
                devices:
            \(showcase.jt808Devices.map { "      - {phone: \"\(Self.showcasePhone($0))\", vendor: muck-e1}\n" }.joined())
            # \(world.trucks.count) muck trucks of \(Set(world.trucks.map(\.company)).count) transport companies, then the showcases' trucks (see planted.json).
            registry:
              companies:

            """
        let width = max(2, String(world.companies.count).count)
        var companyId: [String: String] = [:]
        for (i, c) in world.companies.enumerated() {
            let id = "C-" + pad(i + 1, width)
            companyId[c] = id
            y += "    - {id: \(id), name: \(c)}\n"
        }
        y += "  trucks:\n"
        for t in registryEntries {
            y += "    - device: \(t.device)\n      plate: \(t.plate)\n      company: \(companyId[t.company] ?? t.company)\n"
            y += "      empty_kg: \(t.emptyKg)\n      phone: \"\(t.phone)\"\n"
            y += "      permit: {from: \(t.permit.from), until: \(t.permit.until)}\n"
            if !t.hours.isEmpty { y += "      permitted_hours: [" + t.hours.map { "\"" + $0 + "\"" }.joined(separator: ", ") + "]\n" }
        }
        y += "  sites: {file: sites.geojson, coordinates: wgs84}\n  cameras:\n"
        for s in world.sites {
            y += "    - {id: \(s.camera), site: \(s.id), lat: \(fixed(ScenarioGeo.lat(s.gate), 6)), lon: \(fixed(ScenarioGeo.lon(s.gate), 6))}\n"
        }
        for c in extras.cameras {
            y += "    - {id: \(c.id), lat: \(fixed(ScenarioGeo.lat(c.p), 6)), lon: \(fixed(ScenarioGeo.lon(c.p), 6))}\n"
        }
        y += "  fume_monitors:\n"
        let classes = ["medium", "large", "small"]
        for (i, m) in world.monitors.enumerated() {
            y += "    - {id: \(m.id), restaurant: \(m.restaurant), address: \(m.address), purifier_class: \(classes[i % 3])}\n"
        }
        for m in showcase.monitors {
            y += "    - {id: \(m.id), restaurant: \(m.restaurant), address: \(m.address), purifier_class: medium}\n"
        }
        return y
    }

    static func registrySites(of world: World) -> [Site] {
        func polygon(_ points: [Point]) -> Polygon {
            let ring = (points + [points[0]]).map {
                ScenarioGeo.written($0)
            }
            return Polygon(outer: ring)
        }
        var out: [Site] = []
        for s in world.sites {
            out.append(Site(id: s.id, name: s.name, kind: s.kind == .construction ? .construction : .disposal,
                            polygons: [polygon(s.ring)]))
            if let washId = s.washId {
                out.append(Site(id: washId, name: s.washName ?? washId, kind: .wash, polygons: [polygon(s.washRing)], parent: s.id))
            }
        }
        return out
    }

    /// `sites.geojson`: one feature per line, closed counter-clockwise rings.
    public var sitesGeoJSON: String {
        func ring(_ points: [Point]) -> String {
            "[[" + (points + [points[0]]).map { "[" + fixed(ScenarioGeo.lon($0), 6) + "," + fixed(ScenarioGeo.lat($0), 6) + "]" }
                .joined(separator: ",") + "]]"
        }
        func feature(_ properties: JSONLine, _ points: [Point]) -> String {
            "{\"type\":\"Feature\",\"properties\":" + properties.text
                + ",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":" + ring(points) + "}}"
        }
        var features: [String] = []
        for s in world.sites {
            var p = JSONLine()
            p.add("id", s.id)
            p.add("kind", s.kind.rawValue)
            p.add("name", s.name)
            p.add("camera", s.camera)
            features.append(feature(p, s.ring))
            if let washId = s.washId {
                var w = JSONLine()
                w.add("id", washId)
                w.add("kind", "wash")
                w.add("name", s.washName)
                w.add("site", s.id)
                features.append(feature(w, s.washRing))
            }
        }
        return "{\"type\":\"FeatureCollection\",\"features\":[\n" + features.joined(separator: ",\n") + "\n]}\n"
    }

    /// The planted items with the feed's line numbers filled in.
    public func withLines(_ summary: ScenarioSummary) -> (violations: [PlantedViolation], bad: [PlantedBadMessage],
                                                          duplicates: [PlantedDuplicate]) {
        var v = violations, b = badMessages, d = duplicates
        for i in v.indices { v[i].line = v[i].tag.flatMap { summary.lineOf[$0] } }
        for i in b.indices { b[i].line = summary.lineOf[b[i].tag] }
        for i in d.indices { d[i].line = summary.lineOf[d[i].tag] }
        return (v, b, d)
    }

    /// `planted.json`: what the feed holds and what replaying it must give.
    public func manifestJSON(_ summary: ScenarioSummary) -> String {
        let (violations, bad, duplicates) = withLines(summary)
        func local(_ i: Instant) -> String { RFC3339.format(i, offsetSeconds: Clock.offset) }
        func utc(_ i: Instant) -> String { RFC3339.format(i, offsetSeconds: 0) }
        func counts(_ keys: [String], _ values: [String: Int]) -> JSONLine {
            var o = JSONLine()
            for k in keys where values[k, default: 0] > 0 { o.add(k, values[k]!) }
            return o
        }
        func array(_ items: [JSONLine]) -> String {
            items.isEmpty ? "[]" : "[\n    " + items.map(\.text).joined(separator: ",\n    ") + "\n  ]"
        }

        var opts = JSONLine()
        opts.add("trucks", options.trucks)
        opts.add("hours", options.hours)
        opts.add("seed", String(options.seed))
        opts.add("start", utc(options.start))
        opts.add("fume_monitors", options.fumeMonitors)
        opts.add("report_interval_s", options.reportIntervalS)
        var window = JSONLine()
        window.add("from", utc(options.start))
        window.add("to", utc(world.instant(world.duration)))
        var messages = JSONLine()
        messages.add("lines", summary.lines)
        for k in ScenarioSummary.kinds { messages.add(k, summary.byKind[k, default: 0]) }

        let rules = Array(Set(incidents.map(\.rule))).sorted()
        var byRule: [String: Int] = [:]
        for i in incidents { byRule[i.rule, default: 0] += 1 }
        var reasons: [String: Int] = [:]
        for b in bad { reasons[b.reason.rawValue, default: 0] += 1 }
        var expected = JSONLine()
        expected.add("alerts", incidents.count)
        expected.add("alerts_by_rule", object: counts(rules, byRule))
        expected.add("firing", violations.filter(\.alertExpected).count)
        expected.add("near_misses", violations.filter { !$0.alertExpected }.count)
        expected.add("dead_letters", object: counts(DeadLetterReason.allCases.map(\.rawValue), reasons))
        expected.add("duplicates", duplicates.count)

        let incidentLines = incidents.map { i -> JSONLine in
            var o = JSONLine()
            o.add("id", i.id)
            o.add("rule", i.rule)
            o.add("severity", i.severity)
            o.add("subject_kind", i.subjectKind)
            o.add("subject", i.subjectId)
            o.add("plate", i.plate)
            o.add("first_signal", local(i.firstSignal))
            o.add("last_signal", local(i.lastSignal))
            o.add("signals", i.signals)
            o.add("planted", i.planted)
            o.add("prior_incidents", i.priorIncidents)
            o.add("suggested_action", i.suggestedAction)
            if !i.candidates.isEmpty { o.add("candidates", i.candidates) }
            return o
        }
        let plantedLines = violations.map { v -> JSONLine in
            var o = JSONLine()
            o.add("id", v.id)
            o.add("kind", v.kind)
            o.add("rule", v.rule)
            o.addBool("alert_expected", v.alertExpected)
            o.add("expected_signals", v.expectedSignals)
            o.add("incident", v.incident)
            o.add("device", v.device)
            o.add("plate", v.plate)
            o.add("source", v.source)
            o.add("from", local(v.from))
            o.add("to", local(v.to))
            o.add("confidence", v.confidence)
            o.add("topic", v.topic)
            o.add("t", v.t.map(utc))
            o.add("line", v.line)
            o.add("note", v.note)
            return o
        }
        let duplicateLines = duplicates.map { d -> JSONLine in
            var o = JSONLine()
            o.add("id", d.id)
            o.add("of", d.of)
            o.add("topic", d.topic)
            o.add("t", utc(d.t))
            o.add("line", d.line)
            o.add("note", "QoS 1 redelivery: the same bytes again; recognised, not processed twice")
            return o
        }
        let badLines = bad.map { b -> JSONLine in
            var o = JSONLine()
            o.add("id", b.id)
            o.add("dead_letter", b.reason.rawValue)
            o.add("topic", b.topic)
            o.add("t", utc(b.t))
            o.add("line", b.line)
            if b.binary { o.addBool("binary", true) }
            o.add("note", b.note)
            return o
        }
        var out = "{\n"
        out += "  \"generator\": \"muckwatch scenario\",\n"
        out += "  \"command\": " + JSONLine.quoted(options.commandLine) + ",\n"
        out += "  \"options\": " + opts.text + ",\n"
        out += "  \"window\": " + window.text + ",\n"
        out += "  \"times\": \"from/to/first_signal/last_signal are device time (payload ts) at +08:00; t is receive time as in the feed\",\n"
        out += "  \"messages\": " + messages.text + ",\n"
        out += "  \"expected\": " + expected.text + ",\n"
        out += "  \"rules_covered\": [" + rulesCovered.map { JSONLine.quoted($0) }.joined(separator: ",") + "],\n"
        out += "  \"incidents\": " + array(incidentLines) + ",\n"
        out += "  \"planted\": " + array(plantedLines) + ",\n"
        out += "  \"duplicates\": " + array(duplicateLines) + ",\n"
        out += "  \"bad_messages\": " + array(badLines) + "\n"
        out += "}\n"
        return out
    }

    /// The rules of SPEC §6 with at least one expected incident, in §6's order.
    public var rulesCovered: [String] {
        let rules = Set(incidents.map(\.rule))
        return RuleSettings.allRules.filter { rules.contains($0) }
    }

    /// One line for people: messages by kind, what was planted.
    public func summaryLine(_ summary: ScenarioSummary) -> String {
        let kinds = ScenarioSummary.kinds.map { "\($0) \(summary.byKind[$0, default: 0])" }.joined(separator: ", ")
        var byRule: [String: Int] = [:]
        for i in incidents { byRule[i.rule, default: 0] += 1 }
        let rules = byRule.keys.sorted().map { "\($0) \(byRule[$0]!)" }.joined(separator: ", ")
        let firing = violations.filter(\.alertExpected).count
        return "scenario: \(summary.lines) lines (\(kinds)); planted \(violations.count): \(firing) firing as "
            + "\(incidents.count) alerts (\(rules)), \(violations.count - firing) near-misses that must not; "
            + "\(badMessages.count) bad messages, \(duplicates.count) redelivered"
    }
}

extension JSONLine {
    /// A JSON string literal.
    static func quoted(_ s: String) -> String {
        var out = ""
        quote(s, into: &out)
        return out
    }
}
