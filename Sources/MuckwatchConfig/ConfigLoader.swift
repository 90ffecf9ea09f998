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
        try top.allow(["broker", "topics", "store", "alerts", "timezone", "cases", "rules", "registry", "media"])

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
            try s.allow(["path"])
            storePath = try s.string("path") ?? storePath
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
        pipeline.incidents.utcOffsetSeconds = Self.utcOffset(timezone) ?? 8 * 3600

        if let c = try top.section("cases") {
            try c.allow(["verification_deadline_h", "incident_window_s"])
            pipeline.incidents.verificationDeadlineH =
                try c.double("verification_deadline_h", in: 1...24 * 365) ?? pipeline.incidents.verificationDeadlineH
            pipeline.incidents.windowS = try c.double("incident_window_s", in: 1...86_400) ?? pipeline.incidents.windowS
        }

        if let r = try top.section("rules") {
            try r.allow(["uncovered_load", "spill"])
            if let u = try r.section("uncovered_load") {
                try u.allow(["min_speed_kmh", "min_duration_s", "min_confidence", "legal_basis"])
                pipeline.uncoveredLoad.minSpeedKmh = try u.double("min_speed_kmh", in: 0...200) ?? pipeline.uncoveredLoad.minSpeedKmh
                pipeline.uncoveredLoad.minDurationS = try u.double("min_duration_s", in: 0...3600) ?? pipeline.uncoveredLoad.minDurationS
                pipeline.uncoveredLoad.minConfidence = try u.double("min_confidence", in: 0...1) ?? pipeline.uncoveredLoad.minConfidence
                pipeline.incidents.legalBasis["uncovered_load"] = try u.string("legal_basis")
            }
            if let s = try r.section("spill") {
                try s.allow(["min_confidence", "legal_basis"])
                pipeline.spillMinConfidence = try s.double("min_confidence", in: 0...1) ?? pipeline.spillMinConfidence
                pipeline.incidents.legalBasis["spill"] = try s.string("legal_basis")
            }
        }

        if let reg = try top.section("registry") {
            try reg.allow(["trucks"])
            var trucks: [RegisteredTruck] = []
            var seenDevices = Set<String>(), seenPlates = Set<String>()
            for t in try reg.list("trucks") ?? [] {
                try t.allow(["device", "plate", "company", "empty_kg"])
                guard let device = try t.string("device") else { throw t.error("device", "is required for every truck") }
                guard seenDevices.insert(device).inserted else { throw t.error("device", "'\(device)' is listed twice") }
                let plate = try t.string("plate")
                if let plate, !seenPlates.insert(plate).inserted { throw t.error("plate", "'\(plate)' is listed twice") }
                trucks.append(RegisteredTruck(device: device, plate: plate, company: try t.string("company"),
                                              emptyKg: try t.double("empty_kg", in: 0...200_000)))
            }
            pipeline.registry = Registry(trucks: trucks)
        }
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
private struct Section {
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
