public enum Severity: String, Sendable, Codable, Comparable {
    case minor, major, critical

    private var rank: Int { self == .minor ? 0 : self == .major ? 1 : 2 }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// One piece of evidence: a message that supports a signal.
public struct EvidenceRef: Sendable, Equatable {
    /// What the message was (`truck_telemetry`, `camera_event`, ...).
    public var kind: String
    public var source: String
    public var ts: Instant
    /// SHA-256 of the original message bytes.
    public var sha256: String
    public var inboxId: Int64
    public var clipURL: String?
    /// Where in the clip the event is, for video evidence.
    public var frameOffsetS: Double?

    public init(kind: String, source: String, ts: Instant, sha256: String, inboxId: Int64,
                clipURL: String? = nil, frameOffsetS: Double? = nil) {
        self.kind = kind
        self.source = source
        self.ts = ts
        self.sha256 = sha256
        self.inboxId = inboxId
        self.clipURL = clipURL
        self.frameOffsetS = frameOffsetS
    }
}

/// A rule's finding: something about a subject at a time, with its evidence.
/// Signals become incidents (alerts and draft cases) in `IncidentBook`.
public struct Signal: Sendable, Equatable {
    public var rule: String
    public var severity: Severity
    public var subject: Subject
    public var ts: Instant
    public var lat: Double?
    public var lon: Double?
    public var summary: String
    public var evidence: EvidenceRef
    /// Other trucks that could be the party, when attribution chose the subject.
    public var candidates: [CaseCandidate] = []
}

/// What a rule sees besides the message itself.
public struct RuleContext: Sendable {
    public var registry: Registry
    /// The pipeline's clock: the latest message time seen.
    public var now: Instant
    /// Seconds east of UTC of the centre's time zone (permitted hours are local).
    public var utcOffsetSeconds: Int
    /// For a tracker fix: where it puts the truck.
    public var truck: TruckView?
    /// `limits.device_idle_s`: a device silent this long starts afresh, so
    /// that its state may leave memory without changing any outcome.
    public var idleS: Double = Limits().deviceIdleS

    /// A current tracker fix (not a late or repeated one), if this is one.
    var currentFix: TruckView? { truck.flatMap { $0.isCurrent ? $0 : nil } }
}

/// A rule: a small state machine from decoded messages to signals. It reads
/// no clock but the messages' own times, so a replay gives the same signals.
public protocol Rule: Sendable {
    var name: String { get }
    mutating func evaluate(_ decoded: DecodedMessage, _ context: RuleContext) -> [Signal]
    /// Drops the state of every device last heard of before `horizon`
    /// (`limits.device_idle_s` ago): what the rule would not use anyway.
    mutating func forget(idleSince horizon: Instant)
    /// Devices the rule holds state for.
    var devicesHeld: Int { get }
}

func evidence(of decoded: DecodedMessage) -> EvidenceRef {
    let m = decoded.message
    switch decoded.record {
    case .truck(let t):
        return EvidenceRef(kind: "truck_telemetry", source: t.device, ts: t.ts, sha256: m.sha256, inboxId: m.id)
    case .fume(let f):
        return EvidenceRef(kind: "fume_reading", source: f.monitor, ts: f.ts, sha256: m.sha256, inboxId: m.id)
    case .event(let e):
        return EvidenceRef(kind: "\(e.sourceKind.rawValue)_event", source: e.source, ts: e.ts, sha256: m.sha256,
                           inboxId: m.id, clipURL: e.clipURL, frameOffsetS: e.clipOffsetS)
    case .drone(let d):
        return EvidenceRef(kind: "drone_telemetry", source: d.drone, ts: d.ts, sha256: m.sha256, inboxId: m.id)
    case .segment(let v):
        return EvidenceRef(kind: "video_segment", source: v.source, ts: v.start, sha256: m.sha256, inboxId: m.id, clipURL: v.url)
    }
}

/// Formats a measurement for a summary: `36`, `35.2`.
func number(_ v: Double, decimals: Int = 1) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (v * scale).rounded() / scale
    return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
}

/// A camera or drone detection of `type` at or above a confidence: shared by
/// every rule that takes an AI event as enough on its own.
func eventSignal(_ decoded: DecodedMessage, type: SiteEventType, minConfidence: Double,
                 rule: String, severity: Severity, registry: Registry,
                 describe: (SiteEvent, Subject) -> String) -> Signal? {
    guard case .event(let e) = decoded.record, e.type == type,
          let confidence = e.confidence, confidence >= minConfidence
    else { return nil }
    let subject = Subject.of(e, registry: registry)
    return Signal(rule: rule, severity: severity, subject: subject, ts: e.ts, lat: e.lat, lon: e.lon,
                  summary: describe(e, subject) + " (confidence \(number(confidence, decimals: 2)))",
                  evidence: evidence(of: decoded))
}

/// `uncovered_load` (§6): a loaded truck moving with its cover open outside
/// every site for a sustained time, or a camera/drone detection.
public struct UncoveredLoadRule: Rule {
    public let name = "uncovered_load"
    public var thresholds: RuleSettings.UncoveredLoad
    private var uncoveredStretches = Stretches()

    public init(thresholds: RuleSettings.UncoveredLoad = .init()) { self.thresholds = thresholds }

    public mutating func forget(idleSince horizon: Instant) { uncoveredStretches.forget(before: horizon) }
    public var devicesHeld: Int { uncoveredStretches.count }

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
        guard let duration = uncoveredStretches.update(t.device, holds: uncovered, at: t.ts, minS: thresholds.minDurationS,
                                                       idleS: idleS)
        else { return nil }
        let subject = Subject.truck(device: t.device, plate: t.plate, registry: registry)
        return Signal(
            rule: name, severity: .major, subject: subject, ts: t.ts, lat: t.lat, lon: t.lon,
            summary: "\(subject.displayName) moving uncovered at \(number(speed)) km/h for \(number(duration)) s",
            evidence: evidence(of: decoded))
    }
}

/// How long a condition has held, per device: for the rules that need it to
/// last. Once it has lasted, the next signal needs another full stretch, so a
/// long violation adds evidence every `minS` rather than every message.
/// A report more than `idleS` after the previous one starts a new stretch:
/// silence that long says nothing about whether the condition held.
struct Stretches {
    private var since: [String: (start: Instant, last: Instant)] = [:]

    var count: Int { since.count }

    /// The stretch's length if the condition has now held for `minS`, else nil.
    mutating func update(_ key: String, holds: Bool, at ts: Instant, minS: Double, idleS: Double) -> Double? {
        guard holds else {
            since[key] = nil
            return nil
        }
        var held = since[key]
        if let h = held, ts.seconds(since: h.last) > idleS { held = nil }
        let start = min(held?.start ?? ts, ts)
        let last = max(held?.last ?? ts, ts)
        let duration = ts.seconds(since: start)
        guard duration >= minS else {
            since[key] = (start, last)
            return nil
        }
        since[key] = (ts, last)
        return duration
    }

    mutating func forget(before horizon: Instant) { since.removeAll(shrinking: true) { $0.value.last < horizon } }
}

extension Dictionary {
    /// Removes the matching entries and, when most of the table is then
    /// empty, gives its memory back (a Swift dictionary never shrinks by itself).
    mutating func removeAll(shrinking: Bool, where shouldRemove: (Element) -> Bool) {
        guard contains(where: shouldRemove) else { return }
        let kept = filter { !shouldRemove($0) }
        self = kept.count * 4 < capacity ? Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) }) : kept
    }
}

/// Loaded by the tracker's load sensor, or by weight above the registered empty weight.
func isLoaded(_ t: TruckTelemetry, _ registry: Registry) -> Bool {
    if t.load == .partial || t.load == .full { return true }
    if let kg = t.loadKg, let empty = registry.truck(device: t.device)?.emptyKg { return kg > empty }
    return false
}

/// A truck's recent weights, for the rules that watch for load lost.
struct WeightHistory {
    var samples: [(ts: Instant, kg: Double)] = []

    mutating func add(_ ts: Instant, _ kg: Double, keepS: Double) {
        samples.append((ts, kg))
        let horizon = ts.adding(seconds: -keepS)
        if let first = samples.firstIndex(where: { $0.ts >= horizon }), first > 0 { samples.removeFirst(first) }
    }

    /// The heaviest weight in the window, at the last time it was reported
    /// (so "lost N kg in T s" counts from when the truck still had it).
    var heaviest: (ts: Instant, kg: Double)? { samples.reversed().max { $0.kg < $1.kg } }
}

/// `spill` (§6): a camera/drone spill detection, or a truck losing weight
/// fast while it drives outside the disposal sites.
public struct SpillRule: Rule {
    public let name = "spill"
    public var thresholds: RuleSettings.Spill
    private var weights: [String: WeightHistory] = [:]

    public init(thresholds: RuleSettings.Spill = .init()) { self.thresholds = thresholds }

    /// Weights older than the drop window (shorter than the idle time) are never used.
    public mutating func forget(idleSince horizon: Instant) {
        weights.removeAll(shrinking: true) { ($0.value.samples.last?.ts ?? horizon) < horizon }
    }
    public var devicesHeld: Int { weights.count }

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
            weights[t.device] = nil
            return nil
        }
        weights[t.device, default: WeightHistory()].add(t.ts, kg, keepS: thresholds.dropWindowS)
        guard let peak = weights[t.device]?.heaviest, peak.kg - kg >= thresholds.minDropKg else { return nil }
        weights[t.device] = nil  // the next signal needs a new drop
        let subject = Subject.truck(device: t.device, plate: t.plate, registry: registry)
        return Signal(
            rule: name, severity: .critical, subject: subject, ts: t.ts, lat: t.lat, lon: t.lon,
            summary: "\(subject.displayName) lost \(number(peak.kg - kg, decimals: 0)) kg in \(number(t.ts.seconds(since: peak.ts))) s at \(number(speed)) km/h outside any disposal site",
            evidence: evidence(of: decoded))
    }
}

/// `illegal_dumping` (§6): the tipper raised, or a large part of the load
/// gone while stopped, outside every disposal site.
public struct IllegalDumpingRule: Rule {
    public let name = "illegal_dumping"
    public var thresholds: RuleSettings.IllegalDumping
    /// Per device: fired for the current raise already, as of the last fix with it raised.
    private var raised: [String: Instant] = [:]
    /// Per device: the heaviest weight since the truck stopped, whether this
    /// stop fired, and the last fix of the stop. A fix more than
    /// `limits.device_idle_s` after the last one starts a new raise or stop.
    private var stops: [String: (kg: Double, fired: Bool, last: Instant)] = [:]

    public init(thresholds: RuleSettings.IllegalDumping = .init()) { self.thresholds = thresholds }

    public mutating func forget(idleSince horizon: Instant) {
        raised.removeAll(shrinking: true) { $0.value < horizon }
        stops.removeAll(shrinking: true) { $0.value.last < horizon }
    }
    public var devicesHeld: Int { Set(raised.keys).union(stops.keys).count }

    public mutating func evaluate(_ decoded: DecodedMessage, _ context: RuleContext) -> [Signal] {
        guard case .truck(let t) = decoded.record, let view = context.currentFix else { return [] }
        var out: [Signal] = []
        let subject = { Subject.truck(device: t.device, plate: t.plate, registry: context.registry) }
        if t.body == .raised && !view.insideDisposal {
            let previous = raised[t.device]
            raised[t.device] = max(previous ?? t.ts, t.ts)
            if previous.map({ t.ts.seconds(since: $0) > context.idleS }) ?? true {
                let s = subject()
                out.append(Signal(rule: name, severity: .critical, subject: s, ts: t.ts, lat: t.lat, lon: t.lon,
                                  summary: "\(s.displayName) raised its tipper body outside any disposal site",
                                  evidence: evidence(of: decoded)))
            }
        } else if t.body != .raised {
            raised[t.device] = nil
        }

        let stopped = (t.speedKmh ?? 0) < thresholds.maxSpeedKmh
        guard stopped, let kg = t.loadKg else {
            stops[t.device] = nil
            return out
        }
        var stop = stops[t.device].flatMap { t.ts.seconds(since: $0.last) > context.idleS ? nil : $0 } ?? (kg: kg, fired: false, last: t.ts)
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
        stops[t.device] = stop
        return out
    }
}

/// `unwashed_exit` (§6): a truck leaving a construction site without its
/// time in the site's wash zone, or a camera's detection.
public struct UnwashedExitRule: Rule {
    public let name = "unwashed_exit"
    public var thresholds: RuleSettings.UnwashedExit

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

/// `off_hours` (§6): a truck moving outside its permitted hours or permit.
public struct OffHoursRule: Rule {
    public let name = "off_hours"
    public var thresholds: RuleSettings.OffHours
    /// A continuing violation adds evidence this often, not every fix.
    let evidenceEveryS = 300.0
    private var lastSignal: [String: Instant] = [:]

    public init(thresholds: RuleSettings.OffHours = .init()) { self.thresholds = thresholds }

    /// A signal longer ago than `evidenceEveryS` holds nothing back.
    public mutating func forget(idleSince horizon: Instant) { lastSignal.removeAll(shrinking: true) { $0.value < horizon } }
    public var devicesHeld: Int { lastSignal.count }

    public mutating func evaluate(_ decoded: DecodedMessage, _ context: RuleContext) -> [Signal] {
        guard case .truck(let t) = decoded.record, context.currentFix != nil,
              let truck = context.registry.truck(device: t.device),
              let speed = t.speedKmh, speed >= thresholds.minSpeedKmh,
              let why = Self.violation(truck, at: t.ts, utcOffsetSeconds: context.utcOffsetSeconds)
        else { return [] }
        if let last = lastSignal[t.device], t.ts.seconds(since: last) < evidenceEveryS, t.ts >= last { return [] }
        lastSignal[t.device] = t.ts
        let s = Subject.truck(device: t.device, plate: t.plate, registry: context.registry)
        return [Signal(rule: name, severity: .minor, subject: s, ts: t.ts, lat: t.lat, lon: t.lon,
                       summary: "\(s.displayName) moving at \(number(speed)) km/h \(why)", evidence: evidence(of: decoded))]
    }

    /// Why a truck may not drive at `ts`, or nil if it may.
    static func violation(_ truck: RegisteredTruck, at ts: Instant, utcOffsetSeconds: Int) -> String? {
        if let from = truck.permitFrom, ts < from { return "before its transport permit is valid" }
        if let until = truck.permitUntil, ts >= until { return "with its transport permit expired" }
        guard !truck.permittedHours.isEmpty else { return nil }
        let minute = localMinuteOfDay(ts, utcOffsetSeconds: utcOffsetSeconds)
        if truck.permittedHours.contains(where: { $0.contains(minuteOfDay: minute) }) { return nil }
        let hours = truck.permittedHours.map { "\(hhmm($0.startMinute))–\(hhmm($0.endMinute))" }.joined(separator: ", ")
        return "at \(hhmm(minute)), outside its permitted hours \(hours)"
    }
}

func localMinuteOfDay(_ ts: Instant, utcOffsetSeconds: Int) -> Int {
    let local = ts.millis / 1000 + Int64(utcOffsetSeconds)
    let day = ((local % 86_400) + 86_400) % 86_400
    return Int(day / 60)
}

func hhmm(_ minute: Int) -> String {
    let h = minute / 60, m = minute % 60
    return (h < 10 ? "0" : "") + String(h) + ":" + (m < 10 ? "0" : "") + String(m)
}

/// `fume_exceedance` (§6): a monitor's mean concentration over the trailing
/// window above the limit (GB 18483-2001: 2.0 mg/m³).
public struct FumeExceedanceRule: Rule {
    public let name = "fume_exceedance"
    public var thresholds: RuleSettings.FumeExceedance
    let evidenceEveryS = 300.0
    private struct Monitor {
        var firstTs: Instant
        var readings: [(ts: Instant, conc: Double)] = []
        var lastSignal: Instant?
    }
    private var monitors: [String: Monitor] = [:]

    public init(thresholds: RuleSettings.FumeExceedance = .init()) { self.thresholds = thresholds }

    public mutating func forget(idleSince horizon: Instant) {
        monitors.removeAll(shrinking: true) { ($0.value.readings.last?.ts ?? $0.value.firstTs) < horizon }
    }
    public var devicesHeld: Int { monitors.count }

    public mutating func evaluate(_ decoded: DecodedMessage, _ context: RuleContext) -> [Signal] {
        guard case .fume(let f) = decoded.record, f.isMeasurement else { return [] }
        // After `limits.device_idle_s` of silence the monitor starts afresh:
        // its mean needs a full window of readings again.
        var m = monitors[f.monitor].flatMap { m in
            f.ts.seconds(since: m.readings.last?.ts ?? m.firstTs) > context.idleS ? nil : m
        } ?? Monitor(firstTs: f.ts)
        defer { monitors[f.monitor] = m }
        // A late reading joins the window only if it falls in it.
        guard f.ts >= (m.readings.last?.ts ?? f.ts) else { return [] }
        m.readings.append((f.ts, f.concMgM3))
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

/// A fume monitor's signal (both fume rules are major), about its restaurant.
func monitorSignal(_ rule: String, _ decoded: DecodedMessage, _ f: FumeReading, _ context: RuleContext,
                   summary: (String) -> String) -> Signal {
    let s = Subject.monitor(f.monitor, registry: context.registry)
    return Signal(rule: rule, severity: .major, subject: s, ts: f.ts, lat: nil, lon: nil,
                  summary: summary(s.company ?? f.monitor), evidence: evidence(of: decoded))
}

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
