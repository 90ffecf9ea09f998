import Foundation
import MuckwatchCore

// MARK: - Options

/// The size, span and seed of a scenario (`muckwatch scenario`).
public struct ScenarioOptions: Sendable, Equatable {
    public var trucks = 6
    public var hours = 1.0
    public var seed: UInt64 = 1
    /// 2026-11-24T14:00:00Z: 22:00 in Shenzhen, when muck trucks may run.
    public var start = Instant(millis: 1_795_528_800_000)
    public var fumeMonitors = 3
    /// Trackers report this often while driving (every 30 s while parked at a site).
    public var reportIntervalS = 10

    public init() {}

    public static let trucksRange = 1...100_000
    public static let hoursRange = 0.05...48.0
    public static let fumeMonitorsRange = 0...5_000
    public static let reportIntervalRange = 1...30

    /// Why these options cannot be generated, or nil.
    public var problem: String? {
        if !Self.trucksRange.contains(trucks) { return "--trucks must be within \(Self.trucksRange), not \(trucks)" }
        if !hours.isFinite || !Self.hoursRange.contains(hours) {
            return "--hours must be within \(Self.hoursRange.lowerBound)...\(Self.hoursRange.upperBound), not \(hours)"
        }
        if !Self.fumeMonitorsRange.contains(fumeMonitors) {
            return "--fume-monitors must be within \(Self.fumeMonitorsRange), not \(fumeMonitors)"
        }
        if !Self.reportIntervalRange.contains(reportIntervalS) {
            return "--report-interval-s must be within \(Self.reportIntervalRange), not \(reportIntervalS)"
        }
        if start.millis < 0 || start.millis > 4_000_000_000_000 { return "--start must be between 1970 and 2096" }
        if start.millis % 1000 != 0 { return "--start must be a whole second" }
        return nil
    }

    /// The command that generates this scenario.
    public var commandLine: String {
        "muckwatch scenario --out DIR --trucks \(trucks) --hours \(Self.decimal(hours)) --seed \(seed)"
            + " --start \(RFC3339.format(start, offsetSeconds: 0)) --fume-monitors \(fumeMonitors)"
            + " --report-interval-s \(reportIntervalS)"
    }

    /// `1`, `0.5`: a whole number without a fraction.
    static func decimal(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }
}

public struct ScenarioError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

// MARK: - Manifest

/// A violation or near-miss planted in the feed.
public struct PlantedViolation: Sendable, Equatable {
    public var id: String
    /// `tracker_uncovered`, `tracker_open_short`, `camera_spill`, ...
    public var kind: String
    public var rule: String
    /// Whether its signals raise (or join) an alert.
    public var alertExpected: Bool
    /// Signals the rule gives for it (0 for a near-miss).
    public var expectedSignals: Int
    /// The incident it belongs to, when it fires.
    public var incident: String?
    /// The truck concerned (the suspected party, when one is known).
    public var device: String?
    public var plate: String?
    /// What reports it: the tracker's device, a camera or a drone.
    public var source: String
    /// Device time (payload `ts`) of the window; one instant for an event.
    public var from: Instant
    public var to: Instant
    public var confidence: Double?
    /// For a single message: its topic, receive time and feed line.
    public var topic: String?
    public var t: Instant?
    public var line: Int?
    public var note: String
    var tag: String?

    /// Kinds meant to fire; every other kind is a near-miss.
    public static let firingKinds: Set<String> = ["tracker_uncovered", "camera_uncovered_load", "camera_spill", "drone_spill",
                                                  "tracker_body_raised", "tracker_load_drop", "tracker_off_hours",
                                                  "tracker_goes_dark", "tracker_unwashed_exit", "fume_high_mean",
                                                  "purifier_off_long", "drone_uncovered_load", "camera_spill_unplated",
                                                  "tracker_load_dumped", "camera_unwashed_exit", "tracker_expired_permit",
                                                  "jt808_uncovered_load", "hj212_high_mean"]
}

/// A message the daemon must dead-letter, and why.
public struct PlantedBadMessage: Sendable, Equatable {
    public var id: String
    public var reason: DeadLetterReason
    public var topic: String
    public var t: Instant
    public var line: Int?
    public var binary: Bool
    public var note: String
    var tag: String
}

/// A redelivered message that must be recognised and not processed again.
public struct PlantedDuplicate: Sendable, Equatable {
    public var id: String
    /// The planted item whose message it repeats.
    public var of: String
    public var topic: String
    public var t: Instant
    public var line: Int?
    var tag: String
}

/// What the pipeline should open: one alert and one draft case each.
public struct ExpectedIncident: Sendable, Equatable {
    public var id: String
    public var rule: String
    public var severity: String
    public var subjectKind: String
    public var subjectId: String
    public var plate: String?
    public var firstSignal: Instant
    public var lastSignal: Instant
    public var signals: Int
    public var planted: [String]
    public var priorIncidents: Int
    public var suggestedAction: String
    /// For an incident attribution opened: the other trucks whose tracks passed (devices, nearest first).
    public var candidates: [String] = []
}

/// What a written feed holds.
public struct ScenarioSummary: Sendable, Equatable {
    public var lines = 0
    /// Messages by kind (the keys of `ScenarioSummary.kinds`).
    public var byKind: [String: Int] = [:]
    /// Feed line numbers of the planted messages, by tag.
    var lineOf: [String: Int] = [:]

    public static let kinds = ["truck_telemetry", "fume_reading", "camera_event", "drone_telemetry", "drone_event",
                               "bad", "duplicate"]
}
