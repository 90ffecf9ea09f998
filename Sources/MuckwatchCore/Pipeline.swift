import Foundation

/// Answers whether a camera/drone event id was already processed (the store
/// knows; tests may use a set).
public protocol EventLedger {
    /// Whether a message processed before had this event; with `before`, only
    /// messages with a lower inbox id count (a restart catching up answers as
    /// the first run was answered).
    func contains(sourceKind: String, source: String, eventId: String, before: Int64?) -> Bool
}

/// A truck's earlier fixes (the store answers from `truck_telemetry`): what
/// the geofence state of a truck not in memory is rebuilt from.
public protocol FixHistory {
    /// The truck's fixes from `spanS` before its latest one on, in the order
    /// they were processed; at most the last `limit`; with `before`, only
    /// those of messages with a lower inbox id.
    func recentFixes(device: String, spanS: Double, limit: Int, before: Int64?) -> [TruckTelemetry]
}

/// No history: a truck not in memory starts afresh.
public struct NoFixHistory: FixHistory {
    public init() {}
    public func recentFixes(device: String, spanS: Double, limit: Int, before: Int64?) -> [TruckTelemetry] { [] }
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
    /// The pipeline's state after this batch (`Pipeline.snapshot()`), when the
    /// host takes one: committed with the position it belongs to.
    public var snapshot: [UInt8]?
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
    /// The last state snapshot (`Pipeline.snapshot()`) and the inbox id it
    /// was taken at; the messages after it, up to `lastInboxId`, are caught up.
    public var snapshot: (inboxId: Int64, state: [UInt8])?
    /// The last message the pipeline committed.
    public var lastInboxId: Int64 = 0

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
        process(messages, ledger: ledger, history: history, fixes: fixes, catchingUp: false)
    }

    /// After a restart from a snapshot: processes again the messages that
    /// were processed after it, so that every rule's state is what it was
    /// at the stop. Raises nothing and returns nothing: what these messages
    /// produced was committed the first time. The lookups answer as they did
    /// then (`before` each message).
    public func catchUp(_ messages: [InboxMessage], ledger: EventLedger, fixes: FixHistory) {
        _ = process(messages, ledger: ledger, history: [TrackChunk](), fixes: fixes, catchingUp: true)
    }

    private func process(_ messages: [InboxMessage], ledger: EventLedger, history: TrackHistory, fixes: FixHistory,
                         catchingUp: Bool) -> BatchOutcome {
        var out = BatchOutcome()
        var eventsInBatch = Set<String>()
        for message in messages {
            out.lastInboxId = message.id
            let decoded = message.decoded ?? decoder.decode(message)
            if let failure = decoded.failure { out.deadLetters.append((message, failure)) }
            for what in decoded.ignored { out.ignored.append((message, what)) }
            for (part, record) in decoded.records.enumerated() {
                process(DecodedMessage(message: message, record: record, part: part), eventsInBatch: &eventsInBatch,
                        history: history, fixes: fixes, ledger: ledger, catchingUp: catchingUp, into: &out)
            }
            // Checked after every message, not every batch, so that where a
            // batch ends (a burst, a restart) never changes what is forgotten when.
            if let now, now.seconds(since: lastForgetting ?? now.adding(seconds: -forgetEveryS)) >= forgetEveryS {
                lastForgetting = now
                out.forgottenDevices += forget(idleSince: now.adding(seconds: -settings.limits.deviceIdleS))
            }
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
                         fixes: FixHistory, ledger: EventLedger, catchingUp: Bool, into out: inout BatchOutcome) {
        let message = decoded.message
        let record = decoded.record
        // Catching up, everything this run processes is committed already:
        // the lookups answer as of each message.
        let asOf = catchingUp ? message.id : nil
        if case .event(let e) = record, let eventId = e.eventId {
            let key = "\(e.sourceKind.rawValue)|\(e.source)|\(eventId)"
            if eventsInBatch.contains(key)
                || ledger.contains(sourceKind: e.sourceKind.rawValue, source: e.source, eventId: eventId, before: asOf) {
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
                for fix in fixes.recentFixes(device: t.device, spanS: Self.restoreSpanS, limit: Self.restoreLimit,
                                             before: asOf) {
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
            let signals = rules[i].evaluate(decoded, context)
            if catchingUp { continue }
            for var signal in signals {
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

    /// Every rule's state, the trucks' geofence state, the open track chunks
    /// and the clock, as bytes to commit with the position they belong to.
    /// Open incidents are not in it: the store's cases are their record.
    public func snapshot() throws -> [UInt8] {
        func encoded<R: Rule>(_ rule: R) throws -> String {
            String(decoding: try Self.encoder.encode(rule.state), as: UTF8.self)
        }
        var states: [String: String] = [:]
        for rule in rules { states[rule.name] = try encoded(rule) }
        let state = PipelineSnapshot(version: PipelineSnapshot.currentVersion, now: now, lastForgetting: lastForgetting,
                                     rules: states, trucks: trucks.snapshot, tracks: trackBuilder.snapshot)
        return Array(try Self.encoder.encode(state))
    }

    /// Takes up the state of `snapshot()`. A rule the snapshot has no state
    /// for (enabled since) starts afresh; fences are matched by site id.
    public func restore(snapshot bytes: [UInt8]) throws {
        let state = try Self.decoder.decode(PipelineSnapshot.self, from: Data(bytes))
        guard state.version == PipelineSnapshot.currentVersion else {
            throw SnapshotError(description: "a state snapshot of version \(state.version); this version reads \(PipelineSnapshot.currentVersion)")
        }
        func restored<R: Rule>(_ rule: R, _ json: String) throws -> any Rule {
            var r = rule
            r.state = try Self.decoder.decode(R.State.self, from: Data(json.utf8))
            return r
        }
        // Everything is read before anything is taken up: a snapshot that does
        // not read leaves the pipeline as it was.
        var taken = rules
        for i in taken.indices {
            if let json = state.rules[taken[i].name] { taken[i] = try restored(taken[i], json) }
        }
        rules = taken
        trucks.restore(state.trucks)
        trackBuilder.restore(state.tracks)
        now = state.now
        lastForgetting = state.lastForgetting
    }

    private static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        // A device can send any number; the state keeps what the rules kept.
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }()

    private static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }()

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

/// What `Pipeline.snapshot()` writes.
struct PipelineSnapshot: Codable {
    static let currentVersion = 1
    var version: Int
    var now: Instant?
    var lastForgetting: Instant?
    /// Each enabled rule's state, as JSON, by rule name.
    var rules: [String: String]
    var trucks: TruckTracker.Snapshot
    var tracks: TrackBuilder.Snapshot
}

public struct SnapshotError: Error, CustomStringConvertible {
    public var description: String
}
