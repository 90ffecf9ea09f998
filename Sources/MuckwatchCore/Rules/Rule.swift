public enum Severity: String, Sendable, Codable, Comparable {
    case minor, major, critical

    private var rank: Int { self == .minor ? 0 : self == .major ? 1 : 2 }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// One piece of evidence: a message that supports a signal.
public struct EvidenceRef: Sendable, Equatable, Codable {
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
    /// What the rule carries from one message to the next (per device): the
    /// pipeline's state snapshot writes it and a restart reads it back.
    associatedtype State: Codable, Sendable
    var name: String { get }
    var state: State { get set }
    mutating func evaluate(_ decoded: DecodedMessage, _ context: RuleContext) -> [Signal]
    /// Drops the state of every device last heard of before `horizon`
    /// (`limits.device_idle_s` ago): what the rule would not use anyway.
    mutating func forget(idleSince horizon: Instant)
    /// Devices the rule holds state for.
    var devicesHeld: Int { get }
}
