/// Records written back in the native schema of SPEC §4, as
/// `muckwatch decode` prints them: what a device's message means to
/// Muckwatch, whatever protocol it came in.
extension Record {
    public func nativeJSON(offsetSeconds: Int) -> JSONLine {
        var j = JSONLine()
        func time(_ t: Instant) -> String { RFC3339.format(t, offsetSeconds: offsetSeconds) }
        switch self {
        case .truck(let t):
            j.add("device", t.device)
            j.add("ts", time(t.ts))
            j.add("plate", t.plate)
            j.add("lat", t.lat)
            j.add("lon", t.lon)
            j.add("speed_kmh", t.speedKmh)
            j.add("heading_deg", t.headingDeg)
            j.add("cover", t.cover.rawValue)
            j.add("load", t.load.rawValue)
            j.add("load_kg", t.loadKg)
            j.add("body", t.body.rawValue)
            j.add("seq", t.seq.map(Int.init))
            if t.late { j.addBool("late", true) }
            j.add("marks", t.marks)
        case .fume(let f):
            j.add("monitor", f.monitor)
            j.add("ts", time(f.ts))
            j.add("conc_mg_m3", f.concMgM3)
            j.add("fan", f.fan.rawValue)
            j.add("purifier", f.purifier.rawValue)
            j.add("flow_m3_h", f.flowM3H)
            j.add("data_flag", f.dataFlag)
            j.add("marks", f.marks)
        case .event(let e):
            j.add(e.sourceKind == .camera ? "camera" : "drone", e.source)
            j.add("event_id", e.eventId)
            j.add("ts", time(e.ts))
            j.add("type", e.type.rawValue)
            j.add("plate", e.plate)
            j.add("confidence", e.confidence)
            j.add("lat", e.lat)
            j.add("lon", e.lon)
            if e.clipURL != nil || e.clipOffsetS != nil {
                var clip = JSONLine()
                clip.add("url", e.clipURL)
                clip.add("offset_s", e.clipOffsetS)
                j.add("clip", object: clip)
            }
        case .drone(let d):
            j.add("drone", d.drone)
            j.add("ts", time(d.ts))
            j.add("lat", d.lat)
            j.add("lon", d.lon)
            j.add("alt_m", d.altM)
            j.add("heading_deg", d.headingDeg)
        case .segment(let v):
            j.add("source", v.source)
            j.add("url", v.url)
            j.add("start", time(v.start))
        }
        return j
    }
}
