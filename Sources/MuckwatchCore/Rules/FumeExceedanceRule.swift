/// `fume_exceedance` (§6): a monitor's mean concentration over the trailing
/// window above the limit (GB 18483-2001: 2.0 mg/m³).
public struct FumeExceedanceRule: Rule {
    public let name = "fume_exceedance"
    public var thresholds: RuleSettings.FumeExceedance
    let evidenceEveryS = 300.0
    public struct Monitor: Codable, Sendable {
        struct Reading: Codable {
            var ts: Instant
            var conc: Double
        }

        var firstTs: Instant
        var readings: [Reading] = []
        var lastSignal: Instant?
    }
    /// Per monitor: its readings in the window.
    public var state: [String: Monitor] = [:]

    public init(thresholds: RuleSettings.FumeExceedance = .init()) { self.thresholds = thresholds }

    public mutating func forget(idleSince horizon: Instant) {
        state.removeAll(shrinking: true) { ($0.value.readings.last?.ts ?? $0.value.firstTs) < horizon }
    }
    public var devicesHeld: Int { state.count }

    public mutating func evaluate(_ decoded: DecodedMessage, _ context: RuleContext) -> [Signal] {
        guard case .fume(let f) = decoded.record, f.isMeasurement else { return [] }
        // After `limits.device_idle_s` of silence the monitor starts afresh:
        // its mean needs a full window of readings again.
        var m = state[f.monitor].flatMap { m in
            f.ts.seconds(since: m.readings.last?.ts ?? m.firstTs) > context.idleS ? nil : m
        } ?? Monitor(firstTs: f.ts)
        defer { state[f.monitor] = m }
        // A late reading joins the window only if it falls in it.
        guard f.ts >= (m.readings.last?.ts ?? f.ts) else { return [] }
        m.readings.append(Monitor.Reading(ts: f.ts, conc: f.concMgM3))
        let horizon = f.ts.adding(seconds: -thresholds.windowS)
        if let first = m.readings.firstIndex(where: { $0.ts > horizon }), first > 0 { m.readings.removeFirst(first) }
        // The mean needs a full window of readings behind it.
        guard f.ts.seconds(since: m.firstTs) >= thresholds.windowS else { return [] }
        let mean = m.readings.reduce(0) { $0 + $1.conc } / Double(m.readings.count)
        guard mean > thresholds.limitMgM3 else {
            m.lastSignal = nil
            return []
        }
        if let last = m.lastSignal, f.ts.seconds(since: last) < evidenceEveryS { return [] }
        m.lastSignal = f.ts
        return [monitorSignal(name, decoded, f, context) { restaurant in
            "\(restaurant) fume \(number(mean, decimals: 2)) mg/m³ over \(number(thresholds.windowS / 60)) min, above \(number(thresholds.limitMgM3, decimals: 2))"
        }]
    }
}
