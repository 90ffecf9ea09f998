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
        var wildcards: [Substring] = []
        return walk(topic) { wildcards.append($0) } ? wildcards : nil
    }

    /// Whether `topic` matches, and the first `+` level's value. The hot
    /// path of routing: it walks the topic's bytes without splitting it.
    func firstWildcard(_ topic: String) -> (matched: Bool, value: Substring?) {
        var first: Substring?
        let matched = walk(topic) { if first == nil { first = $0 } }
        return (matched, first)
    }

    /// Matches level by level, handing each `+` level's value to `wildcard`.
    private func walk(_ topic: String, wildcard: (Substring) -> Void) -> Bool {
        let utf8 = topic.utf8
        var start = utf8.startIndex
        var atEnd = false
        for level in levels {
            if level == "#" { return true }
            if atEnd { return false }
            let end = utf8[start...].firstIndex(of: UInt8(ascii: "/")) ?? utf8.endIndex
            let part = utf8[start..<end]
            if level == "+" {
                wildcard(Substring(part))
            } else if !level.utf8.elementsEqual(part) {
                // Bytes, not Unicode equivalence: MQTT compares topics byte for byte.
                return false
            }
            if end == utf8.endIndex { atEnd = true } else { start = utf8.index(after: end) }
        }
        return atEnd
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
            let (matched, device) = r.filter.firstWildcard(topic)
            if matched { return (r.kind, device.flatMap { $0.isEmpty ? nil : String($0) }) }
        }
        return nil
    }
}
