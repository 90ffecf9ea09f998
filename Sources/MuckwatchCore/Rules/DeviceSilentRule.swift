/// `device_silent` (§6): a registered truck that was moving stops reporting
/// within its permitted hours — a tracker going dark mid-trip. Checked as
/// the pipeline's clock (every device's messages) moves on.
public struct DeviceSilentRule: Rule {
    public let name = "device_silent"
    public var thresholds: RuleSettings.DeviceSilent
    let checkEveryS = 10.0
    private struct LastFix {
        var telemetry: TruckTelemetry
        var evidence: EvidenceRef
        var fired: Bool
    }
    private var last: [String: LastFix] = [:]
    private var nextCheck: Instant?

    public init(thresholds: RuleSettings.DeviceSilent = .init()) { self.thresholds = thresholds }

    /// A fix older than the idle time (longer than `silence_s`) was checked already.
    public mutating func forget(idleSince horizon: Instant) { last.removeAll(shrinking: true) { $0.value.telemetry.ts < horizon } }
    public var devicesHeld: Int { last.count }

    public mutating func evaluate(_ decoded: DecodedMessage, _ context: RuleContext) -> [Signal] {
        if case .truck(let t) = decoded.record, context.currentFix != nil, context.registry.truck(device: t.device) != nil {
            last[t.device] = LastFix(telemetry: t, evidence: evidence(of: decoded), fired: false)
        }
        let now = context.now
        if let next = nextCheck, now < next { return [] }
        nextCheck = now.adding(seconds: checkEveryS)
        var out: [Signal] = []
        for device in last.keys.sorted() {
            guard var fix = last[device], !fix.fired, let speed = fix.telemetry.speedKmh,
                  speed >= thresholds.minSpeedKmh, now.seconds(since: fix.telemetry.ts) >= thresholds.silenceS,
                  let truck = context.registry.truck(device: device) else { continue }
            let silentAt = fix.telemetry.ts.adding(seconds: thresholds.silenceS)
            fix.fired = true
            last[device] = fix
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
