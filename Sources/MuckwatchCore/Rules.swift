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

/// A rule: a small state machine from decoded messages to signals. It reads
/// no clock but the messages' own times, so a replay gives the same signals.
public protocol Rule: Sendable {
    var name: String { get }
    mutating func evaluate(_ decoded: DecodedMessage, registry: Registry) -> [Signal]
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

/// `uncovered_load` (§6): a loaded truck moving with its cover open for a
/// sustained time, or a camera/drone detection.
public struct UncoveredLoadRule: Rule {
    public struct Thresholds: Sendable, Equatable {
        public var minSpeedKmh: Double = 5
        public var minDurationS: Double = 30
        public var minConfidence: Double = 0.6
        public init() {}
    }

    public let name = "uncovered_load"
    public var thresholds: Thresholds
    /// Per device: when the current uncovered stretch started (or last fired).
    private var uncoveredSince: [String: Instant] = [:]

    public init(thresholds: Thresholds = Thresholds()) { self.thresholds = thresholds }

    public mutating func evaluate(_ decoded: DecodedMessage, registry: Registry) -> [Signal] {
        switch decoded.record {
        case .truck(let t):
            return tracker(t, decoded, registry).map { [$0] } ?? []
        case .event:
            let signal = eventSignal(decoded, type: .uncoveredLoad, minConfidence: thresholds.minConfidence,
                                     rule: name, severity: .major, registry: registry) { e, subject in
                subject.kind == "truck"
                    ? "\(e.source) saw \(subject.displayName) carrying an uncovered load"
                    : "\(e.source) saw a truck carrying an uncovered load"
            }
            return signal.map { [$0] } ?? []
        default:
            return []
        }
    }

    private mutating func tracker(_ t: TruckTelemetry, _ decoded: DecodedMessage, _ registry: Registry) -> Signal? {
        let loaded: Bool = {
            if t.load == .partial || t.load == .full { return true }
            if let kg = t.loadKg, let empty = registry.truck(device: t.device)?.emptyKg { return kg > empty }
            return false
        }()
        guard loaded, t.cover == .open, let speed = t.speedKmh, speed >= thresholds.minSpeedKmh else {
            uncoveredSince[t.device] = nil
            return nil
        }
        let since = uncoveredSince[t.device] ?? t.ts
        let duration = t.ts.seconds(since: since)
        guard duration >= thresholds.minDurationS else {
            uncoveredSince[t.device] = since
            return nil
        }
        // Fired: the next signal needs another full stretch, so a long uncovered
        // drive adds evidence every `minDurationS` rather than every message.
        uncoveredSince[t.device] = t.ts
        let subject = Subject.truck(device: t.device, plate: t.plate, registry: registry)
        return Signal(
            rule: name, severity: .major, subject: subject, ts: t.ts, lat: t.lat, lon: t.lon,
            summary: "\(subject.displayName) moving uncovered at \(number(speed)) km/h for \(number(duration)) s",
            evidence: evidence(of: decoded))
    }
}

/// `spill` (§6): a camera/drone spill detection.
public struct SpillRule: Rule {
    public let name = "spill"
    public var minConfidence: Double

    public init(minConfidence: Double = 0.6) { self.minConfidence = minConfidence }

    public mutating func evaluate(_ decoded: DecodedMessage, registry: Registry) -> [Signal] {
        let signal = eventSignal(decoded, type: .spill, minConfidence: minConfidence,
                                 rule: name, severity: .critical, registry: registry) { e, subject in
            subject.kind == "truck"
                ? "\(e.source) saw a spill from \(subject.displayName)"
                : "\(e.source) saw a spill"
        }
        return signal.map { [$0] } ?? []
    }
}
