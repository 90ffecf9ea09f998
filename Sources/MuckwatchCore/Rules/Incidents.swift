/// The "721" suggestion (§6): advise a first light offence, manage a second,
/// enforce from the third on or for anything critical.
public enum SuggestedAction: String, Sendable, Codable {
    case advise, manage, enforce

    public static func suggest(severity: Severity, priorIncidents: Int) -> SuggestedAction {
        if severity == .critical || priorIncidents >= 2 { return .enforce }
        return priorIncidents == 1 ? .manage : .advise
    }
}

/// A draft enforcement case (立案草稿) as first opened (§7.2).
public struct DraftCase: Sendable, Equatable {
    public var id: String
    public var rule: String
    public var severity: Severity
    public var legalBasis: String?
    /// The penalty range the legal basis sets, from the config.
    public var penalty: String?
    public var subject: Subject
    /// Other trucks attribution found near the place, nearest first.
    public var candidates: [CaseCandidate]
    public var lat: Double?
    public var lon: Double?
    public var firstSeen: Instant
    public var lastSeen: Instant
    public var createdAt: Instant
    public var verifyBy: Instant
    public var suggestedAction: SuggestedAction
    public var priorIncidents: Int
    public var summary: String
}

/// A truck attribution found near a case's place and time (§6).
public struct CaseCandidate: Sendable, Equatable {
    public var device: String
    public var plate: String?
    public var company: String?
    public var distanceM: Double
    public var passedAt: Instant
    public var point: GeoPoint

    public init(device: String, plate: String?, company: String?, distanceM: Double, passedAt: Instant, point: GeoPoint) {
        self.device = device
        self.plate = plate
        self.company = company
        self.distanceM = distanceM
        self.passedAt = passedAt
        self.point = point
    }
}

/// One line of the alert log (§7.1). Fields are declared in the order the
/// log shows them.
public struct Alert: Sendable, Equatable {
    public var ts: String
    public var alertId: String
    public var rule: String
    public var severity: Severity
    public var subject: Subject
    public var lat: Double?
    public var lon: Double?
    public var summary: String
    public var caseId: String
    public var suggestedAction: SuggestedAction
    public var evidence: [String]
    /// The case ledger's head once the incident's facts are written (set by
    /// the store), so that the log outside the store pins the chain.
    public var chain: String?
}

/// Evidence added to a case, new or existing.
public struct CaseEvidence: Sendable, Equatable {
    public var caseId: String
    public var evidence: EvidenceRef
    public var lastSeen: Instant
}

/// An incident still open to new signals.
public struct OpenIncident: Sendable, Equatable {
    public var caseId: String
    public var lastSeen: Instant

    public init(caseId: String, lastSeen: Instant) {
        self.caseId = caseId
        self.lastSeen = lastSeen
    }
}

public struct IncidentSettings: Sendable, Equatable {
    /// Signals on one subject and rule this close together are one incident.
    public var windowS: Double = 600
    public var verificationDeadlineH: Double = 72
    /// UTC offset of the centre's time zone, for printed times and case-id dates.
    public var utcOffsetSeconds: Int = UTCOffset.chinaStandardTime
    /// Article text per rule, copied into each case.
    public var legalBasis: [String: String] = LegalBasis.defaults
    /// Penalty range per rule, copied into each case.
    public var penalty: [String: String] = LegalBasis.defaultPenalties
    /// How far back earlier incidents of the same party count for "721".
    public var historyDays: Double = 30

    public init() {}
}

/// Merges signals into incidents (§6): the first signal on a subject and rule
/// opens a draft case and raises one alert; later ones within the window are
/// appended to it as evidence. Its state can be rebuilt from the store, so a
/// restart continues the same incidents and the same case numbering.
public struct IncidentBook: Sendable {
    public enum Change: Sendable, Equatable {
        case opened(DraftCase, Alert, CaseEvidence)
        case appended(CaseEvidence)
    }

    public var settings: IncidentSettings
    public private(set) var open: [String: OpenIncident]
    /// Highest case number used per local day (`YYYYMMDD`).
    public private(set) var caseNumbers: [String: Int]
    /// When each party's incidents opened, for the "721" count.
    public private(set) var partyHistory: [String: [Instant]]

    public init(settings: IncidentSettings = IncidentSettings(), open: [String: OpenIncident] = [:],
                caseNumbers: [String: Int] = [:], partyHistory: [String: [Instant]] = [:]) {
        self.settings = settings
        self.open = open
        self.caseNumbers = caseNumbers
        self.partyHistory = partyHistory
    }

    /// Drops incidents no signal can join any more (last seen before
    /// `horizon`, further back than the incident window), party history
    /// older than `historyDays`, and case numbers of days before `now`'s.
    /// A signal dated more than `limits.device_idle_s` before the pipeline's
    /// clock therefore opens a case of its own.
    public mutating func forget(idleSince horizon: Instant, now: Instant) {
        open.removeAll(shrinking: true) { $0.value.lastSeen < horizon }
        let oldest = now.adding(seconds: -settings.historyDays * 86_400)
        if partyHistory.values.contains(where: { $0.contains { $0 < oldest } }) {
            var kept: [String: [Instant]] = [:]
            for (party, times) in partyHistory {
                let recent = times.filter { $0 >= oldest }
                if !recent.isEmpty { kept[party] = recent }
            }
            partyHistory = kept
        }
        let today = RFC3339.compactDate(now, offsetSeconds: settings.utcOffsetSeconds)
        caseNumbers.removeAll(shrinking: true) { $0.key < today }
    }

    public static func key(rule: String, subject: Subject) -> String { "\(rule)|\(subject.kind)|\(subject.id)" }
    public static func party(_ subject: Subject) -> String { "\(subject.kind)|\(subject.id)" }

    public mutating func apply(_ signal: Signal, now: Instant) -> Change {
        let key = Self.key(rule: signal.rule, subject: signal.subject)
        if var incident = open[key], abs(signal.ts.seconds(since: incident.lastSeen)) <= settings.windowS {
            incident.lastSeen = max(incident.lastSeen, signal.ts)
            open[key] = incident
            return .appended(CaseEvidence(caseId: incident.caseId, evidence: signal.evidence, lastSeen: incident.lastSeen))
        }
        let day = RFC3339.compactDate(now, offsetSeconds: settings.utcOffsetSeconds)
        let number = (caseNumbers[day] ?? 0) + 1
        caseNumbers[day] = number
        let suffix = day + "-" + String(format4: number)
        let caseId = "MW-" + suffix

        let party = Self.party(signal.subject)
        let horizon = signal.ts.adding(seconds: -settings.historyDays * 86_400)
        let prior = (partyHistory[party] ?? []).filter { $0 >= horizon && $0 <= signal.ts }.count
        partyHistory[party, default: []].append(signal.ts)
        let action = SuggestedAction.suggest(severity: signal.severity, priorIncidents: prior)

        let draft = DraftCase(
            id: caseId, rule: signal.rule, severity: signal.severity,
            legalBasis: settings.legalBasis[signal.rule], penalty: settings.penalty[signal.rule],
            subject: signal.subject, candidates: signal.candidates,
            lat: signal.lat, lon: signal.lon, firstSeen: signal.ts, lastSeen: signal.ts,
            createdAt: now, verifyBy: now.adding(seconds: settings.verificationDeadlineH * 3600),
            suggestedAction: action, priorIncidents: prior, summary: signal.summary)
        let alert = Alert(
            ts: RFC3339.format(now, offsetSeconds: settings.utcOffsetSeconds), alertId: "A-" + suffix,
            rule: signal.rule, severity: signal.severity, subject: signal.subject,
            lat: signal.lat, lon: signal.lon, summary: signal.summary, caseId: caseId,
            suggestedAction: action, evidence: ["sha256:" + signal.evidence.sha256])
        open[key] = OpenIncident(caseId: caseId, lastSeen: signal.ts)
        return .opened(draft, alert, CaseEvidence(caseId: caseId, evidence: signal.evidence, lastSeen: signal.ts))
    }
}

extension String {
    /// A number zero-padded to at least four digits.
    init(format4 n: Int) {
        let s = String(n)
        self = s.count >= 4 ? s : String(repeating: "0", count: 4 - s.count) + s
    }
}
