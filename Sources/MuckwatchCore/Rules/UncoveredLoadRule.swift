/// `uncovered_load` (§6): a loaded truck moving with its cover open outside
/// every site for a sustained time, or a camera/drone detection.
public struct UncoveredLoadRule: Rule {
    public let name = "uncovered_load"
    public var thresholds: RuleSettings.UncoveredLoad
    /// How long each truck has been moving uncovered.
    public var state = Stretches()

    public init(thresholds: RuleSettings.UncoveredLoad = .init()) { self.thresholds = thresholds }

    public mutating func forget(idleSince horizon: Instant) { state.forget(before: horizon) }
    public var devicesHeld: Int { state.count }

    public mutating func evaluate(_ decoded: DecodedMessage, _ context: RuleContext) -> [Signal] {
        switch decoded.record {
        case .truck(let t):
            guard let view = context.currentFix else { return [] }
            return tracker(t, view, decoded, context.registry, idleS: context.idleS).map { [$0] } ?? []
        case .event:
            let signal = eventSignal(decoded, type: .uncoveredLoad, minConfidence: thresholds.minConfidence,
                                     rule: name, severity: .major, registry: context.registry) { e, subject in
                subject.kind == "truck"
                    ? "\(e.source) saw \(subject.displayName) carrying an uncovered load"
                    : "\(e.source) saw a truck carrying an uncovered load"
            }
            return signal.map { [$0] } ?? []
        default:
            return []
        }
    }

    private mutating func tracker(_ t: TruckTelemetry, _ view: TruckView, _ decoded: DecodedMessage,
                                  _ registry: Registry, idleS: Double) -> Signal? {
        let speed = t.speedKmh ?? 0
        let uncovered = isLoaded(t, registry) && t.cover == .open && !view.insideAnySite && speed >= thresholds.minSpeedKmh
        guard let duration = state.update(t.device, holds: uncovered, at: t.ts, minS: thresholds.minDurationS,
                                                       idleS: idleS)
        else { return nil }
        let subject = Subject.truck(device: t.device, plate: t.plate, registry: registry)
        return Signal(
            rule: name, severity: .major, subject: subject, ts: t.ts, lat: t.lat, lon: t.lon,
            summary: "\(subject.displayName) moving uncovered at \(number(speed)) km/h for \(number(duration)) s",
            evidence: evidence(of: decoded))
    }
}

/// Loaded by the tracker's load sensor, or by weight above the registered empty weight.
func isLoaded(_ t: TruckTelemetry, _ registry: Registry) -> Bool {
    if t.load == .partial || t.load == .full { return true }
    if let kg = t.loadKg, let empty = registry.truck(device: t.device)?.emptyKg { return kg > empty }
    return false
}
