import Foundation
import MuckwatchCore

// MARK: - Streams

struct ScenarioMessage {
    enum Kind: String, CaseIterable {
        case truck = "truck_telemetry", fume = "fume_reading", camera = "camera_event"
        case droneTelemetry = "drone_telemetry", droneEvent = "drone_event", bad, duplicate

        var index: Int {
            switch self {
            case .truck: 0
            case .fume: 1
            case .camera: 2
            case .droneTelemetry: 3
            case .droneEvent: 4
            case .bad: 5
            case .duplicate: 6
            }
        }
    }

    var t: Int64
    /// UTF-8, as the feed line needs it.
    var topic: [UInt8]
    var payload: [UInt8]
    var kind: Kind
    var tag: String? = nil
    /// Tie-breaker for messages with the same `t` from one stream.
    var order = 0

    init(t: Int64, topic: [UInt8], payload: [UInt8], kind: Kind, tag: String? = nil, order: Int = 0) {
        self.t = t
        self.topic = topic
        self.payload = payload
        self.kind = kind
        self.tag = tag
        self.order = order
    }

    init(t: Int64, topic: String, payload: [UInt8], kind: Kind, tag: String? = nil, order: Int = 0) {
        self.init(t: t, topic: Array(topic.utf8), payload: payload, kind: kind, tag: tag, order: order)
    }

    var topicText: String { String(decoding: topic, as: UTF8.self) }

    /// The feed line (SPEC §8) exactly as `FeedMessage.feedLine` writes it,
    /// appended as bytes: the generator's hot path.
    func appendFeedLine(to out: inout Bytes) {
        out.add("{\"t\":\"")
        out.time(t, offsetSeconds: 0, withMillis: true)
        out.add("\",\"topic\":")
        out.quoted(topic)
        out.add(",\"qos\":1,\"retain\":false,")
        // Binary: planted bad messages and JT/T 808 frames; everything else was built from Strings.
        if (kind == .bad || payload.first == 0x7e) && String(validating: payload, as: UTF8.self) == nil {
            out.add("\"payload_b64\":\"")
            out.add(Data(payload).base64EncodedString())
            out.add("\"}")
        } else {
            out.add("\"payload\":")
            out.quoted(payload)
            out.add("}")
        }
    }
}

/// A byte buffer with the JSON and time formatting the feed needs.
struct Bytes {
    var b: [UInt8] = []

    mutating func add(_ s: StaticString) { s.withUTF8Buffer { b.append(contentsOf: $0) } }
    mutating func add(_ s: [UInt8]) { b.append(contentsOf: s) }
    mutating func add(_ s: String) { b.append(contentsOf: s.utf8) }

    mutating func int(_ v: Int64) {
        if v < 0 { b.append(UInt8(ascii: "-")) }
        var m = v.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[n] = UInt8(48 + m % 10)
                m /= 10
                n += 1
            } while m > 0
            while n > 0 {
                n -= 1
                b.append(d[n])
            }
        }
    }

    /// `v` zero-padded to `width` digits (v ≥ 0).
    mutating func padded(_ v: Int, _ width: Int) {
        var w = 1, p = 10
        while p <= v { w += 1; p *= 10 }
        for _ in w..<max(w, width) { b.append(48) }
        int(Int64(v))
    }

    /// As `fixed(_:_:)`.
    mutating func fixed(_ v: Double, _ decimals: Int) {
        var scale: Int64 = 1
        for _ in 0..<decimals { scale *= 10 }
        let n = Int64((v * Double(scale)).rounded())
        if n < 0 { b.append(UInt8(ascii: "-")) }
        let a = Int64(n.magnitude)
        int(a / scale)
        if decimals > 0 {
            b.append(UInt8(ascii: "."))
            padded(Int(a % scale), decimals)
        }
    }

    /// As `RFC3339.format` (`Z` for offset 0), without `.mmm` if asked.
    mutating func time(_ millis: Int64, offsetSeconds: Int, withMillis: Bool) {
        let local = millis + Int64(offsetSeconds) * 1000
        let ms = Int(((local % 1000) + 1000) % 1000)
        let total = (local - Int64(ms)) / 1000
        var days = total / 86_400
        if total % 86_400 != 0 && total < 0 { days -= 1 }
        let sec = Int(total - days * 86_400)
        let (y, m, d) = RFC3339.civilFromDays(Int(days))
        padded(y, 4); b.append(UInt8(ascii: "-")); padded(m, 2); b.append(UInt8(ascii: "-")); padded(d, 2)
        b.append(UInt8(ascii: "T"))
        padded(sec / 3600, 2); b.append(UInt8(ascii: ":")); padded(sec / 60 % 60, 2); b.append(UInt8(ascii: ":"))
        padded(sec % 60, 2)
        if withMillis { b.append(UInt8(ascii: ".")); padded(ms, 3) }
        if offsetSeconds == 0 { b.append(UInt8(ascii: "Z")); return }
        let a = abs(offsetSeconds)
        b.append(UInt8(ascii: offsetSeconds < 0 ? "-" : "+"))
        padded(a / 3600, 2); b.append(UInt8(ascii: ":")); padded(a / 60 % 60, 2)
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// A JSON string of UTF-8 bytes, escaped as `JSONLine` does.
    mutating func quoted(_ s: [UInt8]) {
        b.append(UInt8(ascii: "\""))
        for c in s {
            switch c {
            case UInt8(ascii: "\""): b.append(UInt8(ascii: "\\")); b.append(c)
            case UInt8(ascii: "\\"): b.append(c); b.append(c)
            case 0x0A: b.append(UInt8(ascii: "\\")); b.append(UInt8(ascii: "n"))
            case 0x0D: b.append(UInt8(ascii: "\\")); b.append(UInt8(ascii: "r"))
            case 0x09: b.append(UInt8(ascii: "\\")); b.append(UInt8(ascii: "t"))
            case 0..<0x20:
                add("\\u00")
                b.append(Self.hex[Int(c >> 4)])
                b.append(Self.hex[Int(c & 0x0f)])
            default: b.append(c)
            }
        }
        b.append(UInt8(ascii: "\""))
    }
}

protocol FeedSource: AnyObject {
    /// The next message, in non-decreasing `t`; nil when done.
    func next() -> ScenarioMessage?
}

/// A binary min-heap of stream heads by (t, stream).
struct StreamHeap {
    private var items: [(t: Int64, stream: Int)] = []

    private static func less(_ a: (t: Int64, stream: Int), _ b: (t: Int64, stream: Int)) -> Bool {
        a.t != b.t ? a.t < b.t : a.stream < b.stream
    }

    mutating func push(t: Int64, stream: Int) {
        items.append((t, stream))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.less(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> (Int64, Int)? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && Self.less(items[l], items[m]) { m = l }
                if r < items.count && Self.less(items[r], items[m]) { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return (top.t, top.stream)
    }
}

final class ScriptStream: FeedSource {
    private let messages: [ScenarioMessage]
    private var i = 0

    init(_ messages: [ScenarioMessage]) { self.messages = messages }

    func next() -> ScenarioMessage? {
        guard i < messages.count else { return nil }
        defer { i += 1 }
        return messages[i]
    }
}
