/// `device_silent` (§6): a registered truck that was moving stops reporting
/// within its permitted hours — a tracker going dark mid-trip. Checked as
/// the pipeline's clock (every device's messages) moves on, and on the
/// truck's own next report: at night one truck may be all that reports, and
/// its return must not erase the silence before it is judged.
public struct DeviceSilentRule: Rule {
    public let name = "device_silent"
    public var thresholds: RuleSettings.DeviceSilent
    let checkEveryS = 10.0
    public struct State: Codable, Sendable {
        /// Per registered truck: its last current fix.
        var last: [String: LastFix] = [:]
        var nextCheck: Instant?
    }

    struct LastFix: Codable {
        var telemetry: TruckTelemetry
        var evidence: EvidenceRef
        /// Judged already (raised or excused): one silence is one signal at most.
        var fired: Bool
    }

    public var state = State()

    public init(thresholds: RuleSettings.DeviceSilent = .init()) { self.thresholds = thresholds }

    /// A fix older than the idle time (longer than `silence_s`) was checked already.
    public mutating func forget(idleSince horizon: Instant) { state.last.removeAll(shrinking: true) { $0.value.telemetry.ts < horizon } }
    public var devicesHeld: Int { state.last.count }

    public mutating func evaluate(_ decoded: DecodedMessage, _ context: RuleContext) -> [Signal] {
        let now = context.now
        var out: [Signal] = []
        if case .truck(let t) = decoded.record, context.currentFix != nil, context.registry.truck(device: t.device) != nil {
            // The silence this report ends is judged by the report's own time,
            // before the fix that ended it replaces the last one: the same
            // signal a check by the clock alone would have raised, whether or
            // not another device's message moved the clock in between. (Not
            // by the pipeline's clock: a device whose reports arrive behind
            // other devices' has not been silent.)
            if let signal = judge(t.device, now: t.ts, context) { out.append(signal) }
            state.last[t.device] = LastFix(telemetry: t, evidence: evidence(of: decoded), fired: false)
        }
        if let next = state.nextCheck, now < next { return out }
        state.nextCheck = now.adding(seconds: checkEveryS)
        for device in state.last.keys.sorted() {
            if let signal = judge(device, now: now, context) { out.append(signal) }
        }
        return out
    }

    /// The signal for `device` if its last fix showed it moving and it has
    /// been silent `silence_s` by `now`, judged once: the fix is marked either
    /// way, so neither the clock nor the truck's next report raises it again.
    private mutating func judge(_ device: String, now: Instant, _ context: RuleContext) -> Signal? {
        guard var fix = state.last[device], !fix.fired, let speed = fix.telemetry.speedKmh,
              speed >= thresholds.minSpeedKmh, now.seconds(since: fix.telemetry.ts) >= thresholds.silenceS,
              let truck = context.registry.truck(device: device) else { return nil }
        let silentAt = fix.telemetry.ts.adding(seconds: thresholds.silenceS)
        fix.fired = true
        state.last[device] = fix
        // A truck allowed on the road at that moment should be reporting.
        guard OffHoursRule.violation(truck, at: silentAt, utcOffsetSeconds: context.utcOffsetSeconds) == nil else { return nil }
        let t = fix.telemetry
        let s = Subject.truck(device: device, plate: t.plate, registry: context.registry)
        return Signal(rule: name, severity: .minor, subject: s, ts: silentAt, lat: t.lat, lon: t.lon,
                      summary: "\(s.displayName) silent for \(number(thresholds.silenceS / 60)) min after reporting \(number(speed)) km/h at \(RFC3339.format(t.ts, offsetSeconds: context.utcOffsetSeconds))",
                      evidence: fix.evidence)
    }
}
