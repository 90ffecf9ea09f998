/// `illegal_dumping` (§6): the tipper raised, or a large part of the load
/// gone while stopped, outside every disposal site.
public struct IllegalDumpingRule: Rule {
    public let name = "illegal_dumping"
    public var thresholds: RuleSettings.IllegalDumping
    public struct State: Codable, Sendable {
        /// Per device: fired for the current raise already, as of the last fix with it raised.
        var raised: [String: Instant] = [:]
        /// Per device: the heaviest weight since the truck stopped, whether this
        /// stop fired, and the last fix of the stop. A fix more than
        /// `limits.device_idle_s` after the last one starts a new raise or stop.
        var stops: [String: Stop] = [:]
    }

    struct Stop: Codable {
        var kg: Double
        var fired: Bool
        var last: Instant
    }

    public var state = State()

    public init(thresholds: RuleSettings.IllegalDumping = .init()) { self.thresholds = thresholds }

    public mutating func forget(idleSince horizon: Instant) {
        state.raised.removeAll(shrinking: true) { $0.value < horizon }
        state.stops.removeAll(shrinking: true) { $0.value.last < horizon }
    }
    public var devicesHeld: Int { Set(state.raised.keys).union(state.stops.keys).count }

    public mutating func evaluate(_ decoded: DecodedMessage, _ context: RuleContext) -> [Signal] {
        guard case .truck(let t) = decoded.record, let view = context.currentFix else { return [] }
        var out: [Signal] = []
        let subject = { Subject.truck(device: t.device, plate: t.plate, registry: context.registry) }
        if t.body == .raised && !view.insideDisposal {
            let previous = state.raised[t.device]
            state.raised[t.device] = max(previous ?? t.ts, t.ts)
            if previous.map({ t.ts.seconds(since: $0) > context.idleS }) ?? true {
                let s = subject()
                out.append(Signal(rule: name, severity: .critical, subject: s, ts: t.ts, lat: t.lat, lon: t.lon,
                                  summary: "\(s.displayName) raised its tipper body outside any disposal site",
                                  evidence: evidence(of: decoded)))
            }
        } else if t.body != .raised {
            state.raised[t.device] = nil
        }

        let stopped = (t.speedKmh ?? 0) < thresholds.maxSpeedKmh
        guard stopped, let kg = t.loadKg else {
            state.stops[t.device] = nil
            return out
        }
        var stop = state.stops[t.device].flatMap { t.ts.seconds(since: $0.last) > context.idleS ? nil : $0 } ?? Stop(kg: kg, fired: false, last: t.ts)
        stop.kg = max(stop.kg, kg)
        stop.last = max(stop.last, t.ts)
        let empty = context.registry.truck(device: t.device)?.emptyKg ?? 0
        let load = stop.kg - empty
        if !stop.fired, !view.insideDisposal, load > 0, stop.kg - kg >= thresholds.minLossFraction * load {
            stop.fired = true
            let s = subject()
            let share = Int(((stop.kg - kg) / load * 100).rounded())
            out.append(Signal(rule: name, severity: .critical, subject: s, ts: t.ts, lat: t.lat, lon: t.lon,
                              summary: "\(s.displayName) lost \(number(stop.kg - kg, decimals: 0)) kg (\(share) % of its load) while stopped outside any disposal site",
                              evidence: evidence(of: decoded)))
        }
        state.stops[t.device] = stop
        return out
    }
}
