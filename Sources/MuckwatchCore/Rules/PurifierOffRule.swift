/// `purifier_off` (§6): the fan running with the purifier off for a sustained time.
public struct PurifierOffRule: Rule {
    public let name = "purifier_off"
    public var thresholds: RuleSettings.PurifierOff
    /// How long each monitor has had its fan on and purifier off.
    public var state = Stretches()

    public init(thresholds: RuleSettings.PurifierOff = .init()) { self.thresholds = thresholds }

    public mutating func forget(idleSince horizon: Instant) { state.forget(before: horizon) }
    public var devicesHeld: Int { state.count }

    public mutating func evaluate(_ decoded: DecodedMessage, _ context: RuleContext) -> [Signal] {
        guard case .fume(let f) = decoded.record else { return [] }
        guard let duration = state.update(f.monitor, holds: f.fan == .on && f.purifier == .off, at: f.ts,
                                                 minS: thresholds.minDurationS, idleS: context.idleS)
        else { return [] }
        return [monitorSignal(name, decoded, f, context) { restaurant in
            "\(restaurant) fan on with the purifier off for \(number(duration / 60)) min"
        }]
    }
}
