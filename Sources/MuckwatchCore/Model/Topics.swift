/// What a topic carries, by the filter it matched.
public enum PayloadKind: String, Sendable, CaseIterable {
    case truckTelemetry = "truck_telemetry"
    case fumeReading = "fume_reading"
    case cameraEvent = "camera_event"
    case droneTelemetry = "drone_telemetry"
    case droneEvent = "drone_event"
    case videoSegment = "video_segment"
    /// Raw JT/T 808 frames from tracker gateways.
    case jt808
    /// Raw HJ 212 packets from fume and dust monitors.
    case hj212
    /// DJI Cloud API OSD from docks and remote controllers.
    case djiOSD = "dji_osd"
}

/// An MQTT topic filter (`+` one level, `#` the rest).
public struct TopicFilter: Sendable, Hashable, CustomStringConvertible {
    public let text: String
    private let levels: [Substring]
    private let levelBytes: [[UInt8]]

    public init(_ text: String) {
        self.text = text
        self.levels = text.split(separator: "/", omittingEmptySubsequences: false)
        self.levelBytes = levels.map { Array($0.utf8) }
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

    /// A topic this filter matches with `device` as its first `+` level
    /// (other wildcards become `value`).
    public func topic(device: String, others value: String = "video") -> String {
        var first = true
        return levels.map { level -> String in
            guard level == "+" || level == "#" else { return String(level) }
            defer { first = false }
            return level == "+" && first ? device : value
        }.joined(separator: "/")
    }

    /// The values of the `+` levels if `topic` matches, else nil.
    public func match(_ topic: String) -> [Substring]? {
        var ranges: [Range<Int>] = []
        guard walk(topic, wildcard: { ranges.append($0) }) else { return nil }
        let utf8 = Array(topic.utf8)
        return ranges.map { Substring(decoding: utf8[$0], as: UTF8.self) }
    }

    /// Whether `topic` matches, and the first `+` level's value: the hot
    /// path of routing, which matches bytes without splitting the topic.
    func firstWildcard(_ topic: String) -> (matched: Bool, value: String?) {
        var first: Range<Int>?
        var topic = topic
        return topic.withUTF8 { bytes in
            let matched = walk(bytes) { if first == nil { first = $0 } }
            return (matched, first.map { String(decoding: UnsafeBufferPointer(rebasing: bytes[$0]), as: UTF8.self) })
        }
    }

    private func walk(_ topic: String, wildcard: (Range<Int>) -> Void) -> Bool {
        var topic = topic
        return topic.withUTF8 { walk($0, wildcard: wildcard) }
    }

    /// Matches level by level, byte for byte (MQTT compares topics as bytes,
    /// not as Unicode), handing the byte range of each `+` level to `wildcard`.
    private func walk(_ topic: UnsafeBufferPointer<UInt8>, wildcard: (Range<Int>) -> Void) -> Bool {
        var start = 0
        var atEnd = false
        for level in levelBytes {
            if level.count == 1 && level[0] == UInt8(ascii: "#") { return true }
            if atEnd { return false }
            var end = start
            while end < topic.count && topic[end] != UInt8(ascii: "/") { end += 1 }
            if level.count == 1 && level[0] == UInt8(ascii: "+") {
                wildcard(start..<end)
            } else if level.count != end - start || !level.elementsEqual(topic[start..<end]) {
                return false
            }
            if end == topic.count { atEnd = true } else { start = end + 1 }
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
        (TopicFilter("muckwatch/v1/video/+/segment"), .videoSegment),
        (TopicFilter("jt808/+/up"), .jt808),
        (TopicFilter("hj212/+/up"), .hj212),
        (TopicFilter("thing/product/+/osd"), .djiOSD),
    ])

    /// The payload kind and the default device id (the first `+` level).
    public func route(_ topic: String) -> (kind: PayloadKind, deviceFromTopic: String?)? {
        for r in routes {
            let (matched, device) = r.filter.firstWildcard(topic)
            if matched { return (r.kind, device.flatMap { $0.isEmpty ? nil : $0 }) }
        }
        return nil
    }
}
