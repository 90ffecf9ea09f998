/// `purifier_off` (§6): the fan running with the purifier off for a sustained time.
public struct PurifierOffRule: Rule {
    public let name = "purifier_off"
    public var thresholds: RuleSettings.PurifierOff
    private var offStretches = Stretches()

    public init(thresholds: RuleSettings.PurifierOff = .init()) { self.thresholds = thresholds }

    public mutating func forget(idleSince horizon: Instant) { offStretches.forget(before: horizon) }
    public var devicesHeld: Int { offStretches.count }

    public mutating func evaluate(_ decoded: DecodedMessage, _ context: RuleContext) -> [Signal] {
        guard case .fume(let f) = decoded.record else { return [] }
        guard let duration = offStretches.update(f.monitor, holds: f.fan == .on && f.purifier == .off, at: f.ts,
                                                 minS: thresholds.minDurationS, idleS: context.idleS)
        else { return [] }
        return [monitorSignal(name, decoded, f, context) { restaurant in
            "\(restaurant) fan on with the purifier off for \(number(duration / 60)) min"
        }]
    }
}
