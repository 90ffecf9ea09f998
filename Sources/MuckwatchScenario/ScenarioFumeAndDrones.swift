import Foundation
import MuckwatchCore

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
