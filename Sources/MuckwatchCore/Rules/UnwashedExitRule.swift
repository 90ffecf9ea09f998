/// `unwashed_exit` (§6): a truck leaving a construction site without its
/// time in the site's wash zone, or a camera's detection.
public struct UnwashedExitRule: Rule {
    public let name = "unwashed_exit"
    public var thresholds: RuleSettings.UnwashedExit

    /// Nothing of its own: the geofence tracker keeps the visits and wash times.
    public var state: [String: Instant] = [:]

    public init(thresholds: RuleSettings.UnwashedExit = .init()) { self.thresholds = thresholds }

    /// No state of its own: the geofence's (`TruckTracker`) comes back from the store.
    public mutating func forget(idleSince horizon: Instant) {}
    public var devicesHeld: Int { 0 }

    public mutating func evaluate(_ decoded: DecodedMessage, _ context: RuleContext) -> [Signal] {
        if case .event = decoded.record {
            let signal = eventSignal(decoded, type: .unwashedExit, minConfidence: thresholds.minConfidence,
                                     rule: name, severity: .minor, registry: context.registry) { e, subject in
                subject.kind == "truck"
                    ? "\(e.source) saw \(subject.displayName) leave without washing"
                    : "\(e.source) saw a truck leave without washing"
            }
            return signal.map { [$0] } ?? []
        }
        guard case .truck(let t) = decoded.record, let view = context.currentFix else { return [] }
        return view.crossings.compactMap { c -> Signal? in
            guard !c.entered, c.kind == .construction, let washed = c.washedS, washed < thresholds.minWashS,
                  let visit = c.visitS, visit >= thresholds.minVisitS else { return nil }
            let s = Subject.truck(device: t.device, plate: t.plate, registry: context.registry)
            let site = context.registry.site(c.site)?.name ?? c.site
            return Signal(rule: name, severity: .minor, subject: s, ts: c.at, lat: c.point.lat, lon: c.point.lon,
                          summary: "\(s.displayName) left \(site) (\(c.site)) after \(number(washed, decimals: 0)) s in its wash zone, under \(number(thresholds.minWashS, decimals: 0)) s",
                          evidence: evidence(of: decoded))
        }
    }
}
