import Foundation
import MuckwatchCore

/// The scenario's rule showcase: one planted violation of each rule the
/// trucks' trips do not exercise (illegal_dumping, spill by weight,
/// unwashed_exit, off_hours, device_silent, fume_exceedance, purifier_off),
/// with near-misses, on devices of their own (S-01…S-07, S-16, F-9001…F-9005) in
/// places no other truck goes, so they add to the scenario without
/// changing what the trips raise. Times are from the scenario's start.
struct RuleShowcase {
    struct Truck {
        var device: String
        var plate: String
        var company: String
        var hours: String
    }

    private(set) var trucks: [Truck] = []
    private(set) var monitors: [(id: String, restaurant: String, address: String)] = []
    private(set) var messages: [ScenarioMessage] = []
    private(set) var records: [PlantedViolation] = []
    /// (rule, subject kind, id, plate, signal ts, detected at t, record index)
    private(set) var signals: [(rule: String, kind: String, id: String, plate: String?, ts: Instant, t: Instant, record: Int)] = []

    private let world: World
    private var seq: Int64 = 1

    init(world: World, sites: [Site]) {
        self.world = world
        guard world.duration >= 3600 else { return }
        // 15 km south of the centre, below where the generator places sites and their roads.
        let far = Point(x: 0, y: -15_000)
        let company = world.trucks.first?.company ?? "深圳市示例渣土运输有限公司"

        // illegal_dumping: the tipper raised on a roadside, and (near-miss) inside a disposal site.
        var s01 = fixes(device: "S-01", from: 300, to: 480, every: 10) { _ in (far, 0) }
        for i in s01.indices where s01[i].s >= 360 { s01[i].body = "raised" }
        add(truck: "S-01", plate: "粤BS9001", company, s01)
        plant("tracker_body_raised", "illegal_dumping", "S-01", "粤BS9001", 360, 480, fires: true,
              note: "stopped on a roadside, tipper raised from 22:06: one signal per raise")
        if let tip = world.sites.first(where: { $0.kind == .disposal }) {
            var s02 = fixes(device: "S-02", from: 300, to: 480, every: 10) { _ in (tip.centre, 0) }
            for i in s02.indices where s02[i].s >= 360 { s02[i].body = "raised" }
            add(truck: "S-02", plate: "粤BS9002", company, s02)
            plant("tracker_body_raised_at_disposal", "illegal_dumping", "S-02", "粤BS9002", 360, 480, fires: false,
                  note: "tipping inside \(tip.id), where it belongs")
        }

        // spill: 700 kg gone in 20 s at 30 km/h on the road; then it parks.
        var s03 = fixes(device: "S-03", from: 720, to: 900, every: 10) { s in
            s < 870 ? (far.moved((s - 720) * 8.33, -2000), 30) : (far.moved(150 * 8.33, -2000), 0)
        }
        for i in s03.indices { s03[i].kg = s03[i].s < 790 ? 20_000 : s03[i].s < 800 ? 19_700 : 19_300 }
        add(truck: "S-03", plate: "粤BS9003", company, s03)
        plant("tracker_load_drop", "spill", "S-03", "粤BS9003", 780, 800, fires: true,
              note: "load_kg 20000 → 19300 between 22:13:00 and 22:13:20 while moving at 30 km/h")

        // off_hours: permitted until 22:30, still driving at 22:40; then parked.
        let s04 = fixes(device: "S-04", from: 1680, to: 2410, every: 10) { s in
            s <= 2400 ? (far.moved((s - 1680) * 8.33, -4000), 30) : (far.moved(720 * 8.33, -4000), 0)
        }
        add(truck: "S-04", plate: "粤BS9004", company, s04, hours: "06:00-22:30")
        plant("tracker_off_hours", "off_hours", "S-04", "粤BS9004", 1800, 2400, fires: true,
              note: "permitted 06:00-22:30, driving 22:28-22:40: evidence at 22:30, 22:35, 22:40")

        // device_silent: dark mid-trip at 22:42; (near-miss) parked, then off.
        add(truck: "S-05", plate: "粤BS9005", company,
            fixes(device: "S-05", from: 2400, to: 2520, every: 10) { s in (far.moved((s - 2400) * 8.33, -6000), 30) })
        plant("tracker_goes_dark", "device_silent", "S-05", "粤BS9005", 2520, 3420, fires: true,
              note: "last report 22:42:00 at 30 km/h, then nothing: silent 15 min at 22:57:00")
        add(truck: "S-06", plate: "粤BS9006", company,
            fixes(device: "S-06", from: 2400, to: 2530, every: 10) { s in
                s < 2530 ? (far.moved((s - 2400) * 8.33, -8000), 30) : (far.moved(130 * 8.33, -8000), 0)
            })
        plant("tracker_parked_dark", "device_silent", "S-06", "粤BS9006", 2530, 3530, fires: false,
              note: "stops at 22:42:10, then powers off: a parked truck going quiet is normal")

        // unwashed_exit: in through the gate of the first construction site, three minutes
        // at the loading point, straight out past the wash zone.
        if let site = world.sites.first(where: { $0.kind == .construction }) {
            let out = site.gate.moved((site.gate.x - site.centre.x), (site.gate.y - site.centre.y))
            let len = max(1, out.distance(to: site.gate))
            let far = site.gate.moved((out.x - site.gate.x) / len * 200, (out.y - site.gate.y) / len * 200)
            var path: [(Point, Double)] = []
            for f in stride(from: 0.0, through: 1, by: 0.25) { path.append((far.lerp(site.gate, f), 20)) }
            for f in stride(from: 0.25, through: 1, by: 0.25) { path.append((site.gate.lerp(site.centre, f), 10)) }
            for _ in 0..<18 { path.append((site.centre, 0)) }
            for f in stride(from: 0.25, through: 1, by: 0.25) { path.append((site.centre.lerp(site.gate, f), 10)) }
            for f in stride(from: 0.25, through: 1.5, by: 0.25) { path.append((site.gate.lerp(far, f), 20)) }
            path += [(site.gate.lerp(far, 1.5), 0), (site.gate.lerp(far, 1.5), 0)]
            let s07 = path.enumerated().map { i, p in Fix(s: 2640 + Double(i) * 10, p: p.0, speed: p.1) }
            add(truck: "S-07", plate: "粤BS9007", company, s07)
            // Where the pipeline's geofence puts the exit: the crossing, interpolated.
            var fences = TruckTracker(registry: Registry(sites: sites), dwellS: 20)
            var exit: Instant?
            for f in s07 {
                let view = fences.observe(telemetry("S-07", f))
                if exit == nil, let c = view.crossings.first(where: { !$0.entered && $0.site == site.id }) { exit = c.at }
            }
            if let exit {
                records.append(record("tracker_unwashed_exit", "unwashed_exit", "S-07", "粤BS9007",
                                      from: world.instant(2640), to: world.instant(s07.last!.s), fires: true,
                                      note: "three minutes in \(site.id), out through its wash zone without stopping"))
                signals.append(("unwashed_exit", "truck", "S-07", "粤BS9007", exit,
                                exit.adding(seconds: 30), records.count - 1))
            }
        }

        // Fume monitors: a high 10-minute mean, a short spike, the purifier off long and briefly.
        monitors = [("F-9001", "川菜馆（展示一）", "福田区示例路1号"), ("F-9002", "粤菜馆（展示二）", "福田区示例路2号"),
                    ("F-9003", "火锅店（展示三）", "福田区示例路3号"), ("F-9004", "烧烤店（展示四）", "福田区示例路4号")]
        for m in 0...16 { fume("F-9001", 30 + Double(m) * 60, conc: 3.5) }
        plant("fume_high_mean", "fume_exceedance", "F-9001", nil, 630, 930, fires: true,
              note: "3.5 mg/m³ from 22:00:30: the 10-minute mean exceeds 2.0 at 22:10:30, evidence again at 22:15:30")
        for m in 0...20 { fume("F-9002", 30 + Double(m) * 60, conc: m == 11 || m == 12 ? 4.0 : 1.0) }
        plant("fume_short_spike", "fume_exceedance", "F-9002", nil, 690, 750, fires: false,
              note: "two readings of 4.0 in a 1.0 background: the 10-minute mean stays at 1.6")
        for m in 0...7 { fume("F-9003", 1230 + Double(m) * 60, conc: 0.8, purifier: "off") }
        plant("purifier_off_long", "purifier_off", "F-9003", nil, 1530, 1530, fires: true,
              note: "fan on, purifier off from 22:20:30 to 22:27:30: five minutes at 22:25:30")
        for m in 0...8 { fume("F-9004", 1230 + Double(m) * 60, conc: 0.8, purifier: m <= 2 ? "off" : "on") }
        plant("purifier_off_short", "purifier_off", "F-9004", nil, 1230, 1350, fires: false,
              note: "purifier off for two minutes only")

        // Standard protocols. S-16's tracker speaks JT/T 808 through gateway GW-01; its
        // vendor (muck-e1 in the config) puts the cover in item 0xE1. Loaded, 30 km/h, the
        // cover open from 22:50:40. Then (near-miss) a blind-area batch of points it buffered
        // earlier, open and moving too: the past, which raises nothing.
        var s16 = fixes(device: "S-16", from: 3000, to: 3120, every: 10) { s in (far.moved((s - 3000) * 8.33, -10_000), 30) }
        s16 += [Fix(s: 3130, p: far.moved(130 * 8.33, -10_000), speed: 0), Fix(s: 3140, p: far.moved(130 * 8.33, -10_000), speed: 0)]
        // (The near-miss is planted first: signals go to the last item of their truck and rule.)
        let buffered = fixes(device: "S-16", from: 2700, to: 2790, every: 10) { s in (far.moved((s - 2700) * 8.33, -11_000), 30) }
        addJT808Batch("S-16", buffered, sentAt: 3300)
        plant("jt808_blind_area_batch", "uncovered_load", "S-16", "粤BS9016", 2700, 2790, fires: false,
              note: "a 0x0704 blind-area batch sent at 22:55:00 of 22:45:00-22:46:30, open and moving: history only")
        addJT808(truck: "S-16", plate: "粤BS9016", company, s16, openFrom: 3040)
        plant("jt808_uncovered_load", "uncovered_load", "S-16", "粤BS9016", 3040, 3120, fires: true,
              note: "JT/T 808 0x0200 reports via jt808/GW-01/up: load bits full, item 0xE1 cover bit clear from 22:50:40 at 30 km/h")
        // F-9005 speaks HJ 212: 3.0 mg/m³ in a34041-Rtd every minute from 22:30:30.
        monitors.append(("F-9005", "湘菜馆（展示五）", "福田区示例路5号"))
        for m in 0...16 { hj212("F-9005", 1830 + Double(m) * 60, conc: 3.0) }
        plant("hj212_high_mean", "fume_exceedance", "F-9005", nil, 2430, 2790, fires: true,
              note: "HJ 212 CN 2011 packets via hj212/F-9005/up, 3.0 mg/m³: the mean exceeds 2.0 at 22:40:30, evidence again at 22:45:30")

        // The signals each firing item gives, as the rules count them.
        func signal(_ rule: String, _ kind: String, _ id: String, _ plate: String?, _ s: Double, detectedAt t: Double? = nil) {
            let record = records.lastIndex { $0.source == id && $0.rule == rule }!
            signals.append((rule, kind, id, plate, world.instant(s), world.instant(t ?? s).adding(seconds: 0.3), record))
        }
        signal("illegal_dumping", "truck", "S-01", "粤BS9001", 360)
        signal("spill", "truck", "S-03", "粤BS9003", 800)
        for s in [1800.0, 2100, 2400] { signal("off_hours", "truck", "S-04", "粤BS9004", s) }
        signal("device_silent", "truck", "S-05", "粤BS9005", 3420, detectedAt: 3430)
        signal("fume_exceedance", "monitor", "F-9001", nil, 630)
        signal("fume_exceedance", "monitor", "F-9001", nil, 930)
        signal("purifier_off", "monitor", "F-9003", nil, 1530)
        for s in [3070.0, 3100] { signal("uncovered_load", "truck", "S-16", "粤BS9016", s) }
        signal("fume_exceedance", "monitor", "F-9005", nil, 2430)
        signal("fume_exceedance", "monitor", "F-9005", nil, 2730)
        for i in records.indices { records[i].expectedSignals = signals.filter { $0.record == i }.count }
    }

    struct Fix {
        var s: Double
        var p: Point
        var speed: Double
        var kg: Int? = nil
        var body = "down"
    }

    private func fixes(device: String, from: Double, to: Double, every: Double, _ at: (Double) -> (Point, Double)) -> [Fix] {
        stride(from: from, through: to, by: every).map { s in
            let (p, v) = at(s)
            return Fix(s: s, p: p, speed: v)
        }
    }

    private func telemetry(_ device: String, _ f: Fix) -> TruckTelemetry {
        let at = ScenarioGeo.written(f.p)
        return TruckTelemetry(device: device, ts: world.instant(f.s), plate: nil, lat: at.lat,
                       lon: at.lon, speedKmh: f.speed, headingDeg: nil, cover: .closed,
                       load: .full, loadKg: f.kg.map(Double.init), body: BodyState(rawValue: f.body) ?? .unknown, seq: nil)
    }

    private mutating func add(truck device: String, plate: String, _ company: String, _ fixes: [Fix], hours: String = "22:00-06:00") {
        trucks.append(Truck(device: device, plate: plate, company: company, hours: hours))
        for f in fixes {
            let ms = world.instant(f.s).millis
            var j = "{\"device\":\"" + device + "\",\"ts\":\"" + Clock.local(ms, withMillis: false) + "\",\"plate\":\"" + plate
            j += "\",\"lat\":" + fixed(ScenarioGeo.lat(f.p), 6) + ",\"lon\":" + fixed(ScenarioGeo.lon(f.p), 6)
            j += ",\"speed_kmh\":" + fixed(f.speed, 1) + ",\"cover\":\"closed\",\"load\":\"full\""
            if let kg = f.kg { j += ",\"load_kg\":" + String(kg) }
            j += ",\"body\":\"" + f.body + "\",\"seq\":" + String(seq) + "}"
            seq += 1
            messages.append(ScenarioMessage(t: ms + 300, topic: Array(Topics.truck(device).utf8), payload: Array(j.utf8), kind: .truck))
        }
    }

    /// The devices whose trackers speak JT/T 808 (vendor profile `muck-e1`).
    private(set) var jt808Devices: [String] = []
    static let gatewayTopic = "jt808/GW-01/up"

    private func location(_ f: Fix, open: Bool) -> [UInt8] {
        // ACC on, fixed, load bits 8-9 = full; item 0xE1 bit 0 = cover closed.
        let at = ScenarioGeo.written(f.p)
        return JT808.locationBody(status: 0x303, lat: at.lat, lon: at.lon,
                           speedKmh: f.speed, directionDeg: 90, time: world.instant(f.s),
                           items: [JT808.Item(id: 0xe1, value: [open ? 0 : 1]), JT808.Item(id: 0x31, value: [14])])
    }

    private mutating func addJT808(truck device: String, plate: String, _ company: String, _ fixes: [Fix], openFrom: Double) {
        trucks.append(Truck(device: device, plate: plate, company: company, hours: "22:00-06:00"))
        jt808Devices.append(device)
        for f in fixes {
            let frame = JT808.frame(messageId: 0x0200, phone: ScenarioGenerator.showcasePhone(device), serial: UInt16(seq % 65_536),
                                    body: location(f, open: f.s >= openFrom))
            seq += 1
            messages.append(ScenarioMessage(t: world.instant(f.s).millis + 300, topic: Array(Self.gatewayTopic.utf8), payload: frame,
                                            kind: .truck))
        }
    }

    private mutating func addJT808Batch(_ device: String, _ fixes: [Fix], sentAt s: Double) {
        let body = JT808.batchBody(fixes.map { location($0, open: true) }, blindArea: true)
        let frame = JT808.frame(messageId: 0x0704, phone: ScenarioGenerator.showcasePhone(device), serial: UInt16(seq % 65_536), body: body)
        seq += 1
        messages.append(ScenarioMessage(t: world.instant(s).millis + 300, topic: Array(Self.gatewayTopic.utf8), payload: frame, kind: .truck))
    }

    private mutating func hj212(_ monitor: String, _ s: Double, conc: Double) {
        let ts = world.instant(s)
        let t = HJ212.timeText(ts)
        let packet = HJ212.packet("QN=\(t)000;ST=31;CN=2011;PW=123456;MN=\(monitor);Flag=5;CP=&&DataTime=\(t);"
            + "a34041-Rtd=\(fixed(conc, 2)),a34041-Flag=N;SB1-RS=1;SB2-RS=1&&")
        messages.append(ScenarioMessage(t: ts.millis + 200, topic: Array("hj212/\(monitor)/up".utf8), payload: packet, kind: .fume))
    }

    private mutating func fume(_ monitor: String, _ s: Double, conc: Double, purifier: String = "on") {
        let ms = world.instant(s).millis
        let j = "{\"monitor\":\"" + monitor + "\",\"ts\":" + String(ms) + ",\"conc_mg_m3\":" + fixed(conc, 2)
            + ",\"fan\":\"on\",\"purifier\":\"" + purifier + "\"}"
        messages.append(ScenarioMessage(t: ms + 200, topic: Array(Topics.fume(monitor).utf8), payload: Array(j.utf8), kind: .fume))
    }

    private func record(_ kind: String, _ rule: String, _ source: String, _ plate: String?, from: Instant, to: Instant,
                        fires: Bool, note: String) -> PlantedViolation {
        PlantedViolation(id: "", kind: kind, rule: rule, alertExpected: fires, expectedSignals: 0, incident: nil,
                         device: plate == nil ? nil : source, plate: plate, source: source, from: from, to: to,
                         confidence: nil, topic: nil, t: nil, line: nil, note: note, tag: nil)
    }

    private mutating func plant(_ kind: String, _ rule: String, _ source: String, _ plate: String?, _ from: Double, _ to: Double,
                                fires: Bool, note: String) {
        records.append(record(kind, rule, source, plate, from: world.instant(from), to: world.instant(to), fires: fires, note: note))
    }
}
