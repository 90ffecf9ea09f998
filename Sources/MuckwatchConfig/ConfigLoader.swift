import Foundation
import MuckwatchCore
import Yams

extension MuckwatchConfiguration {
    /// Reads and validates a config file. Throws one `ConfigError` for the
    /// first problem found.
    public static func load(path: String) throws(ConfigError) -> MuckwatchConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(file: path, line: nil, key: "", problem: "cannot be read: \(Self.reason(error))")
        }
        return try parse(yaml: text, file: path)
    }

    public static func parse(yaml: String, file: String? = nil) throws(ConfigError) -> MuckwatchConfiguration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigError(file: file, line: Self.line(of: error), key: "", problem: "is not valid YAML: \(Self.problem(of: error))")
        } catch {
            throw ConfigError(file: file, line: nil, key: "", problem: "is not valid YAML: \(error)")
        }
        var config = MuckwatchConfiguration()
        config.source = file
        guard let root else { return config }  // an empty file means all defaults
        let top = try Section(root, path: "", file: file)
        try config.read(top)
        return config
    }

    private mutating func read(_ top: Section) throws(ConfigError) {
        try top.allow(["broker", "topics", "store", "alerts", "timezone", "cases", "rules", "registry", "media", "protocols", "limits"])

        if let b = try top.section("broker") {
            try b.allow(["url", "client_id", "keepalive_s", "reconnect_min_s", "reconnect_max_s",
                         "username", "password", "password_file", "tls"])
            if let url = try b.string("url") {
                do { try broker.apply(url: url) } catch { throw b.error("url", error.problem) }
            }
            if let id = try b.string("client_id") {
                guard !id.isEmpty, id.utf8.count <= 65_535 else { throw b.error("client_id", "must not be empty") }
                broker.clientId = id
            }
            broker.keepaliveS = try b.int("keepalive_s", in: 5...3600) ?? broker.keepaliveS
            broker.reconnectMinS = try b.int("reconnect_min_s", in: 1...3600) ?? broker.reconnectMinS
            broker.reconnectMaxS = try b.int("reconnect_max_s", in: 1...86_400) ?? broker.reconnectMaxS
            if broker.reconnectMaxS < broker.reconnectMinS {
                throw b.error("reconnect_max_s", "must not be below reconnect_min_s")
            }
            broker.username = try b.string("username")
            broker.password = try b.string("password")
            if let file = try b.string("password_file") {
                do {
                    let text = try String(contentsOfFile: file, encoding: .utf8)
                    broker.password = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
                } catch {
                    throw b.error("password_file", "names a file that cannot be read: \(Self.reason(error))")
                }
            }
            if broker.password != nil && broker.username == nil {
                throw b.error("password", "is set but 'broker.username' is not")
            }
            if let tls = try b.section("tls") {
                try tls.allow(["ca_file", "cert_file", "key_file"])
                broker.caFile = try tls.existingFile("ca_file")
                broker.certFile = try tls.existingFile("cert_file")
                broker.keyFile = try tls.existingFile("key_file")
                if (broker.certFile == nil) != (broker.keyFile == nil) {
                    throw tls.error(broker.certFile == nil ? "cert_file" : "key_file",
                                    "is needed too: a client certificate needs both cert_file and key_file")
                }
                broker.useTLS = true
            }
        }

        if let t = try top.section("topics") {
            try t.allow(Set(PayloadKind.allCases.map(\.rawValue)))
            var routes: [(kind: PayloadKind, filter: TopicFilter)] = []
            for kind in PayloadKind.allCases {
                let filter = TopicFilter(try t.string(kind.rawValue) ?? defaultFilter(kind).text)
                if let problem = filter.problem { throw t.error(kind.rawValue, problem) }
                routes.append((kind, filter))
            }
            topics = routes
        }

        if let m = try top.section("media") {
            try m.allow(["roots", "protocols", "workers", "queue", "open_timeout_s", "read_timeout_s"])
            if let roots = try m.strings("roots") {
                guard !roots.isEmpty else { throw m.error("roots", "must name at least one folder") }
                media.roots = roots
            }
            if let protocols = try m.strings("protocols") {
                let allowed: Set<String> = ["file", "rtsp", "rtmp", "rtmps", "srt", "http", "https", "tcp", "udp", "tls", "rtp"]
                for p in protocols where !allowed.contains(p.lowercased()) {
                    throw m.error("protocols", "lists '\(p)'; allowed are \(allowed.sorted().joined(separator: ", "))")
                }
                media.protocols = protocols.map { $0.lowercased() }
            }
            media.workers = try m.int("workers", in: 1...32) ?? media.workers
            media.queue = try m.int("queue", in: 1...10_000) ?? media.queue
            media.openTimeoutS = try m.double("open_timeout_s", in: 0.1...600) ?? media.openTimeoutS
            media.readTimeoutS = try m.double("read_timeout_s", in: 0.1...600) ?? media.readTimeoutS
        }

        if let s = try top.section("store") {
            try s.allow(["path", "wal_limit_mb"])
            storePath = try s.string("path") ?? storePath
            storeWALLimitMB = try s.int("wal_limit_mb", in: 0...1_000_000) ?? storeWALLimitMB
        }
        if let a = try top.section("alerts") {
            try a.allow(["log"])
            alertLogPath = try a.string("log") ?? alertLogPath
        }
        if let tz = try top.string("timezone") {
            guard Self.utcOffset(tz) != nil else {
                throw top.error("timezone", "'\(tz)' is not a time zone name (like Asia/Shanghai) or an offset (like +08:00)")
            }
            timezone = tz
        }
        pipeline.incidents.utcOffsetSeconds = Self.utcOffset(timezone) ?? UTCOffset.chinaStandardTime

        if let c = try top.section("cases") {
            try c.allow(["verification_deadline_h", "incident_window_s"])
            pipeline.incidents.verificationDeadlineH =
                try c.double("verification_deadline_h", in: 1...24 * 365) ?? pipeline.incidents.verificationDeadlineH
            pipeline.incidents.windowS = try c.double("incident_window_s", in: 1...86_400) ?? pipeline.incidents.windowS
        }

        if let r = try top.section("rules") { try readRules(r) }
        if let reg = try top.section("registry") { try readRegistry(reg) }
        if let p = try top.section("protocols") { pipeline.protocols = try Self.readProtocols(p) }
        if let l = try top.section("limits") { try readLimits(l) }
    }

    private mutating func readLimits(_ l: Section) throws(ConfigError) {
        try l.allow(["device_idle_s", "max_payload_bytes", "max_device_id_bytes"])
        var limits = pipeline.limits
        // Below 4 KiB the kept head of a too-large payload would be the whole limit.
        limits.maxPayloadBytes = try l.int("max_payload_bytes", in: 4096...268_435_455) ?? limits.maxPayloadBytes
        limits.maxDeviceIdBytes = try l.int("max_device_id_bytes", in: 8...1024) ?? limits.maxDeviceIdBytes
        if let idle = try l.double("device_idle_s", in: 600...30 * 86_400) {
            // State is dropped only once no rule could still use it.
            let r = pipeline.rules
            let longest = [("rules.device_silent.silence_s", r.deviceSilent.silenceS),
                           ("rules.fume_exceedance.window_s", r.fumeExceedance.windowS),
                           ("rules.purifier_off.min_duration_s", r.purifierOff.minDurationS),
                           ("rules.uncovered_load.min_duration_s", r.uncoveredLoad.minDurationS),
                           ("rules.spill.drop_window_s", r.spill.dropWindowS),
                           ("cases.incident_window_s", pipeline.incidents.windowS)].max { $0.1 < $1.1 }!
            guard idle > longest.1 else {
                throw l.error("device_idle_s", "is \(Self.whole(idle)), not above \(longest.0) (\(Self.whole(longest.1))): a device's state must outlive every rule's window")
            }
            limits.deviceIdleS = idle
        }
        pipeline.limits = limits
    }

    private static func whole(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v) }

    private mutating func readRules(_ r: Section) throws(ConfigError) {
        try r.allow(Set(RuleSettings.allRules + ["enabled", "geofence", "attribution"]))
        var rules = pipeline.rules
        if let enabled = try r.strings("enabled") {
            for name in enabled where !RuleSettings.allRules.contains(name) {
                throw r.error("enabled", "lists '\(name)'; the rules are \(RuleSettings.allRules.joined(separator: ", "))")
            }
            rules.enabled = Set(enabled)
        }
        if let g = try r.section("geofence") {
            try g.allow(["dwell_s"])
            rules.geofence.dwellS = try g.double("dwell_s", in: 0...3600) ?? rules.geofence.dwellS
        }
        if let a = try r.section("attribution") {
            try a.allow(["radius_m", "lookback_s"])
            rules.attribution.radiusM = try a.double("radius_m", in: 1...5000) ?? rules.attribution.radiusM
            rules.attribution.lookbackS = try a.double("lookback_s", in: 1...86_400) ?? rules.attribution.lookbackS
        }
        /// A rule's section: its own keys plus the case texts every rule has.
        func section(_ name: String, _ keys: Set<String>) throws(ConfigError) -> Section? {
            guard let s = try r.section(name) else { return nil }
            try s.allow(keys.union(["legal_basis", "penalty"]))
            if let text = try s.string("legal_basis") { pipeline.incidents.legalBasis[name] = text }
            if let text = try s.string("penalty") { pipeline.incidents.penalty[name] = text }
            return s
        }
        if let u = try section("uncovered_load", ["min_speed_kmh", "min_duration_s", "min_confidence"]) {
            rules.uncoveredLoad.minSpeedKmh = try u.double("min_speed_kmh", in: 0...200) ?? rules.uncoveredLoad.minSpeedKmh
            rules.uncoveredLoad.minDurationS = try u.double("min_duration_s", in: 0...3600) ?? rules.uncoveredLoad.minDurationS
            rules.uncoveredLoad.minConfidence = try u.double("min_confidence", in: 0...1) ?? rules.uncoveredLoad.minConfidence
        }
        if let s = try section("spill", ["min_confidence", "min_drop_kg", "drop_window_s", "min_speed_kmh"]) {
            rules.spill.minConfidence = try s.double("min_confidence", in: 0...1) ?? rules.spill.minConfidence
            rules.spill.minDropKg = try s.double("min_drop_kg", in: 1...100_000) ?? rules.spill.minDropKg
            rules.spill.dropWindowS = try s.double("drop_window_s", in: 1...3600) ?? rules.spill.dropWindowS
            rules.spill.minSpeedKmh = try s.double("min_speed_kmh", in: 0...200) ?? rules.spill.minSpeedKmh
        }
        if let d = try section("illegal_dumping", ["min_loss_fraction", "max_speed_kmh"]) {
            rules.illegalDumping.minLossFraction = try d.double("min_loss_fraction", in: 0.01...1) ?? rules.illegalDumping.minLossFraction
            rules.illegalDumping.maxSpeedKmh = try d.double("max_speed_kmh", in: 0...200) ?? rules.illegalDumping.maxSpeedKmh
        }
        if let w = try section("unwashed_exit", ["min_wash_s", "min_visit_s", "min_confidence"]) {
            rules.unwashedExit.minVisitS = try w.double("min_visit_s", in: 0...86_400) ?? rules.unwashedExit.minVisitS
            rules.unwashedExit.minWashS = try w.double("min_wash_s", in: 0...3600) ?? rules.unwashedExit.minWashS
            rules.unwashedExit.minConfidence = try w.double("min_confidence", in: 0...1) ?? rules.unwashedExit.minConfidence
        }
        if let o = try section("off_hours", ["min_speed_kmh"]) {
            rules.offHours.minSpeedKmh = try o.double("min_speed_kmh", in: 0...200) ?? rules.offHours.minSpeedKmh
        }
        if let f = try section("fume_exceedance", ["limit_mg_m3", "window_s"]) {
            rules.fumeExceedance.limitMgM3 = try f.double("limit_mg_m3", in: 0...1000) ?? rules.fumeExceedance.limitMgM3
            rules.fumeExceedance.windowS = try f.double("window_s", in: 1...86_400) ?? rules.fumeExceedance.windowS
        }
        if let p = try section("purifier_off", ["min_duration_s"]) {
            rules.purifierOff.minDurationS = try p.double("min_duration_s", in: 0...86_400) ?? rules.purifierOff.minDurationS
        }
        if let d = try section("device_silent", ["silence_s", "min_speed_kmh"]) {
            rules.deviceSilent.silenceS = try d.double("silence_s", in: 1...86_400) ?? rules.deviceSilent.silenceS
            rules.deviceSilent.minSpeedKmh = try d.double("min_speed_kmh", in: 0...200) ?? rules.deviceSilent.minSpeedKmh
        }
        pipeline.rules = rules
    }

    private mutating func readRegistry(_ reg: Section) throws(ConfigError) {
        try reg.allow(["companies", "trucks", "sites", "cameras", "fume_monitors"])
        let offset = pipeline.incidents.utcOffsetSeconds

        var companies: [Company] = []
        var companyIds = Set<String>()
        for c in try reg.list("companies") ?? [] {
            try c.allow(["id", "name"])
            guard let id = try c.string("id") else { throw c.error("id", "is required for every company") }
            guard companyIds.insert(id).inserted else { throw c.error("id", "'\(id)' is listed twice") }
            companies.append(Company(id: id, name: try c.string("name") ?? id))
        }

        var trucks: [RegisteredTruck] = []
        var seenDevices = Set<String>(), seenPlates = Set<String>(), seenPhones = Set<String>()
        for t in try reg.list("trucks") ?? [] {
            try t.allow(["device", "plate", "company", "empty_kg", "phone", "permit", "permitted_hours"])
            guard let device = try t.string("device") else { throw t.error("device", "is required for every truck") }
            guard seenDevices.insert(device).inserted else { throw t.error("device", "'\(device)' is listed twice") }
            let plate = try t.string("plate").map(Plate.normalize)
            if let plate, !seenPlates.insert(plate).inserted { throw t.error("plate", "'\(plate)' is listed twice") }
            var company = try t.string("company")
            if let name = company, !companies.isEmpty {
                guard let c = companies.first(where: { $0.id == name || $0.name == name }) else {
                    throw t.error("company", "'\(name)' is not in registry.companies (by id or name)")
                }
                company = c.name
            }
            let phone = try t.string("phone")
            if let phone {
                guard !phone.isEmpty, phone.count <= 20, phone.allSatisfy(\.isASCII), phone.allSatisfy(\.isNumber) else {
                    throw t.error("phone", "'\(phone)' should be the terminal's phone number, digits only (quote it to keep leading zeros)")
                }
                guard seenPhones.insert(phone).inserted else { throw t.error("phone", "'\(phone)' is listed twice") }
            }
            var truck = RegisteredTruck(device: device, plate: plate, company: company,
                                        emptyKg: try t.double("empty_kg", in: 0...200_000), phone: phone)
            if let permit = try t.section("permit") {
                try permit.allow(["from", "until"])
                truck.permitFrom = try permit.localDate("from", offsetSeconds: offset)
                truck.permitUntil = try permit.localDate("until", offsetSeconds: offset)
                if let from = truck.permitFrom, let until = truck.permitUntil, until <= from {
                    throw permit.error("until", "is not after 'from'")
                }
            }
            for text in try t.strings("permitted_hours") ?? [] {
                guard let window = Self.dailyWindow(text) else {
                    throw t.error("permitted_hours", "has '\(text)'; write local times like \"22:00-06:00\"")
                }
                truck.permittedHours.append(window)
            }
            trucks.append(truck)
        }

        var sites: [Site] = []
        if let s = try reg.section("sites") {
            try s.allow(["file", "coordinates"])
            guard let file = try s.string("file") else { throw s.error("file", "is required: the GeoJSON file with the sites' polygons") }
            let crs = try s.string("coordinates") ?? "wgs84"
            guard crs == "wgs84" || crs == "gcj02" else {
                throw s.error("coordinates", "is '\(crs)'; it should be wgs84 or gcj02 (what Chinese web maps draw in)")
            }
            sites = try Self.loadSites(path: resolve(file, key: s), gcj02: crs == "gcj02", section: s)
        }

        var cameras: [RegisteredCamera] = []
        var cameraIds = Set<String>()
        for c in try reg.list("cameras") ?? [] {
            try c.allow(["id", "site", "lat", "lon"])
            guard let id = try c.string("id") else { throw c.error("id", "is required for every camera") }
            guard cameraIds.insert(id).inserted else { throw c.error("id", "'\(id)' is listed twice") }
            let site = try c.string("site")
            if let site, !sites.contains(where: { $0.id == site }) {
                throw c.error("site", "'\(site)' is not a site in registry.sites")
            }
            let lat = try c.double("lat", in: -90...90), lon = try c.double("lon", in: -180...180)
            if (lat == nil) != (lon == nil) { throw c.error(lat == nil ? "lat" : "lon", "is needed too: a position needs both lat and lon") }
            cameras.append(RegisteredCamera(id: id, site: site, point: lat.map { GeoPoint(lat: $0, lon: lon!) }))
        }

        var monitors: [FumeMonitor] = []
        var monitorIds = Set<String>()
        for m in try reg.list("fume_monitors") ?? [] {
            try m.allow(["id", "restaurant", "address", "purifier_class"])
            guard let id = try m.string("id") else { throw m.error("id", "is required for every fume monitor") }
            guard monitorIds.insert(id).inserted else { throw m.error("id", "'\(id)' is listed twice") }
            guard let restaurant = try m.string("restaurant") else { throw m.error("restaurant", "is required: the party a case is about") }
            let size = try m.string("purifier_class")
            if let size, !["small", "medium", "large"].contains(size) {
                throw m.error("purifier_class", "is '\(size)'; GB 18483 classes are small, medium, large")
            }
            monitors.append(FumeMonitor(id: id, restaurant: restaurant, address: try m.string("address"), purifierClass: size))
        }
        pipeline.registry = Registry(trucks: trucks, companies: companies, sites: sites, cameras: cameras, monitors: monitors)
    }

    /// A path in the config, relative to the config file's folder.
    private func resolve(_ path: String, key: Section) -> String {
        if path.hasPrefix("/") { return path }
        guard let source else { return path }
        return URL(fileURLWithPath: source).deletingLastPathComponent().appendingPathComponent(path).path
    }

    /// `HH:MM-HH:MM` as a daily window.
    static func dailyWindow(_ text: String) -> DailyWindow? {
        let parts = text.split(separator: "-").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2 else { return nil }
        func minute(_ s: String) -> Int? {
            let hm = s.split(separator: ":")
            guard hm.count == 2, let h = Int(hm[0]), let m = Int(hm[1]), (0...24).contains(h), (0..<60).contains(m),
                  h * 60 + m <= 1440 else { return nil }
            return h * 60 + m
        }
        guard let a = minute(parts[0]), let b = minute(parts[1]), a != b else { return nil }
        return DailyWindow(startMinute: a % 1440, endMinute: b == 1440 ? 1440 : b)
    }

    private func defaultFilter(_ kind: PayloadKind) -> TopicFilter {
        TopicRoutes.defaults.routes.first { $0.kind == kind }!.filter
    }

    /// Seconds east of UTC for `Asia/Shanghai`-style names or `+08:00` offsets.
    public static func utcOffset(_ zone: String) -> Int? {
        if let first = zone.first, first == "+" || first == "-" || zone == "Z" || zone == "UTC" {
            if zone == "Z" || zone == "UTC" { return 0 }
            return RFC3339.parse("1970-01-01T00:00:00" + zone).map { -Int($0.millis / 1000) }
        }
        return TimeZone(identifier: zone)?.secondsFromGMT()
    }

    private static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return ns.localizedDescription
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: nil
        }
    }

    private static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _): problem
        default: "\(error)"
        }
    }
}

/// A YAML mapping being read, with its dotted path for error messages.
struct Section {
    let mapping: Node.Mapping
    let line: Int?
    let path: String
    let file: String?

    init(_ node: Node, path: String, file: String?) throws(ConfigError) {
        guard let mapping = node.mapping else {
            throw ConfigError(file: file, line: node.mark?.line, key: path, problem: "should be a mapping of keys to values")
        }
        self.mapping = mapping
        self.line = node.mark?.line
        self.path = path
        self.file = file
    }

    private func full(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private func node(_ key: String) -> Node? {
        mapping.first { $0.key.string == key }?.value
    }

    func error(_ key: String, _ problem: String) -> ConfigError {
        ConfigError(file: file, line: node(key)?.mark?.line ?? line, key: full(key), problem: problem)
    }

    func allow(_ keys: Set<String>) throws(ConfigError) {
        for (k, _) in mapping {
            let name = k.string ?? "?"
            if !keys.contains(name) {
                throw ConfigError(file: file, line: k.mark?.line, key: full(name),
                                  problem: "is not a known setting (known here: \(keys.sorted().joined(separator: ", ")))")
            }
        }
    }

    private func scalar(_ key: String, _ expected: String) throws(ConfigError) -> Node.Scalar? {
        guard let n = node(key) else { return nil }
        if n.null != nil { return nil }
        guard let s = n.scalar else { throw error(key, "should be \(expected)") }
        return s
    }

    func string(_ key: String) throws(ConfigError) -> String? {
        try scalar(key, "text")?.string
    }

    func double(_ key: String, in range: ClosedRange<Double>) throws(ConfigError) -> Double? {
        guard let s = try scalar(key, "a number") else { return nil }
        guard let v = Double.construct(from: s), s.style == .plain else { throw error(key, "should be a number, not '\(s.string)'") }
        guard range.contains(v) else { throw error(key, "is \(s.string), outside \(range.lowerBound)...\(range.upperBound)") }
        return v
    }

    func int(_ key: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int? {
        guard let s = try scalar(key, "a whole number") else { return nil }
        guard let v = Int.construct(from: s), s.style == .plain else { throw error(key, "should be a whole number, not '\(s.string)'") }
        guard range.contains(v) else { throw error(key, "is \(v), outside \(range.lowerBound)...\(range.upperBound)") }
        return v
    }

    func existingFile(_ key: String) throws(ConfigError) -> String? {
        guard let path = try string(key) else { return nil }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw error(key, "names '\(path)', which does not exist or cannot be read")
        }
        return path
    }

    /// A local date (`2026-01-01`) as the instant its day starts.
    func localDate(_ key: String, offsetSeconds: Int) throws(ConfigError) -> Instant? {
        guard let text = try string(key) else { return nil }
        guard text.count == 10, let day = RFC3339.parse(text + "T00:00:00Z") else {
            throw error(key, "is '\(text)'; write a date like 2026-01-01")
        }
        return day.adding(seconds: -Double(offsetSeconds))
    }

    func section(_ key: String) throws(ConfigError) -> Section? {
        guard let n = node(key), n.null == nil else { return nil }
        return try Section(n, path: full(key), file: file)
    }

    /// A list of text values (`roots: [/a, /b]`).
    func strings(_ key: String) throws(ConfigError) -> [String]? {
        guard let n = node(key), n.null == nil else { return nil }
        guard let seq = n.sequence else { throw error(key, "should be a list") }
        var out: [String] = []
        for item in seq {
            guard let text = item.scalar?.string else { throw error(key, "should be a list of text values") }
            out.append(text)
        }
        return out
    }

    func list(_ key: String) throws(ConfigError) -> [Section]? {
        guard let n = node(key), n.null == nil else { return nil }
        guard let seq = n.sequence else { throw error(key, "should be a list") }
        var out: [Section] = []
        for (i, item) in seq.enumerated() {
            out.append(try Section(item, path: "\(full(key))[\(i)]", file: file))
        }
        return out
    }
}
