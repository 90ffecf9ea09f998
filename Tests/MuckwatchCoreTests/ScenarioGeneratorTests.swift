import Foundation
import MuckwatchConfig
import MuckwatchCore
import MuckwatchScenario
import XCTest

/// `muckwatch scenario`'s generator: deterministic, well-formed, every payload
/// as §4 and the decoder have it, and the planted violations raising exactly
/// the alerts its manifest promises when the feed runs through the pipeline.
final class ScenarioGeneratorTests: XCTestCase {
    /// The checked-in small scenario and the options its README documents.
    static let fixture = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/scenario-small")
    static var fixtureOptions: ScenarioOptions {
        var o = ScenarioOptions()
        o.trucks = 6
        o.hours = 1
        o.seed = 1
        o.start = RFC3339.parse("2026-11-24T14:00:00Z")!
        o.fumeMonitors = 3
        o.reportIntervalS = 10
        return o
    }

    struct Generated {
        var generator: ScenarioGenerator
        var lines: [String]
        var summary: ScenarioSummary
        var manifest: String
        var config: String
        var files: [String: String] {
            ["feed.jsonl": lines.map { $0 + "\n" }.joined(), "config.yaml": config,
             "sites.geojson": generator.sitesGeoJSON, "planted.json": manifest]
        }
    }

    func generate(_ options: ScenarioOptions = fixtureOptions) throws -> Generated {
        let generator = try ScenarioGenerator(options: options)
        var lines: [String] = []
        let summary = generator.writeFeed { lines.append($0) }
        return Generated(generator: generator, lines: lines, summary: summary, manifest: generator.manifestJSON(summary),
                         config: try generator.configYAML)
    }

    /// A planted item of one of `kinds` on the device whose window holds `ts`.
    func isPlanted(_ g: Generated, _ kinds: Set<String>, device: String, at ts: Instant) -> Bool {
        g.generator.violations.contains { kinds.contains($0.kind) && $0.device == device && $0.from <= ts && ts <= $0.to }
    }

    /// Fixes sent late or again on purpose: not newer than the device's last.
    static let pastFixKinds: Set<String> = ["tracker_late_batch", "tracker_repeated_fix"]

    func messages(_ lines: [String]) throws -> [FeedMessage] {
        try lines.enumerated().map { i, line in try FeedFile.parse(Array(line.utf8), lineNumber: i + 1).get() }
    }

    func options(trucks: Int = 6, hours: Double = 1, seed: UInt64 = 1, interval: Int = 10) -> ScenarioOptions {
        var o = Self.fixtureOptions
        o.trucks = trucks
        o.hours = hours
        o.seed = seed
        o.reportIntervalS = interval
        return o
    }

    // MARK: Determinism and the checked-in fixture

    func testTheSameSeedGivesTheSameBytesAndAnotherSeedDoesNot() throws {
        let a = try generate(), b = try generate()
        XCTAssertEqual(a.files, b.files)
        let c = try generate(options(seed: 2))
        XCTAssertNotEqual(a.files["feed.jsonl"], c.files["feed.jsonl"])
        XCTAssertNotEqual(a.files["sites.geojson"], c.files["sites.geojson"])
        XCTAssertNotEqual(a.files["config.yaml"], c.files["config.yaml"])
        // Writing twice from one generator gives the same feed too.
        var again: [String] = []
        _ = a.generator.writeFeed { again.append($0) }
        XCTAssertEqual(again, a.lines)
    }

    func testTheCheckedInFixtureIsWhatTheGeneratorWritesWithItsDocumentedOptions() throws {
        let g = try generate()
        for (name, text) in g.files.sorted(by: { $0.key < $1.key }) {
            let url = Self.fixture.appendingPathComponent(name)
            let stored = try String(contentsOf: url, encoding: .utf8)
            XCTAssertTrue(stored == text, "\(url.path) differs from what the generator writes; regenerate it as its README says")
        }
        let readme = try String(contentsOf: Self.fixture.appendingPathComponent("README.md"), encoding: .utf8)
        XCTAssertTrue(readme.contains(
            "muckwatch scenario --out Tests/Fixtures/scenario-small --trucks 6 --hours 1 --seed 1 --start 2026-11-24T14:00:00Z --fume-monitors 3 --report-interval-s 10"),
            "the README's command must be the options this test generates with")
    }

    // MARK: Feed format

    func testEveryLineIsAFeedLineAndTheyAreInReceiveTimeOrder() throws {
        for o in [Self.fixtureOptions, options(trucks: 60, hours: 0.5, seed: 9, interval: 3)] {
            let g = try generate(o)
            let feed = try messages(g.lines)
            XCTAssertEqual(feed.count, g.summary.lines)
            for (i, m) in feed.enumerated() {
                XCTAssertEqual(m.feedLine, g.lines[i], "line \(i + 1) does not round-trip")
                XCTAssertEqual(m.qos, 1)
                XCTAssertFalse(m.retain)
                XCTAssertGreaterThanOrEqual(m.t, o.start)
                if i > 0 { XCTAssertLessThanOrEqual(feed[i - 1].t, m.t, "line \(i + 1) is out of t order") }
            }
            XCTAssertLessThan(feed.last!.t, o.start.adding(seconds: o.hours * 3600 + 10))
            XCTAssertEqual(g.summary.byKind.values.reduce(0, +), g.summary.lines)
        }
    }

    func testTheSmallScenarioIsSmallAndHasEveryKindOfMessage() throws {
        let g = try generate()
        XCTAssertTrue((1500...5000).contains(g.lines.count), "\(g.lines.count) lines")
        for kind in ScenarioSummary.kinds {
            XCTAssertGreaterThan(g.summary.byKind[kind] ?? 0, 0, "no \(kind) in the small scenario")
        }
        XCTAssertEqual(g.generator.summaryLine(g.summary).split(separator: "\n").count, 1)
    }

    // MARK: Payloads (§4) against the decoder

    func testGoodPayloadsDecodeAndEveryPlantedBadOneFailsWithItsReason() throws {
        let g = try generate()
        let planted = g.generator.withLines(g.summary)
        let badByLine = Dictionary(uniqueKeysWithValues: planted.bad.map { ($0.line!, $0) })
        // too_large needs a payload above 1 MiB, which a scenario feed does not carry (LimitsTests and
        // TooLargePayloadTests send one).
        XCTAssertEqual(Set(planted.bad.map(\.reason)), Set(DeadLetterReason.allCases).subtracting([.tooLarge]),
                       "a dead-letter reason is not planted")
        // The config's decoder: S-16's JT/T 808 phone and vendor profile are in it.
        let decoder = try loadConfig(g.generator).pipelineSettings.payloadDecoder()
        var registry = Set(g.generator.registry.map(\.device))
        registry.formUnion(["D-01"])
        for (i, m) in try messages(g.lines).enumerated() {
            let decoded = decoder.decode(InboxMessage(id: Int64(i + 1), topic: m.topic, payload: m.payload, arrivedAt: m.t))
            if let bad = badByLine[i + 1] {
                XCTAssertEqual(bad.topic, m.topic)
                XCTAssertEqual(bad.t, m.t)
                guard let failure = decoded.failure, decoded.records.isEmpty else {
                    XCTFail("line \(i + 1) (\(bad.id), \(bad.note)) decoded; expected \(bad.reason.rawValue)")
                    continue
                }
                XCTAssertEqual(failure.reason, bad.reason, "line \(i + 1) (\(bad.id)): \(failure.detail)")
                XCTAssertEqual(bad.binary, String(validating: m.payload, as: UTF8.self) == nil)
                if bad.binary {
                    XCTAssertTrue(g.lines[i].contains("\"payload_b64\":"), "a binary payload must be written as payload_b64")
                    XCTAssertEqual(m.payload.first, 0x7e)
                    if bad.reason != .badFrame { XCTAssertEqual(m.payload.last, 0x7e, "line \(i + 1): a whole frame") }
                }
                continue
            }
            XCTAssertTrue(g.lines[i].contains("\"payload\":") || m.topic.hasPrefix("jt808/"), "line \(i + 1)")
            if let f = decoded.failure {
                XCTFail("line \(i + 1) on \(m.topic) was dead-lettered (\(f.reason.rawValue): \(f.detail))")
                continue
            }
            XCTAssertFalse(decoded.records.isEmpty, "line \(i + 1) on \(m.topic): no record (\(decoded.ignored))")
            for record in decoded.records {
                XCTAssertLessThanOrEqual(record.ts, m.t, "line \(i + 1): payload time after receive time")
                if m.t.seconds(since: record.ts) >= 6, case .truck(let t) = record {
                    // The late batch: buffered fixes uploaded minutes after.
                    XCTAssertTrue(isPlanted(g, ["tracker_late_batch", "jt808_blind_area_batch"], device: t.device, at: t.ts), "line \(i + 1): receive delay")
                } else {
                    XCTAssertLessThan(m.t.seconds(since: record.ts), 6, "line \(i + 1): receive delay")
                }
                switch record {
                case .truck(let t):
                    XCTAssertTrue(registry.contains(t.device))
                    XCTAssertNotNil(t.speedKmh)
                    XCTAssertTrue((0...60).contains(t.speedKmh!), "line \(i + 1): \(t.speedKmh!) km/h")
                    XCTAssertTrue(abs(t.lat - 22.54) < 0.25 && abs(t.lon - 114.05) < 0.25, "line \(i + 1) is far from Shenzhen")
                    XCTAssertNotEqual(t.cover, .unknown)
                    XCTAssertNotEqual(t.load, .unknown)
                    XCTAssertNotNil(t.seq)
                case .fume(let f) where f.monitor.hasPrefix("F-9"):
                    break  // the rule showcase's monitors exceed the limit and turn purifiers off on purpose
                case .fume(let f):
                    XCTAssertTrue((0...2.5).contains(f.concMgM3))
                    XCTAssertEqual(f.fan, .on)
                    XCTAssertEqual(f.purifier, .on)
                case .event(let e):
                    XCTAssertNotNil(e.eventId)
                    XCTAssertNotNil(e.confidence)
                    XCTAssertNotNil(e.clipURL)
                    if let plate = e.plate { XCTAssertNotNil(g.generator.registry.first { $0.plate == plate }) }
                case .drone(let d):
                    XCTAssertTrue((0...130).contains(d.altM ?? -1))
                case .segment:
                    XCTFail("line \(i + 1): the scenario announces no video segments")
                }
            }
        }
    }

    /// Per truck: sequence numbers rise, load changes only when stopped, the
    /// body is raised only stopped at a tip, empty weights stay at or under the registry's.
    func testTruckReportsArePhysicallyPlausible() throws {
        let g = try generate(options(trucks: 12, hours: 2, seed: 5, interval: 5))
        let decoder = PayloadDecoder()
        let empty = Dictionary(uniqueKeysWithValues: g.generator.registry.map { ($0.device, $0.emptyKg!) })
        var last: [String: TruckTelemetry] = [:]
        for (i, m) in try messages(g.lines).enumerated() {
            guard case .success(.truck(let t)) = decoder.decode(InboxMessage(id: 1, topic: m.topic, payload: m.payload, arrivedAt: m.t)).single
            else { continue }
            if t.body == .raised { XCTAssertEqual(t.speedKmh, 0, "line \(i + 1): tipping while moving") }
            if t.load == .empty, let kg = t.loadKg { XCTAssertLessThanOrEqual(kg, empty[t.device]!, "line \(i + 1)") }
            if let p = last[t.device], t.ts <= p.ts {
                XCTAssertTrue(isPlanted(g, Self.pastFixKinds, device: t.device, at: t.ts), "line \(i + 1): not newer than the last fix")
                continue
            }
            if let p = last[t.device] {
                XCTAssertGreaterThan(t.seq!, p.seq!)
                XCTAssertGreaterThan(t.ts, p.ts)
                let dt = t.ts.seconds(since: p.ts)
                // Distance per time fits the reported speeds (with GPS jitter).
                let d = hypot((t.lat - p.lat) * 110_738, (t.lon - p.lon) * 102_864)
                XCTAssertLessThanOrEqual(d, dt * 60 / 3.6 + 10, "line \(i + 1): \(d) m in \(dt) s")
                if p.speedKmh! > 0 && t.speedKmh! > 0, let a = p.loadKg, let b = t.loadKg, t.device != "S-03" {
                    XCTAssertLessThan(abs(a - b), 500, "line \(i + 1): load changed while moving")
                }
            }
            last[t.device] = t
        }
        XCTAssertEqual(last.count, g.generator.registry.count, "the 12 trucks and the showcases' (the spill by weight, S-03, loses load moving)")
    }

    // MARK: Planted violations through the pipeline

    /// Runs the feed through the pipeline with the scenario's own config, as
    /// replay does, and compares the outcome with the manifest.
    @discardableResult
    func assertPipelineMatchesManifest(_ g: Generated, file: StaticString = #filePath, line: UInt = #line) throws -> BatchOutcome {
        let config = try loadConfig(g.generator)
        let pipeline = Pipeline(settings: config.pipelineSettings)
        let inbox = try messages(g.lines).enumerated().map { i, m in
            InboxMessage(id: Int64(i + 1), topic: m.topic, payload: m.payload, arrivedAt: m.t)
        }
        let out = pipeline.process(inbox, ledger: SetLedger())
        let expected = g.generator.incidents
        XCTAssertEqual(out.alerts.count, expected.count, "alerts raised", file: file, line: line)
        XCTAssertEqual(out.openedCases.count, expected.count, file: file, line: line)
        let droneSpills = Set(g.generator.violations.filter { $0.kind == "drone_spill" }.map(\.id))
        let droneItems = Set(g.generator.violations.filter { $0.kind.hasPrefix("drone_") }.map(\.id))
        for (c, e) in zip(out.openedCases, expected) {
            XCTAssertEqual(c.rule, e.rule, e.id, file: file, line: line)
            XCTAssertEqual(c.severity.rawValue, e.severity, e.id, file: file, line: line)
            XCTAssertEqual(c.subject.kind, e.subjectKind, e.id, file: file, line: line)
            if !droneSpills.isDisjoint(with: e.planted) && c.subject.id != e.subjectId {
                // Attributed from the air: on a road other trucks use, another
                // may have passed nearer; the planted one is then a candidate.
                XCTAssertTrue(c.candidates.contains { $0.device == e.subjectId }, "\(e.id): \(c.subject.id), candidates \(c.candidates.map(\.device))",
                              file: file, line: line)
                continue
            }
            XCTAssertEqual(c.subject.id, e.subjectId, e.id, file: file, line: line)
            if droneItems.isDisjoint(with: e.planted) {
                XCTAssertEqual(c.candidates.map(\.device), e.candidates, e.id, file: file, line: line)
            } else {
                // From the air over a road: trips that use the same road may pass too.
                XCTAssertTrue(Set(c.candidates.map(\.device)).isSuperset(of: e.candidates), e.id, file: file, line: line)
            }
            XCTAssertEqual(c.subject.plate, e.plate, e.id, file: file, line: line)
            XCTAssertEqual(c.firstSeen, e.firstSignal, e.id, file: file, line: line)
            XCTAssertEqual(c.priorIncidents, e.priorIncidents, e.id, file: file, line: line)
            XCTAssertEqual(c.suggestedAction.rawValue, e.suggestedAction, e.id, file: file, line: line)
        }
        // Every signal is evidence on its incident: as many as the manifest counts.
        let casesInOrder = out.openedCases.map(\.id)
        for (caseId, e) in zip(casesInOrder, expected) {
            XCTAssertEqual(out.evidence.filter { $0.caseId == caseId }.count, e.signals, e.id, file: file, line: line)
        }
        var reasons: [DeadLetterReason: Int] = [:]
        for d in out.deadLetters { reasons[d.failure.reason, default: 0] += 1 }
        var plantedReasons: [DeadLetterReason: Int] = [:]
        for b in g.generator.badMessages { plantedReasons[b.reason, default: 0] += 1 }
        XCTAssertEqual(reasons, plantedReasons, file: file, line: line)
        XCTAssertEqual(out.duplicateEvents.count, g.generator.duplicates.count, file: file, line: line)
        // A JT/T 808 batch is one message of several records.
        XCTAssertEqual(Set(out.decoded.map(\.message.id)).count + out.deadLetters.count + out.duplicateEvents.count, inbox.count,
                       file: file, line: line)
        return out
    }

    func testTheSmallScenarioRaisesExactlyTheManifestsAlerts() throws {
        let g = try generate()
        let out = try assertPipelineMatchesManifest(g)
        let v = g.generator.violations
        // Every kind is planted, firing ones fire, near-misses do not.
        XCTAssertEqual(Set(v.map(\.kind)), [
            "tracker_uncovered", "tracker_open_short", "tracker_open_stationary", "tracker_open_crawling",
            "tracker_open_empty", "camera_uncovered_load", "camera_uncovered_load_below_threshold", "camera_spill",
            "camera_spill_below_threshold", "drone_spill",
            "tracker_body_raised", "tracker_body_raised_at_disposal", "tracker_load_drop", "tracker_off_hours",
            "tracker_goes_dark", "tracker_parked_dark", "tracker_unwashed_exit", "fume_high_mean", "fume_short_spike",
            "purifier_off_long", "purifier_off_short",
            "drone_uncovered_load", "camera_spill_unplated", "track_outside_radius", "tracker_load_dumped",
            "tracker_small_drop", "tracker_late_batch", "tracker_gps_jitter", "tracker_repeated_fix", "tracker_washed_90s",
            "camera_unwashed_exit_below_threshold", "camera_unwashed_exit", "tracker_expired_permit_parked",
            "tracker_expired_permit", "jt808_uncovered_load", "jt808_blind_area_batch", "hj212_high_mean",
        ])
        // One incident of every rule of SPEC §6.
        XCTAssertEqual(Set(g.generator.incidents.map(\.rule)), Set(RuleSettings.allRules))
        for item in v {
            XCTAssertEqual(item.alertExpected, PlantedViolation.firingKinds.contains(item.kind), "\(item.id) \(item.kind)")
            XCTAssertEqual(item.alertExpected, item.incident != nil, item.id)
            XCTAssertEqual(item.alertExpected, item.expectedSignals > 0, item.id)
            if let c = item.confidence { XCTAssertEqual(c >= 0.6, item.alertExpected, item.id) }
        }
        XCTAssertEqual(v.filter { $0.kind.hasSuffix("below_threshold") }.compactMap(\.confidence).sorted(), [0.55, 0.59, 0.59])
        // Repeated signals on one truck within 10 minutes are one incident.
        XCTAssertTrue(g.generator.incidents.contains { $0.signals > 1 && $0.planted.count > 1 })
        // The drone's spill, with no plate, is attributed to the truck whose track passed it.
        let droneSpill = try XCTUnwrap(v.first { $0.kind == "drone_spill" })
        XCTAssertTrue(g.generator.incidents.contains { $0.planted.contains(droneSpill.id) && $0.subjectKind == "truck" && $0.subjectId == droneSpill.device })
        XCTAssertEqual(g.generator.duplicates.count, 1)
        XCTAssertEqual(g.generator.rulesCovered, RuleSettings.allRules)

        // Fusion: the tracker's stretch, the gate camera (plate) and the drone (no plate, attributed) are one incident.
        let drone = try XCTUnwrap(v.first { $0.kind == "drone_uncovered_load" })
        let fused = try XCTUnwrap(g.generator.incidents.first { $0.planted.contains(drone.id) })
        XCTAssertEqual(fused.subjectId, drone.device)
        XCTAssertTrue(Set(fused.planted.compactMap { p in v.first { $0.id == p }?.kind })
            .isSuperset(of: ["tracker_uncovered", "camera_uncovered_load", "drone_uncovered_load"]), "\(fused.planted)")
        let fusedCase = try XCTUnwrap(out.openedCases[safe: g.generator.incidents.firstIndex(of: fused)!])
        XCTAssertEqual(Set(out.evidence.filter { $0.caseId == fusedCase.id }.map(\.evidence.kind)),
                       ["truck_telemetry", "camera_event", "drone_event"])
        // Attribution: the nearer truck is the party, the other within 50 m its one candidate.
        let unplated = try XCTUnwrap(v.first { $0.kind == "camera_spill_unplated" })
        let attributed = try XCTUnwrap(g.generator.incidents.first { $0.planted.contains(unplated.id) })
        XCTAssertEqual(attributed.subjectId, "S-08")
        XCTAssertEqual(attributed.candidates, ["S-09"])
        let attributedCase = try XCTUnwrap(out.openedCases.first { $0.rule == "spill" && $0.subject.id == "S-08" })
        XCTAssertEqual(attributedCase.candidates.map { Int($0.distanceM.rounded()) }, [35])
        // Jitter, a repeated fix, a late batch, a 300 kg drop, tipping at a tip: nothing about those trucks.
        for quiet in ["S-10", "S-11", "S-12", "S-14"] {
            XCTAssertFalse(out.openedCases.contains { $0.subject.id == quiet }, quiet)
        }
    }

    /// The jitter is a trap: without the geofence's dwell its minute outside
    /// would be an exit, after 3 min in the site and no wash.
    func testTheGPSJitterWouldBeAnUnwashedExitWithoutTheDwell() throws {
        let g = try generate()
        let yaml = g.config.replacingOccurrences(of: "geofence: {dwell_s: 20}", with: "geofence: {dwell_s: 0}")
        XCTAssertNotEqual(yaml, g.config)
        let config = try loadConfig(g.generator, yaml: yaml)
        let inbox = try messages(g.lines).enumerated().map { i, m in
            InboxMessage(id: Int64(i + 1), topic: m.topic, payload: m.payload, arrivedAt: m.t)
        }
        let out = Pipeline(settings: config.pipelineSettings).process(inbox, ledger: SetLedger())
        let jitter = try XCTUnwrap(g.generator.violations.first { $0.kind == "tracker_gps_jitter" })
        XCTAssertTrue(out.openedCases.contains { $0.rule == "unwashed_exit" && $0.subject.id == jitter.device })
    }

    func testManyTrucksPlantPerBlockOfFiftyAndStillMatch() throws {
        let g = try generate(options(trucks: 120, hours: 1, seed: 3, interval: 30))
        try assertPipelineMatchesManifest(g)
        XCTAssertEqual(g.generator.badMessages.count, 3 * 23)
        XCTAssertGreaterThanOrEqual(g.generator.incidents.count, 3 * 4)
        // Each block's drone spill, attributed to the slot-F truck whose track passed it.
        XCTAssertEqual(g.generator.incidents.filter { $0.subjectKind == "drone" }.count, 0)
        XCTAssertEqual(g.generator.violations.filter { $0.kind == "drone_spill" }.count, 3)
    }

    func testTheManifestCountsWhatItLists() throws {
        let g = try generate()
        let json = try JSONSerialization.jsonObject(with: Data(g.manifest.utf8)) as! [String: Any]
        let planted = json["planted"] as! [[String: Any]]
        let incidents = json["incidents"] as! [[String: Any]]
        let bad = json["bad_messages"] as! [[String: Any]]
        let expected = json["expected"] as! [String: Any]
        let messages = json["messages"] as! [String: Int]
        XCTAssertEqual(planted.count, g.generator.violations.count)
        XCTAssertEqual(expected["alerts"] as? Int, incidents.count)
        XCTAssertEqual(expected["firing"] as? Int, planted.filter { $0["alert_expected"] as? Bool == true }.count)
        XCTAssertEqual(expected["near_misses"] as? Int, planted.filter { $0["alert_expected"] as? Bool == false }.count)
        XCTAssertEqual((expected["alerts_by_rule"] as! [String: Int]).values.reduce(0, +), incidents.count)
        XCTAssertEqual((expected["dead_letters"] as! [String: Int]).values.reduce(0, +), bad.count)
        XCTAssertEqual(messages["lines"], g.lines.count)
        XCTAssertEqual(messages["bad"], bad.count)
        let ids = Set(planted.map { $0["id"] as! String })
        for i in incidents {
            for p in i["planted"] as! [String] { XCTAssertTrue(ids.contains(p)) }
        }
        // Single-message items name their line; the line is that message.
        for p in planted + bad + (json["duplicates"] as! [[String: Any]]) {
            guard let line = p["line"] as? Int else {
                XCTAssertNil(p["topic"], "\(p["id"]!) has a topic but no line")
                continue
            }
            let m = try FeedFile.parse(Array(g.lines[line - 1].utf8), lineNumber: line).get()
            XCTAssertEqual(m.topic, p["topic"] as? String)
            XCTAssertEqual(RFC3339.format(m.t, offsetSeconds: 0), p["t"] as? String)
        }
        let options = json["options"] as! [String: Any]
        XCTAssertEqual(options["trucks"] as? Int, 6)
        XCTAssertEqual(options["report_interval_s"] as? Int, 10)
        XCTAssertEqual(options["start"] as? String, "2026-11-24T14:00:00.000Z")
    }

    // MARK: Config and sites

    func testTheConfigLoadsWithTheGeneratedRegistry() throws {
        let g = try generate(options(trucks: 60))
        let config = try loadConfig(g.generator)
        XCTAssertEqual(config.pipeline.registry.trucks, g.generator.registry)
        XCTAssertEqual(Set(config.pipeline.registry.trucks.compactMap(\.plate)).count, g.generator.registry.count)
        XCTAssertEqual(config.pipeline.registry.trucks.prefix(60).map(\.permittedHours),
                       Array(repeating: [DailyWindow(startMinute: 22 * 60, endMinute: 6 * 60)], count: 60))
        XCTAssertFalse(config.pipeline.registry.companies.isEmpty)
        XCTAssertTrue(config.pipeline.registry.trucks.allSatisfy { $0.phone?.count == 12 && $0.permitUntil != nil })
        XCTAssertEqual(config.pipeline.registry.cameras.count, config.pipeline.registry.sites.filter { $0.kind != .wash }.count + 1)
        XCTAssertEqual(config.pipeline.rules, RuleSettings(), "the config spells out §6's defaults")
        for t in config.pipeline.registry.trucks {
            XCTAssertTrue(t.plate!.hasPrefix("粤B") && t.plate!.count == 7, t.plate!)
            XCTAssertTrue(t.company!.hasPrefix("深圳市"))
        }
        XCTAssertEqual(config.topics.map(\.filter.text), TopicRoutes.defaults.routes.map(\.filter.text))
        XCTAssertEqual(config.pipeline.rules.uncoveredLoad.minDurationS, 30)
        XCTAssertEqual(config.pipeline.rules.spill.minConfidence, 0.6)
        XCTAssertNotNil(config.pipeline.incidents.legalBasis["uncovered_load"])
        XCTAssertTrue(g.config.contains("sites.geojson"))
    }

    typealias Polygon = [(lon: Double, lat: Double)]

    func inside(_ lon: Double, _ lat: Double, _ ring: Polygon) -> Bool {
        var c = false
        var j = ring.count - 1
        for i in 0..<ring.count {
            let a = ring[i], b = ring[j]
            if (a.lat > lat) != (b.lat > lat), lon < (b.lon - a.lon) * (lat - a.lat) / (b.lat - a.lat) + a.lon { c.toggle() }
            j = i
        }
        return c
    }

    /// Closed WGS-84 rings; loading and tipping happen inside the sites, wash zones lie in theirs.
    func testSitesAreClosedPolygonsWhereTheTrucksLoadAndTip() throws {
        let g = try generate(options(trucks: 12, hours: 2, seed: 5, interval: 5))
        let json = try JSONSerialization.jsonObject(with: Data(g.generator.sitesGeoJSON.utf8)) as! [String: Any]
        XCTAssertEqual(json["type"] as? String, "FeatureCollection")
        var sites: [(id: String, kind: String, ring: Polygon)] = []
        for f in json["features"] as! [[String: Any]] {
            let props = f["properties"] as! [String: Any]
            let geometry = f["geometry"] as! [String: Any]
            XCTAssertEqual(geometry["type"] as? String, "Polygon")
            let ring = ((geometry["coordinates"] as! [[[Double]]])[0]).map { (lon: $0[0], lat: $0[1]) }
            XCTAssertGreaterThanOrEqual(ring.count, 4)
            XCTAssertEqual(ring.first!.lon, ring.last!.lon)
            XCTAssertEqual(ring.first!.lat, ring.last!.lat)
            var area = 0.0  // shoelace: positive = counter-clockwise (RFC 7946)
            for i in 0..<(ring.count - 1) { area += ring[i].lon * ring[i + 1].lat - ring[i + 1].lon * ring[i].lat }
            XCTAssertGreaterThan(area, 0, "\(props["id"]!) is not counter-clockwise")
            XCTAssertNotNil(props["name"] as? String)
            let kind = props["kind"] as! String
            XCTAssertTrue(["construction", "disposal", "wash"].contains(kind))
            sites.append((props["id"] as! String, kind, Array(ring.dropLast())))
        }
        XCTAssertEqual(sites.filter { $0.kind == "wash" }.count, sites.filter { $0.kind == "construction" }.count)
        for w in sites where w.kind == "wash" {
            XCTAssertTrue(w.ring.allSatisfy { p in sites.contains { $0.kind == "construction" && inside(p.lon, p.lat, $0.ring) } })
        }
        let planted = g.generator.violations.filter { $0.kind.hasPrefix("tracker_") }
        let decoder = PayloadDecoder()
        var checked = 0
        for m in try messages(g.lines) {
            guard case .success(.truck(let t)) = decoder.decode(InboxMessage(id: 1, topic: m.topic, payload: m.payload, arrivedAt: m.t)).single,
                  t.speedKmh == 0, t.cover == .open || t.body == .raised
            else { continue }
            if planted.contains(where: { $0.device == t.device && $0.from <= t.ts && t.ts <= $0.to }) { continue }
            let site = sites.first { $0.kind != "wash" && inside(t.lon, t.lat, $0.ring) }
            XCTAssertNotNil(site, "\(t.device) open or tipping at \(t.lat),\(t.lon) outside every site")
            if t.body == .raised { XCTAssertEqual(site?.kind, "disposal") }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 50)
    }

    // MARK: Options

    func testOptionsOutsideTheirRangesAreRefused() {
        var o = ScenarioOptions()
        XCTAssertNil(o.problem)
        o.reportIntervalS = 0
        XCTAssertNotNil(o.problem)
        o = ScenarioOptions()
        o.trucks = 0
        XCTAssertThrowsError(try ScenarioGenerator(options: o))
        o = ScenarioOptions()
        o.hours = .nan
        XCTAssertNotNil(o.problem)
        o = ScenarioOptions()
        o.start = Instant(millis: 1_795_528_800_500)
        XCTAssertNotNil(o.problem)
        XCTAssertEqual(ScenarioOptions().start, RFC3339.parse("2026-11-24T14:00:00Z"))
        XCTAssertEqual(ScenarioOptions(), Self.fixtureOptions)
    }

    /// A short scenario plants what fits and still matches.
    func testAShortScenarioPlantsOnlyWhatFits() throws {
        let g = try generate(options(trucks: 3, hours: 0.25, seed: 4))
        try assertPipelineMatchesManifest(g)
        for v in g.generator.violations {
            XCTAssertLessThan(v.to, ScenarioOptions().start.adding(seconds: 900))
        }
    }
}

/// The generated config as `replay` reads it: from a folder with its sites file beside it.
func loadConfig(_ generator: ScenarioGenerator, yaml: String? = nil) throws -> MuckwatchConfiguration {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mw-scenario-config-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    try generator.sitesGeoJSON.write(to: dir.appendingPathComponent("sites.geojson"), atomically: true, encoding: .utf8)
    let path = dir.appendingPathComponent("config.yaml").path
    try (yaml ?? generator.configYAML).write(toFile: path, atomically: true, encoding: .utf8)
    return try MuckwatchConfiguration.load(path: path)
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}
