// MuckwatchConfig owns the configuration file: its YAML shape, defaults, and
// validation that names the bad key and its line.
import Foundation
import MuckwatchCore

public struct BrokerSettings: Sendable, Equatable {
    public var host = "localhost"
    public var port = 1883
    public var useTLS = false
    public var clientId = "muckwatchd"
    public var keepaliveS = 30
    public var reconnectMinS = 1
    public var reconnectMaxS = 60
    public var username: String?
    public var password: String?
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?

    public init() {}

    /// `mqtt://host[:port]` or `mqtts://host[:port]`.
    public mutating func apply(url text: String) throws(ConfigError) {
        guard let url = URLComponents(string: text), let scheme = url.scheme,
              scheme == "mqtt" || scheme == "mqtts", let host = url.host, !host.isEmpty
        else {
            throw ConfigError(file: nil, line: nil, key: "broker.url",
                              problem: "'\(text)' is not a broker URL like mqtt://127.0.0.1:1883 or mqtts://host:8883")
        }
        if let port = url.port, !(1...65_535).contains(port) {
            throw ConfigError(file: nil, line: nil, key: "broker.url", problem: "'\(text)' has port \(port), outside 1...65535")
        }
        self.host = host
        self.useTLS = scheme == "mqtts"
        self.port = url.port ?? (useTLS ? 8883 : 1883)
    }

    public var url: String { "\(useTLS ? "mqtts" : "mqtt")://\(host):\(port)" }
}

/// Which videos the daemon opens, and with how much effort.
public struct MediaSettings: Sendable, Equatable {
    /// Local files must lie (after symlinks) in one of these folders.
    public var roots = ["./var/media"]
    /// libavformat protocols allowed besides local files: rtsp, rtmp, srt, http(s), ...
    public var protocols = ["file"]
    /// Videos demuxed at once, on threads of their own.
    public var workers = 2
    /// Videos taken from the store at a time for the workers.
    public var queue = 64
    public var openTimeoutS = 15.0
    public var readTimeoutS = 10.0

    public init() {}
}

/// Everything the daemon and the CLI read from the config file.
public struct MuckwatchConfiguration: Sendable {
    public var broker = BrokerSettings()
    public var topics: [(kind: PayloadKind, filter: TopicFilter)] =
        TopicRoutes.defaults.routes.map { (kind: $0.kind, filter: $0.filter) }
    public var storePath = "./var/muckwatch.db"
    /// The daemon's WAL is started over between pipeline batches once past
    /// half of this many MB, even under load; 0: the default, 64 MB (see `SQLiteStore`).
    public var storeWALLimitMB = 0
    public var alertLogPath = "./var/alerts.jsonl"
    public var timezone = "Asia/Shanghai"
    public var pipeline = PipelineSettings()

    /// The configured `timezone`'s offset from UTC, as the loader worked it
    /// out once: for printed times, case-id dates and DJI SRT local times.
    public var utcOffsetSeconds: Int { pipeline.incidents.utcOffsetSeconds }
    public var media = MediaSettings()
    /// The file it was read from, if any.
    public var source: String?

    public init() {}

    /// The settings the pipeline runs with, topics included.
    public var pipelineSettings: PipelineSettings {
        var s = pipeline
        s.routes = TopicRoutes(topics.map { ($0.filter, $0.kind) })
        return s
    }
}

/// A problem with the configuration, located as precisely as the file allows.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String?
    public var line: Int?
    public var key: String
    public var problem: String

    public init(file: String?, line: Int?, key: String, problem: String) {
        self.file = file
        self.line = line
        self.key = key
        self.problem = problem
    }

    public var description: String {
        var place = file ?? "config"
        if let line { place += ", line \(line)" }
        return key.isEmpty ? "\(place): \(problem)" : "\(place): '\(key)' \(problem)"
    }
}
