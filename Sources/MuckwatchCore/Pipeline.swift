/// Answers whether a camera/drone event id was already processed (the store
/// knows; tests may use a set).
public protocol EventLedger {
    func contains(sourceKind: String, source: String, eventId: String) -> Bool
}

public struct PipelineSettings: Sendable {
    public var routes: TopicRoutes = .defaults
    public var registry: Registry = Registry()
    public var rules = RuleSettings()
    public var incidents = IncidentSettings()
    public var protocols = ProtocolSettings()

    public init() {}

    /// The decoder the pipeline uses; anything that decodes ahead of it
    /// (see `InboxMessage.decoded`) must use this one.
    public func payloadDecoder() -> PayloadDecoder { PayloadDecoder(routes: routes, registry: registry, protocols: protocols) }
}

/// What one batch of messages produced, for the store to commit at once.
public struct BatchOutcome: Sendable {
    public var decoded: [DecodedMessage] = []
    public var deadLetters: [(message: InboxMessage, failure: DecodeFailure)] = []
    /// Messages (or parts) recognised and deliberately not made records, and what they were.
    public var ignored: [(message: InboxMessage, what: String)] = []
    /// Messages whose event id was seen before: kept, not processed again.
    public var duplicateEvents: [InboxMessage] = []
    public var openedCases: [DraftCase] = []
    public var evidence: [CaseEvidence] = []
    public var alerts: [Alert] = []
    /// Track chunks completed in this batch, for the track index.
    public var trackChunks: [TrackChunk] = []
    /// The oldest message whose fix is still in an open chunk (see `Pipeline.resume`).
    public var trackResumeInboxId: Int64?
    public var lastInboxId: Int64?

    public init() {}
}

/// Messages in, outcomes out: decoding, rules, incident merging. Driven only by
/// the messages' own times (the pipeline's clock is the latest time seen), so
/// the daemon and a replay of the same feed produce the same outcome.
public final class Pipeline {
    public let settings: PipelineSettings
    public private(set) var rules: [any Rule]
    public private(set) var incidents: IncidentBook
    private let decoder: PayloadDecoder
    private var trucks: TruckTracker
    private var trackBuilder = TrackBuilder()
    /// The pipeline's clock: the latest message time seen.
    public private(set) var now: Instant?

    public init(settings: PipelineSettings, incidents: IncidentBook? = nil, now: Instant? = nil) {
        self.settings = settings
        self.decoder = settings.payloadDecoder()
        let r = settings.rules
        let all: [any Rule] = [
            UncoveredLoadRule(thresholds: r.uncoveredLoad),
            SpillRule(thresholds: r.spill),
            IllegalDumpingRule(thresholds: r.illegalDumping),
            UnwashedExitRule(thresholds: r.unwashedExit),
            OffHoursRule(thresholds: r.offHours),
            FumeExceedanceRule(thresholds: r.fumeExceedance),
            PurifierOffRule(thresholds: r.purifierOff),
            DeviceSilentRule(thresholds: r.deviceSilent),
        ]
        self.rules = all.filter { r.enabled.contains($0.name) }
        self.trucks = TruckTracker(registry: settings.registry, dwellS: r.geofence.dwellS)
        self.incidents = incidents ?? IncidentBook(settings: settings.incidents)
        self.now = now
    }

    public func process(_ messages: [InboxMessage], ledger: EventLedger,
                        history: TrackHistory = [TrackChunk]()) -> BatchOutcome {
        var out = BatchOutcome()
        var eventsInBatch = Set<String>()
        for message in messages {
            out.lastInboxId = message.id
            let decoded = message.decoded ?? decoder.decode(message)
            if let failure = decoded.failure { out.deadLetters.append((message, failure)) }
            for what in decoded.ignored { out.ignored.append((message, what)) }
            for (part, record) in decoded.records.enumerated() {
                process(DecodedMessage(message: message, record: record, part: part), eventsInBatch: &eventsInBatch,
                        history: history, ledger: ledger, into: &out)
            }
        }
        out.trackChunks = trackBuilder.takeCompleted()
        out.trackResumeInboxId = trackBuilder.resumeInboxId
        return out
    }

    private func process(_ decoded: DecodedMessage, eventsInBatch: inout Set<String>, history: TrackHistory,
                         ledger: EventLedger, into out: inout BatchOutcome) {
        let message = decoded.message
        let record = decoded.record
        if case .event(let e) = record, let eventId = e.eventId {
            let key = "\(e.sourceKind.rawValue)|\(e.source)|\(eventId)"
            if eventsInBatch.contains(key)
                || ledger.contains(sourceKind: e.sourceKind.rawValue, source: e.source, eventId: eventId) {
                out.duplicateEvents.append(message)
                return
            }
            eventsInBatch.insert(key)
        }
        out.decoded.append(decoded)
        now = max(now ?? record.ts, record.ts)
        var view: TruckView?
        if case .truck(let t) = record {
            view = trucks.observe(t)
            trackBuilder.add(t, current: view!.isCurrent, inboxId: message.id)
        }
        let context = RuleContext(registry: settings.registry, now: now!,
                                  utcOffsetSeconds: settings.incidents.utcOffsetSeconds, truck: view)
        for i in rules.indices {
            for var signal in rules[i].evaluate(decoded, context) {
                if case .event(let e) = record {
                    Attribution.attribute(&signal, event: e, settings: settings.rules.attribution,
                                          registry: settings.registry, committed: history, builder: trackBuilder,
                                          offsetSeconds: settings.incidents.utcOffsetSeconds)
                }
                switch incidents.apply(signal, now: now!) {
                case .opened(let draft, let alert, let evidence):
                    out.openedCases.append(draft)
                    out.alerts.append(alert)
                    out.evidence.append(evidence)
                case .appended(let evidence):
                    out.evidence.append(evidence)
                }
            }
        }
    }

    /// After a restart: replays the fixes from `BatchOutcome.trackResumeInboxId`
    /// on (already processed before the stop) into the trucks' positions and
    /// open track chunks, raising nothing. Chunks they complete were indexed
    /// before the stop, so they are dropped.
    public func resume(fixes: [(inboxId: Int64, telemetry: TruckTelemetry)]) {
        for (id, t) in fixes {
            let view = trucks.observe(t)
            trackBuilder.add(t, current: view.isCurrent, inboxId: id)
        }
        _ = trackBuilder.takeCompleted()
    }
}
