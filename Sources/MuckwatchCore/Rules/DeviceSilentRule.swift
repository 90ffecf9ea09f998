/// `device_silent` (§6): a registered truck that was moving stops reporting
/// within its permitted hours — a tracker going dark mid-trip. Checked as
/// the pipeline's clock (every device's messages) moves on.
public struct DeviceSilentRule: Rule {
    public let name = "device_silent"
    public var thresholds: RuleSettings.DeviceSilent
    let checkEveryS = 10.0
    public struct State: Codable, Sendable {
        /// Per registered truck: its last current fix, and whether its silence since was reported.
        var last: [String: LastFix] = [:]
        var nextCheck: Instant?
    }

    struct LastFix: Codable {
        var telemetry: TruckTelemetry
        var evidence: EvidenceRef
        var fired: Bool
    }

    public var state = State()

    public init(thresholds: RuleSettings.DeviceSilent = .init()) { self.thresholds = thresholds }

    /// A fix older than the idle time (longer than `silence_s`) was checked already.
    public mutating func forget(idleSince horizon: Instant) { state.last.removeAll(shrinking: true) { $0.value.telemetry.ts < horizon } }
    public var devicesHeld: Int { state.last.count }

    public mutating func evaluate(_ decoded: DecodedMessage, _ context: RuleContext) -> [Signal] {
        if case .truck(let t) = decoded.record, context.currentFix != nil, context.registry.truck(device: t.device) != nil {
            state.last[t.device] = LastFix(telemetry: t, evidence: evidence(of: decoded), fired: false)
        }
        let now = context.now
        if let next = state.nextCheck, now < next { return [] }
        state.nextCheck = now.adding(seconds: checkEveryS)
        var out: [Signal] = []
        for device in state.last.keys.sorted() {
            guard var fix = state.last[device], !fix.fired, let speed = fix.telemetry.speedKmh,
                  speed >= thresholds.minSpeedKmh, now.seconds(since: fix.telemetry.ts) >= thresholds.silenceS,
                  let truck = context.registry.truck(device: device) else { continue }
            let silentAt = fix.telemetry.ts.adding(seconds: thresholds.silenceS)
            fix.fired = true
            state.last[device] = fix
            // A truck allowed on the road at that moment should be reporting.
            guard OffHoursRule.violation(truck, at: silentAt, utcOffsetSeconds: context.utcOffsetSeconds) == nil else { continue }
            let t = fix.telemetry
            let s = Subject.truck(device: device, plate: t.plate, registry: context.registry)
            out.append(Signal(rule: name, severity: .minor, subject: s, ts: silentAt, lat: t.lat, lon: t.lon,
                              summary: "\(s.displayName) silent for \(number(thresholds.silenceS / 60)) min after reporting \(number(speed)) km/h at \(RFC3339.format(t.ts, offsetSeconds: context.utcOffsetSeconds))",
                              evidence: fix.evidence))
        }
        return out
    }
}
