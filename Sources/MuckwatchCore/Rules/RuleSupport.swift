// What several rules share: the evidence a message gives, how a summary
// writes a number, the signal for an AI detection or a fume monitor, and
// how long a condition has held.

/// The evidence a decoded message gives for a signal about it.
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

/// A fume monitor's signal (both fume rules are major), about its restaurant.
func monitorSignal(_ rule: String, _ decoded: DecodedMessage, _ f: FumeReading, _ context: RuleContext,
                   summary: (String) -> String) -> Signal {
    let s = Subject.monitor(f.monitor, registry: context.registry)
    return Signal(rule: rule, severity: .major, subject: s, ts: f.ts, lat: nil, lon: nil,
                  summary: summary(s.company ?? f.monitor), evidence: evidence(of: decoded))
}

/// How long a condition has held, per device: for the rules that need it to
/// last. Once it has lasted, the next signal needs another full stretch, so a
/// long violation adds evidence every `minS` rather than every message.
/// A report more than `idleS` after the previous one starts a new stretch:
/// silence that long says nothing about whether the condition held.
public struct Stretches: Codable, Sendable {
    struct Span: Codable {
        var start: Instant
        var last: Instant
    }

    private var since: [String: Span] = [:]

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
            since[key] = Span(start: start, last: last)
            return nil
        }
        since[key] = Span(start: ts, last: last)
        return duration
    }

    mutating func forget(before horizon: Instant) { since.removeAll(shrinking: true) { $0.value.last < horizon } }
}
