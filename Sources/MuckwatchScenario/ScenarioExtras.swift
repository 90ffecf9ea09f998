import Foundation
import MuckwatchCore

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
