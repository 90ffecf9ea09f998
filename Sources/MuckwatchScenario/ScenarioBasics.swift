import Foundation
import MuckwatchCore

// MARK: - Randomness

/// SplitMix64 (Steele, Lea and Flood, 2014): small, fast, and the same on
/// every platform. Each truck, monitor and purpose gets its own.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(state: UInt64) { self.state = state }

    init(_ seed: UInt64, _ purpose: Purpose, _ index: UInt64 = 0) {
        var a = SplitMix64(state: seed)
        var b = SplitMix64(state: a.next() ^ (purpose.rawValue &* 0xD1B5_4A32_D192_ED03))
        state = b.next() ^ (index &* 0x9E37_79B9_7F4A_7C15)
        _ = next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * unit() }
    mutating func int(_ lo: Int, _ hi: Int) -> Int { lo + Int(next() % UInt64(hi - lo + 1)) }
    mutating func chance(_ p: Double) -> Bool { unit() < p }
}

enum Purpose: UInt64 {
    case world = 1, truckPlan, truckNoise, truckEvents, route, fume, drone, siteCamera, bad, registry
}

// MARK: - Formatting

func pad(_ v: Int, _ width: Int) -> String {
    let s = String(v)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

/// `v` with exactly `decimals` decimals, from integer arithmetic.
func fixed(_ v: Double, _ decimals: Int) -> String {
    var scale: Int64 = 1
    for _ in 0..<decimals { scale *= 10 }
    let n = Int64((v * Double(scale)).rounded())
    let a = n.magnitude
    var s = n < 0 ? "-" : ""
    s += String(a / UInt64(scale))
    if decimals > 0 {
        let f = String(a % UInt64(scale))
        s += "." + String(repeating: "0", count: decimals - f.count) + f
    }
    return s
}

enum Clock {
    static let offset = UTCOffset.chinaStandardTime

    /// `2026-11-24T22:15:03+08:00` (whole seconds, as trackers send) or with `.mmm`.
    static func local(_ millis: Int64, withMillis: Bool) -> String {
        let s = RFC3339.format(Instant(millis: millis), offsetSeconds: offset)
        guard !withMillis else { return s }
        var u = Array(s.utf8)
        u.removeSubrange(19..<23)
        return String(decoding: u, as: UTF8.self)
    }

    /// `20261124-2215` and the seconds into that minute, for a clip segment.
    static func segment(_ millis: Int64) -> (name: String, offsetS: Double) {
        let u = Array(RFC3339.format(Instant(millis: millis), offsetSeconds: offset).utf8)
        let name = String(decoding: u[0..<4] + u[5..<7] + u[8..<10] + [UInt8(ascii: "-")] + u[11..<13] + u[14..<16],
                          as: UTF8.self)
        let seconds = Int(u[17] - 48) * 10 + Int(u[18] - 48)
        let ms = Int(u[20] - 48) * 100 + Int(u[21] - 48) * 10 + Int(u[22] - 48)
        return (name, Double(seconds) + Double(ms) / 1000)
    }
}

enum Topics {
    static func truck(_ d: String) -> String { "muckwatch/v1/truck/\(d)/telemetry" }
    static func fume(_ d: String) -> String { "muckwatch/v1/fume/\(d)/reading" }
    static func camera(_ d: String) -> String { "muckwatch/v1/camera/\(d)/event" }
    static func drone(_ d: String) -> String { "muckwatch/v1/drone/\(d)/telemetry" }
    static func droneEvent(_ d: String) -> String { "muckwatch/v1/drone/\(d)/event" }
}

enum Payloads {
    /// A camera or drone event (§4.3).
    static func event(key: String, source: String, eventId: String, tsMillis: Int64, type: String, plate: String?,
                      confidence: Double, at p: Point, clipPrefix: String,
                      clip: (url: String, offset: Double)? = nil) -> String {
        var s = "{\"" + key + "\":\"" + source + "\",\"event_id\":\"" + eventId + "\",\"ts\":\""
        s += Clock.local(tsMillis, withMillis: true) + "\",\"type\":\"" + type + "\""
        if let plate { s += ",\"plate\":\"" + plate + "\"" }
        s += ",\"confidence\":" + fixed(confidence, 2)
        s += ",\"lat\":" + fixed(ScenarioGeo.lat(p), 6) + ",\"lon\":" + fixed(ScenarioGeo.lon(p), 6)
        let c = clip ?? {
            let seg = Clock.segment(tsMillis)
            return ("file:///var/lib/muckwatch/media/" + clipPrefix + "/seg-" + seg.name + ".ts", seg.offsetS)
        }()
        s += ",\"clip\":{\"url\":\"" + c.url + "\",\"offset_s\":" + fixed(c.offset, 1) + "}}"
        return s
    }
}
