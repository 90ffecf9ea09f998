import Foundation
import MuckwatchConfig
import MuckwatchCore

// MARK: - The files beside the feed

extension ScenarioGenerator {
    /// The regulations the config cites for the two load rules' cases.
    private static let uncoveredLoadLegalBasis =
        "《城市建筑垃圾管理规定》第十四条：处置建筑垃圾的单位在运输建筑垃圾时，应当随车携带建筑垃圾处置核准文件，按照城市人民政府有关部门规定的运输路线、时间运行，不得丢弃、遗撒建筑垃圾，不得超出核准范围承运建筑垃圾。"
    private static let spillLegalBasis =
        "《城市市容和环境卫生管理条例》第十五条：在市区运行的交通运输工具，应当保持外型完好、整洁，货运车辆运输的液体、散装货物，应当密封、包扎、覆盖，避免泄漏、遗撒。"

    /// `config.yaml`: topics, every rule's thresholds (SPEC §6 defaults), and the
    /// registry: companies, trucks, the sites file, cameras and fume monitors.
    public var configYAML: String {
        get throws(ConfigError) { try configDocument.yaml() }
    }

    /// `config.yaml` before it is written out: what the file is comes first, as its header comment.
    var configDocument: ConfigDocument {
        let header = [
            "Muckwatch config for a generated scenario:",
            "  \(options.commandLine)",
            "Replay feed.jsonl with it; planted.json lists what it should (and should not) raise.",
            "The construction sites, disposal sites and wash zones are in sites.geojson",
            "beside this file (WGS-84 polygons).",
            "S-16's tracker speaks JT/T 808; its vendor (protocols.jt808.vendors) puts the cover in additional item 0xE1.",
            "The registry: \(world.trucks.count) muck trucks of \(Set(world.trucks.map(\.company)).count) transport companies, "
                + "then the showcases' trucks (see planted.json).",
        ]
        var root = ConfigMapping()
        root.add("broker", ConfigMapping(["url": .text("mqtt://127.0.0.1:1883"), "client_id": .text("muckwatchd")]))
        var topics = ConfigMapping()
        for route in TopicRoutes.defaults.routes { topics.add(route.kind.rawValue, route.filter.text) }
        root.add("topics", topics)
        root.add("store", ConfigMapping(["path": .text("./var/muckwatch.db")]))
        root.add("alerts", ConfigMapping(["log": .text("./var/alerts.jsonl")]))
        root.add("timezone", "Asia/Shanghai")
        root.add("cases", ConfigMapping(["verification_deadline_h": .number(72), "incident_window_s": .number(600)]))
        root.add("rules", Self.defaultRules)
        root.add("protocols", jt808Protocols)
        root.add("registry", registryMapping)
        return ConfigDocument(header: header, root: root)
    }

    /// Every rule's thresholds, SPEC §6's defaults spelled out, with the legal basis cases cite.
    private static var defaultRules: ConfigMapping {
        let r = RuleSettings()
        var rules = ConfigMapping()
        rules.add("geofence", ConfigMapping(flow: true, ["dwell_s": .number(r.geofence.dwellS)]))
        rules.add("attribution", ConfigMapping(flow: true, ["radius_m": .number(r.attribution.radiusM),
                                                            "lookback_s": .number(r.attribution.lookbackS)]))
        rules.add("uncovered_load", ConfigMapping([
            "min_speed_kmh": .number(r.uncoveredLoad.minSpeedKmh),
            "min_duration_s": .number(r.uncoveredLoad.minDurationS),
            "min_confidence": .number(r.uncoveredLoad.minConfidence),
            "legal_basis": .text(uncoveredLoadLegalBasis),
        ]))
        rules.add("spill", ConfigMapping([
            "min_confidence": .number(r.spill.minConfidence),
            "min_drop_kg": .number(r.spill.minDropKg),
            "drop_window_s": .number(r.spill.dropWindowS),
            "min_speed_kmh": .number(r.spill.minSpeedKmh),
            "legal_basis": .text(spillLegalBasis),
        ]))
        rules.add("illegal_dumping", ConfigMapping(flow: true, ["min_loss_fraction": .number(r.illegalDumping.minLossFraction),
                                                                "max_speed_kmh": .number(r.illegalDumping.maxSpeedKmh)]))
        rules.add("unwashed_exit", ConfigMapping(flow: true, ["min_wash_s": .number(r.unwashedExit.minWashS),
                                                              "min_visit_s": .number(r.unwashedExit.minVisitS),
                                                              "min_confidence": .number(r.unwashedExit.minConfidence)]))
        rules.add("off_hours", ConfigMapping(flow: true, ["min_speed_kmh": .number(r.offHours.minSpeedKmh)]))
        rules.add("fume_exceedance", ConfigMapping(flow: true, ["limit_mg_m3": .number(r.fumeExceedance.limitMgM3),
                                                                "window_s": .number(r.fumeExceedance.windowS)]))
        rules.add("purifier_off", ConfigMapping(flow: true, ["min_duration_s": .number(r.purifierOff.minDurationS)]))
        rules.add("device_silent", ConfigMapping(flow: true, ["silence_s": .number(r.deviceSilent.silenceS),
                                                              "min_speed_kmh": .number(r.deviceSilent.minSpeedKmh)]))
        return rules
    }

    /// S-16's vendor puts the cover in JT/T 808 additional item 0xE1.
    private var jt808Protocols: ConfigMapping {
        let cover = ConfigMapping(flow: true, ["item": .hex(0xE1), "mask": .hex(0x01), "set_means": .text("closed")])
        let devices = showcase.jt808Devices.map {
            ConfigValue.mapping(ConfigMapping(flow: true, ["phone": .text(Self.showcasePhone($0)), "vendor": .text("muck-e1")]))
        }
        let jt808 = ConfigMapping([
            "vendors": .mapping(ConfigMapping(["muck-e1": .mapping(ConfigMapping(flow: true, ["cover": .mapping(cover)]))])),
            "devices": .list(devices, flow: false),
        ])
        return ConfigMapping(["jt808": .mapping(jt808)])
    }

    private var registryMapping: ConfigMapping {
        /// Degrees as the feed writes them, to 6 decimals.
        func degrees(_ v: Double) -> ConfigValue { .number(Double(fixed(v, 6)) ?? v) }
        let width = max(2, String(world.companies.count).count)
        var companyId: [String: String] = [:]
        var companies: [ConfigValue] = []
        for (i, c) in world.companies.enumerated() {
            let id = "C-" + pad(i + 1, width)
            companyId[c] = id
            companies.append(.mapping(ConfigMapping(flow: true, ["id": .text(id), "name": .text(c)])))
        }
        let trucks = registryEntries.map { t -> ConfigValue in
            var truck = ConfigMapping([
                "device": .text(t.device), "plate": .text(t.plate), "company": .text(companyId[t.company] ?? t.company),
                "empty_kg": .number(Double(t.emptyKg)), "phone": .text(t.phone),
                "permit": .mapping(ConfigMapping(flow: true, ["from": .text(t.permit.from), "until": .text(t.permit.until)])),
            ])
            if !t.hours.isEmpty { truck.add("permitted_hours", .list(t.hours.map { .text($0) }, flow: true)) }
            return .mapping(truck)
        }
        var cameras: [ConfigValue] = world.sites.map { s in
            .mapping(ConfigMapping(flow: true, ["id": .text(s.camera), "site": .text(s.id),
                                                "lat": degrees(ScenarioGeo.lat(s.gate)), "lon": degrees(ScenarioGeo.lon(s.gate))]))
        }
        cameras += extras.cameras.map { c in
            .mapping(ConfigMapping(flow: true, ["id": .text(c.id), "lat": degrees(ScenarioGeo.lat(c.p)), "lon": degrees(ScenarioGeo.lon(c.p))]))
        }
        func monitor(_ m: (id: String, restaurant: String, address: String), _ purifierClass: String) -> ConfigValue {
            .mapping(ConfigMapping(flow: true, ["id": .text(m.id), "restaurant": .text(m.restaurant), "address": .text(m.address),
                                                "purifier_class": .text(purifierClass)]))
        }
        let classes = ["medium", "large", "small"]
        let monitors = world.monitors.enumerated().map { monitor($1, classes[$0 % 3]) } + showcase.monitors.map { monitor($0, "medium") }
        return ConfigMapping([
            "companies": .list(companies, flow: false),
            "trucks": .list(trucks, flow: false),
            "sites": .mapping(ConfigMapping(flow: true, ["file": .text("sites.geojson"), "coordinates": .text("wgs84")])),
            "cameras": .list(cameras, flow: false),
            "fume_monitors": .list(monitors, flow: false),
        ])
    }

    static func registrySites(of world: World) -> [Site] {
        func polygon(_ points: [Point]) -> Polygon {
            let ring = (points + [points[0]]).map {
                ScenarioGeo.written($0)
            }
            return Polygon(outer: ring)
        }
        var out: [Site] = []
        for s in world.sites {
            out.append(Site(id: s.id, name: s.name, kind: s.kind == .construction ? .construction : .disposal,
                            polygons: [polygon(s.ring)]))
            if let washId = s.washId {
                out.append(Site(id: washId, name: s.washName ?? washId, kind: .wash, polygons: [polygon(s.washRing)], parent: s.id))
            }
        }
        return out
    }

    /// `sites.geojson`: one feature per line, closed counter-clockwise rings.
    public var sitesGeoJSON: String {
        func ring(_ points: [Point]) -> String {
            "[[" + (points + [points[0]]).map { "[" + fixed(ScenarioGeo.lon($0), 6) + "," + fixed(ScenarioGeo.lat($0), 6) + "]" }
                .joined(separator: ",") + "]]"
        }
        func feature(_ properties: JSONLine, _ points: [Point]) -> String {
            "{\"type\":\"Feature\",\"properties\":" + properties.text
                + ",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":" + ring(points) + "}}"
        }
        var features: [String] = []
        for s in world.sites {
            var p = JSONLine()
            p.add("id", s.id)
            p.add("kind", s.kind.rawValue)
            p.add("name", s.name)
            p.add("camera", s.camera)
            features.append(feature(p, s.ring))
            if let washId = s.washId {
                var w = JSONLine()
                w.add("id", washId)
                w.add("kind", "wash")
                w.add("name", s.washName)
                w.add("site", s.id)
                features.append(feature(w, s.washRing))
            }
        }
        return "{\"type\":\"FeatureCollection\",\"features\":[\n" + features.joined(separator: ",\n") + "\n]}\n"
    }

    /// The planted items with the feed's line numbers filled in.
    public func withLines(_ summary: ScenarioSummary) -> (violations: [PlantedViolation], bad: [PlantedBadMessage],
                                                          duplicates: [PlantedDuplicate]) {
        var v = violations, b = badMessages, d = duplicates
        for i in v.indices { v[i].line = v[i].tag.flatMap { summary.lineOf[$0] } }
        for i in b.indices { b[i].line = summary.lineOf[b[i].tag] }
        for i in d.indices { d[i].line = summary.lineOf[d[i].tag] }
        return (v, b, d)
    }

    /// `planted.json`: what the feed holds and what replaying it must give.
    public func manifestJSON(_ summary: ScenarioSummary) -> String {
        let (violations, bad, duplicates) = withLines(summary)
        func local(_ i: Instant) -> String { RFC3339.format(i, offsetSeconds: Clock.offset) }
        func utc(_ i: Instant) -> String { RFC3339.format(i, offsetSeconds: 0) }
        func counts(_ keys: [String], _ values: [String: Int]) -> JSONLine {
            var o = JSONLine()
            for k in keys where values[k, default: 0] > 0 { o.add(k, values[k]!) }
            return o
        }
        func array(_ items: [JSONLine]) -> String {
            items.isEmpty ? "[]" : "[\n    " + items.map(\.text).joined(separator: ",\n    ") + "\n  ]"
        }

        var opts = JSONLine()
        opts.add("trucks", options.trucks)
        opts.add("hours", options.hours)
        opts.add("seed", String(options.seed))
        opts.add("start", utc(options.start))
        opts.add("fume_monitors", options.fumeMonitors)
        opts.add("report_interval_s", options.reportIntervalS)
        var window = JSONLine()
        window.add("from", utc(options.start))
        window.add("to", utc(world.instant(world.duration)))
        var messages = JSONLine()
        messages.add("lines", summary.lines)
        for k in ScenarioSummary.kinds { messages.add(k, summary.byKind[k, default: 0]) }

        let rules = Array(Set(incidents.map(\.rule))).sorted()
        var byRule: [String: Int] = [:]
        for i in incidents { byRule[i.rule, default: 0] += 1 }
        var reasons: [String: Int] = [:]
        for b in bad { reasons[b.reason.rawValue, default: 0] += 1 }
        var expected = JSONLine()
        expected.add("alerts", incidents.count)
        expected.add("alerts_by_rule", object: counts(rules, byRule))
        expected.add("firing", violations.filter(\.alertExpected).count)
        expected.add("near_misses", violations.filter { !$0.alertExpected }.count)
        expected.add("dead_letters", object: counts(DeadLetterReason.allCases.map(\.rawValue), reasons))
        expected.add("duplicates", duplicates.count)

        let incidentLines = incidents.map { i -> JSONLine in
            var o = JSONLine()
            o.add("id", i.id)
            o.add("rule", i.rule)
            o.add("severity", i.severity)
            o.add("subject_kind", i.subjectKind)
            o.add("subject", i.subjectId)
            o.add("plate", i.plate)
            o.add("first_signal", local(i.firstSignal))
            o.add("last_signal", local(i.lastSignal))
            o.add("signals", i.signals)
            o.add("planted", i.planted)
            o.add("prior_incidents", i.priorIncidents)
            o.add("suggested_action", i.suggestedAction)
            if !i.candidates.isEmpty { o.add("candidates", i.candidates) }
            return o
        }
        let plantedLines = violations.map { v -> JSONLine in
            var o = JSONLine()
            o.add("id", v.id)
            o.add("kind", v.kind)
            o.add("rule", v.rule)
            o.addBool("alert_expected", v.alertExpected)
            o.add("expected_signals", v.expectedSignals)
            o.add("incident", v.incident)
            o.add("device", v.device)
            o.add("plate", v.plate)
            o.add("source", v.source)
            o.add("from", local(v.from))
            o.add("to", local(v.to))
            o.add("confidence", v.confidence)
            o.add("topic", v.topic)
            o.add("t", v.t.map(utc))
            o.add("line", v.line)
            o.add("note", v.note)
            return o
        }
        let duplicateLines = duplicates.map { d -> JSONLine in
            var o = JSONLine()
            o.add("id", d.id)
            o.add("of", d.of)
            o.add("topic", d.topic)
            o.add("t", utc(d.t))
            o.add("line", d.line)
            o.add("note", "QoS 1 redelivery: the same bytes again; recognised, not processed twice")
            return o
        }
        let badLines = bad.map { b -> JSONLine in
            var o = JSONLine()
            o.add("id", b.id)
            o.add("dead_letter", b.reason.rawValue)
            o.add("topic", b.topic)
            o.add("t", utc(b.t))
            o.add("line", b.line)
            if b.binary { o.addBool("binary", true) }
            o.add("note", b.note)
            return o
        }
        var out = "{\n"
        out += "  \"generator\": \"muckwatch scenario\",\n"
        out += "  \"command\": " + JSONLine.quoted(options.commandLine) + ",\n"
        out += "  \"options\": " + opts.text + ",\n"
        out += "  \"window\": " + window.text + ",\n"
        out += "  \"times\": \"from/to/first_signal/last_signal are device time (payload ts) at +08:00; t is receive time as in the feed\",\n"
        out += "  \"messages\": " + messages.text + ",\n"
        out += "  \"expected\": " + expected.text + ",\n"
        out += "  \"rules_covered\": [" + rulesCovered.map { JSONLine.quoted($0) }.joined(separator: ",") + "],\n"
        out += "  \"incidents\": " + array(incidentLines) + ",\n"
        out += "  \"planted\": " + array(plantedLines) + ",\n"
        out += "  \"duplicates\": " + array(duplicateLines) + ",\n"
        out += "  \"bad_messages\": " + array(badLines) + "\n"
        out += "}\n"
        return out
    }

    /// The rules of SPEC §6 with at least one expected incident, in §6's order.
    public var rulesCovered: [String] {
        let rules = Set(incidents.map(\.rule))
        return RuleSettings.allRules.filter { rules.contains($0) }
    }

    /// One line for people: messages by kind, what was planted.
    public func summaryLine(_ summary: ScenarioSummary) -> String {
        let kinds = ScenarioSummary.kinds.map { "\($0) \(summary.byKind[$0, default: 0])" }.joined(separator: ", ")
        var byRule: [String: Int] = [:]
        for i in incidents { byRule[i.rule, default: 0] += 1 }
        let rules = byRule.keys.sorted().map { "\($0) \(byRule[$0]!)" }.joined(separator: ", ")
        let firing = violations.filter(\.alertExpected).count
        return "scenario: \(summary.lines) lines (\(kinds)); planted \(violations.count): \(firing) firing as "
            + "\(incidents.count) alerts (\(rules)), \(violations.count - firing) near-misses that must not; "
            + "\(badMessages.count) bad messages, \(duplicates.count) redelivered"
    }
}

extension JSONLine {
    /// A JSON string literal.
    static func quoted(_ s: String) -> String {
        var out = ""
        quote(s, into: &out)
        return out
    }
}
