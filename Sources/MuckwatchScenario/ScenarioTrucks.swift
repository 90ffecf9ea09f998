import Foundation
import MuckwatchCore

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
