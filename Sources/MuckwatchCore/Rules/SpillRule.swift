/// `spill` (§6): a camera/drone spill detection, or a truck losing weight
/// fast while it drives outside the disposal sites.
public struct SpillRule: Rule {
    public let name = "spill"
    public var thresholds: RuleSettings.Spill
    /// Per device: its recent weights while moving.
    public var state: [String: WeightHistory] = [:]

    public init(thresholds: RuleSettings.Spill = .init()) { self.thresholds = thresholds }

    /// Weights older than the drop window (shorter than the idle time) are never used.
    public mutating func forget(idleSince horizon: Instant) {
        state.removeAll(shrinking: true) { ($0.value.samples.last?.ts ?? horizon) < horizon }
    }
    public var devicesHeld: Int { state.count }

    public mutating func evaluate(_ decoded: DecodedMessage, _ context: RuleContext) -> [Signal] {
        if case .truck(let t) = decoded.record {
            guard let view = context.currentFix else { return [] }
            return tracker(t, view, decoded, context.registry).map { [$0] } ?? []
        }
        let signal = eventSignal(decoded, type: .spill, minConfidence: thresholds.minConfidence,
                                 rule: name, severity: .critical, registry: context.registry) { e, subject in
            subject.kind == "truck"
                ? "\(e.source) saw a spill from \(subject.displayName)"
                : "\(e.source) saw a spill"
        }
        return signal.map { [$0] } ?? []
    }

    private mutating func tracker(_ t: TruckTelemetry, _ view: TruckView, _ decoded: DecodedMessage,
                                  _ registry: Registry) -> Signal? {
        guard let kg = t.loadKg, let speed = t.speedKmh, speed >= thresholds.minSpeedKmh, !view.insideDisposal else {
            state[t.device] = nil
            return nil
        }
        state[t.device, default: WeightHistory()].add(t.ts, kg, keepS: thresholds.dropWindowS)
        guard let peak = state[t.device]?.heaviest, peak.kg - kg >= thresholds.minDropKg else { return nil }
        state[t.device] = nil  // the next signal needs a new drop
        let subject = Subject.truck(device: t.device, plate: t.plate, registry: registry)
        return Signal(
            rule: name, severity: .critical, subject: subject, ts: t.ts, lat: t.lat, lon: t.lon,
            summary: "\(subject.displayName) lost \(number(peak.kg - kg, decimals: 0)) kg in \(number(t.ts.seconds(since: peak.ts))) s at \(number(speed)) km/h outside any disposal site",
            evidence: evidence(of: decoded))
    }
}

/// A truck's recent weights, for the rules that watch for load lost.
public struct WeightHistory: Codable, Sendable {
    struct Sample: Codable {
        var ts: Instant
        var kg: Double
    }

    var samples: [Sample] = []

    mutating func add(_ ts: Instant, _ kg: Double, keepS: Double) {
        samples.append(Sample(ts: ts, kg: kg))
        let horizon = ts.adding(seconds: -keepS)
        if let first = samples.firstIndex(where: { $0.ts >= horizon }), first > 0 { samples.removeFirst(first) }
    }

    /// The heaviest weight in the window, at the last time it was reported
    /// (so "lost N kg in T s" counts from when the truck still had it).
    var heaviest: Sample? { samples.reversed().max { $0.kg < $1.kg } }
}
