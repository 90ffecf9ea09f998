/// Answers whether a camera/drone event id was already processed (the store
/// knows; tests may use a set).
public protocol EventLedger {
    func contains(sourceKind: String, source: String, eventId: String) -> Bool
}

/// A truck's earlier fixes (the store answers from `truck_telemetry`): what
/// the geofence state of a truck not in memory is rebuilt from.
public protocol FixHistory {
    /// The truck's fixes from `spanS` before its latest one on, in the order
    /// they were processed; at most the last `limit`.
    func recentFixes(device: String, spanS: Double, limit: Int) -> [TruckTelemetry]
}

/// No history: a truck not in memory starts afresh.
public struct NoFixHistory: FixHistory {
    public init() {}
    public func recentFixes(device: String, spanS: Double, limit: Int) -> [TruckTelemetry] { [] }
}

public struct PipelineSettings: Sendable {
    public var routes: TopicRoutes = .defaults
    public var registry: Registry = Registry()
    public var rules = RuleSettings()
    public var incidents = IncidentSettings()
    public var protocols = ProtocolSettings()
    public var limits = Limits()

    public init() {}

    /// The decoder the pipeline uses; anything that decodes ahead of it
    /// (see `InboxMessage.decoded`) must use this one.
    public func payloadDecoder() -> PayloadDecoder { PayloadDecoder(routes: routes, registry: registry, protocols: protocols, limits: limits) }
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
    /// How many devices' state this batch dropped from memory (idle longer
    /// than `limits.device_idle_s`), for the caller to give the memory back.
    public var forgottenDevices = 0
    public var lastInboxId: Int64?
    /// For a batch of segment telemetry: the last of `segment_positions` it processed.
    public var segmentPositionsThrough: Int64?

    public init() {}
}

/// Where the pipeline stood at the last commit, as the store read it back:
/// open incidents, case numbering and each party's recent history, the
/// clock, and the fixes that rebuild open track chunks (see `Pipeline.resume`).
public struct PipelineRestorePoint: Sendable {
    public var clock: Instant?
    public var openIncidents: [String: OpenIncident] = [:]
    public var caseNumbers: [String: Int] = [:]
    public var partyHistory: [String: [Instant]] = [:]
    public var resumeFixes: [(inboxId: Int64, telemetry: TruckTelemetry)] = []

    public init(clock: Instant? = nil) {
        self.clock = clock
    }
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
    private var lastForgetting: Instant?
    /// How often (pipeline time) idle devices' state is looked for.
    let forgetEveryS = 60.0
    /// How far back before a returning truck's last fix its fixes are
    /// replayed to rebuild its geofence state: a visit to a site that began
    /// earlier is restored as "inside, entry time unknown", as after a
    /// restart mid-visit.
    public static let restoreSpanS = 24 * 3600.0
    /// Most fixes replayed for one truck (a day at one fix every 2 s).
    public static let restoreLimit = 43_200

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

    /// A pipeline that continues from `point`.
    public convenience init(settings: PipelineSettings, restoring point: PipelineRestorePoint) {
        let book = IncidentBook(settings: settings.incidents, open: point.openIncidents, caseNumbers: point.caseNumbers,
                                partyHistory: point.partyHistory)
        self.init(settings: settings, incidents: book, now: point.clock)
        if !point.resumeFixes.isEmpty { resume(fixes: point.resumeFixes) }
    }

    public func process(_ messages: [InboxMessage], ledger: EventLedger,
                        history: TrackHistory = [TrackChunk](), fixes: FixHistory = NoFixHistory()) -> BatchOutcome {
        var out = BatchOutcome()
        var eventsInBatch = Set<String>()
        for message in messages {
            out.lastInboxId = message.id
            let decoded = message.decoded ?? decoder.decode(message)
            if let failure = decoded.failure { out.deadLetters.append((message, failure)) }
            for what in decoded.ignored { out.ignored.append((message, what)) }
            for (part, record) in decoded.records.enumerated() {
                process(DecodedMessage(message: message, record: record, part: part), eventsInBatch: &eventsInBatch,
                        history: history, fixes: fixes, ledger: ledger, into: &out)
            }
        }
        if let now, now.seconds(since: lastForgetting ?? now.adding(seconds: -forgetEveryS)) >= forgetEveryS {
            lastForgetting = now
            out.forgottenDevices = forget(idleSince: now.adding(seconds: -settings.limits.deviceIdleS))
        }
        out.trackChunks = trackBuilder.takeCompleted()
        out.trackResumeInboxId = trackBuilder.resumeInboxId
        return out
    }

    /// Drops the state of every device last heard of before `horizon`;
    /// returns how many devices' state went. What each rule keeps, and what
    /// comes back when the device reports again:
    /// - the geofence (inside which sites, since when, time in wash zones)
    ///   and the truck's last fix: replayed from the store's fixes of the
    ///   day before its last one (`FixHistory`), so a truck parked in a site
    ///   overnight still leaves it as a visit;
    /// - open track chunks: closed and indexed, as a fix after the gap would;
    /// - uncovered_load, purifier_off stretches, illegal_dumping raises and
    ///   stops, fume windows: start afresh after `limits.device_idle_s` of
    ///   silence whether in memory or not (silence says nothing about
    ///   whether a condition held), so nothing is restored;
    /// - spill weights, off_hours' evidence spacing and device_silent's last
    ///   fix: shorter-lived than the idle time (`limits` is checked against
    ///   the rules' windows), so nothing is needed;
    /// - open incidents: a signal joins one only within the incident window.
    @discardableResult
    public func forget(idleSince horizon: Instant) -> Int {
        let before = stateCounts.values.reduce(0, +)
        for i in rules.indices { rules[i].forget(idleSince: horizon) }
        trucks.forget(idleSince: horizon)
        trackBuilder.forget(idleSince: horizon)
        incidents.forget(idleSince: horizon, now: now ?? horizon)
        return before - stateCounts.values.reduce(0, +)
    }

    /// Devices (or incidents) each part of the pipeline holds state for.
    public var stateCounts: [String: Int] {
        var counts = ["geofence": trucks.count, "track_chunks": trackBuilder.devicesHeld,
                      "open_incidents": incidents.open.count, "parties": incidents.partyHistory.count]
        for r in rules { counts[r.name] = r.devicesHeld }
        return counts
    }

    private func process(_ decoded: DecodedMessage, eventsInBatch: inout Set<String>, history: TrackHistory,
                         fixes: FixHistory, ledger: EventLedger, into out: inout BatchOutcome) {
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
            if !trucks.knows(t.device) {
                // New, idle for long, or not seen since a restart: its fixes
                // so far rebuild where it is (see `forget`).
                for fix in fixes.recentFixes(device: t.device, spanS: Self.restoreSpanS, limit: Self.restoreLimit) {
                    _ = trucks.observe(fix)
                }
            }
            view = trucks.observe(t)
            trackBuilder.add(t, current: view!.isCurrent, inboxId: message.id)
        }
        let context = RuleContext(registry: settings.registry, now: now!,
                                  utcOffsetSeconds: settings.incidents.utcOffsetSeconds, truck: view,
                                  idleS: settings.limits.deviceIdleS)
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
