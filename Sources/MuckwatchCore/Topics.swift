/// What a topic carries, by the filter it matched.
public enum PayloadKind: String, Sendable, CaseIterable {
    case truckTelemetry = "truck_telemetry"
    case fumeReading = "fume_reading"
    case cameraEvent = "camera_event"
    case droneTelemetry = "drone_telemetry"
    case droneEvent = "drone_event"
}

/// An MQTT topic filter (`+` one level, `#` the rest).
public struct TopicFilter: Sendable, Hashable, CustomStringConvertible {
    public let text: String
    private let levels: [Substring]

    public init(_ text: String) {
        self.text = text
        self.levels = text.split(separator: "/", omittingEmptySubsequences: false)
    }

    public var description: String { text }

    /// Why the filter is not a valid MQTT subscription filter, or nil.
    public var problem: String? {
        if text.isEmpty { return "is empty" }
        for (i, level) in levels.enumerated() {
            if level.contains("#") && (level != "#" || i != levels.count - 1) {
                return "uses '#' other than as the whole last level"
            }
            if level.contains("+") && level != "+" { return "uses '+' other than as a whole level" }
        }
        return nil
    }

    /// The values of the `+` levels if `topic` matches, else nil.
    public func match(_ topic: String) -> [Substring]? {
        let parts = topic.split(separator: "/", omittingEmptySubsequences: false)
        var wildcards: [Substring] = []
        for (i, level) in levels.enumerated() {
            if level == "#" { return wildcards }
            guard i < parts.count else { return nil }
            if level == "+" {
                wildcards.append(parts[i])
            } else if level != parts[i] {
                return nil
            }
        }
        return parts.count == levels.count ? wildcards : nil
    }
}

/// The configured filters and what each carries.
public struct TopicRoutes: Sendable {
    public var routes: [(filter: TopicFilter, kind: PayloadKind)]

    public init(_ routes: [(TopicFilter, PayloadKind)]) {
        self.routes = routes.map { (filter: $0.0, kind: $0.1) }
    }

    public static let defaults = TopicRoutes([
        (TopicFilter("muckwatch/v1/truck/+/telemetry"), .truckTelemetry),
        (TopicFilter("muckwatch/v1/fume/+/reading"), .fumeReading),
        (TopicFilter("muckwatch/v1/camera/+/event"), .cameraEvent),
        (TopicFilter("muckwatch/v1/drone/+/telemetry"), .droneTelemetry),
        (TopicFilter("muckwatch/v1/drone/+/event"), .droneEvent),
    ])

    /// The payload kind and the default device id (the first `+` level).
    public func route(_ topic: String) -> (kind: PayloadKind, deviceFromTopic: String?)? {
        for r in routes {
            if let wildcards = r.filter.match(topic) {
                return (r.kind, wildcards.first.map(String.init).flatMap { $0.isEmpty ? nil : $0 })
            }
        }
        return nil
    }
}
