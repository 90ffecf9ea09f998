import Foundation
import MuckwatchCore

// MARK: - Geometry (metres east and north of the city centre)

struct Point: Equatable {
    var x: Double
    var y: Double

    func distance(to p: Point) -> Double {
        let dx = p.x - x, dy = p.y - y
        return (dx * dx + dy * dy).squareRoot()
    }

    func lerp(_ p: Point, _ f: Double) -> Point { Point(x: x + (p.x - x) * f, y: y + (p.y - y) * f) }
    func moved(_ dx: Double, _ dy: Double) -> Point { Point(x: x + dx, y: y + dy) }
}

enum ScenarioGeo {
    /// Futian, Shenzhen.
    static let lat0 = 22.5431, lon0 = 114.0579
    /// WGS-84 metres per degree at 22.54° N.
    static let metresPerDegreeLat = 110_738.0, metresPerDegreeLon = 102_864.0

    static func lat(_ p: Point) -> Double { lat0 + p.y / metresPerDegreeLat }
    /// The point as the feed writes it: six decimals, read back.
    static func written(_ p: Point) -> GeoPoint {
        GeoPoint(lat: Double(fixed(lat(p), 6))!, lon: Double(fixed(lon(p), 6))!)
    }
    static func lon(_ p: Point) -> Double { lon0 + p.x / metresPerDegreeLon }

    /// Compass bearing in whole degrees, 0 = north.
    static func bearing(_ a: Point, _ b: Point) -> Int {
        let deg = atan2(b.x - a.x, b.y - a.y) * 180 / Double.pi
        return (Int(deg.rounded()) + 360) % 360
    }
}

/// A polyline with its cumulative lengths and per-segment headings.
struct Route {
    let points: [Point]
    let cumulative: [Double]
    let headings: [Int]

    init(_ points: [Point]) {
        self.points = points
        var c = [0.0]
        var h: [Int] = []
        for i in 1..<points.count {
            c.append(c[i - 1] + points[i - 1].distance(to: points[i]))
            h.append(ScenarioGeo.bearing(points[i - 1], points[i]))
        }
        cumulative = c
        headings = h
    }

    var length: Double { cumulative[cumulative.count - 1] }

    func at(_ distance: Double, hint: inout Int) -> (Point, Int) {
        let d = min(max(distance, 0), length)
        if hint >= points.count - 1 || cumulative[hint] > d { hint = 0 }
        while hint < points.count - 2 && cumulative[hint + 1] < d { hint += 1 }
        let len = cumulative[hint + 1] - cumulative[hint]
        let f = len > 0 ? (d - cumulative[hint]) / len : 0
        return (points[hint].lerp(points[hint + 1], f), headings[hint])
    }

    /// A road between two gates: one to three waypoints off the straight line.
    static func road(from a: Point, to b: Point, seed: UInt64, key: UInt64) -> Route {
        var rng = SplitMix64(seed, .route, key)
        let d = a.distance(to: b)
        let n = min(3, max(1, Int(d / 3000)))
        let dx = b.x - a.x, dy = b.y - a.y
        let px = d > 0 ? -dy / d : 0, py = d > 0 ? dx / d : 0
        var points = [a]
        for i in 1...n {
            let f = Double(i) / Double(n + 1) + rng.uniform(-0.05, 0.05)
            let off = rng.uniform(-0.12, 0.12) * d
            points.append(Point(x: a.x + dx * f + px * off, y: a.y + dy * f + py * off))
        }
        points.append(b)
        return Route(points)
    }
}

// MARK: - Motion along a route

/// A stretch of constant acceleration (speeds in m/s, times from the drive's start).
struct Piece {
    var t0: Double
    var dur: Double
    var v0: Double
    var v1: Double
    var s0: Double
}

/// A forced slow-down inside a drive: stand still or crawl for a while.
struct Hold {
    var at: Double
    var duration: Double
    var speed: Double
    /// When it began, once placed (nil when the drive was too short for it).
    var start: Double?
}

struct Motion {
    struct Limits {
        var minCruise: Double
        var maxCruise: Double
        var trafficStops: Bool
        var accel = 0.7
        var brake = 1.1

        static let road = Limits(minCruise: 25 / 3.6, maxCruise: 52 / 3.6, trafficStops: true)
        static let yard = Limits(minCruise: 5 / 3.6, maxCruise: 10 / 3.6, trafficStops: false)
    }

    var pieces: [Piece]
    var duration: Double { pieces.last.map { $0.t0 + $0.dur } ?? 0 }

    func at(_ tau: Double, hint: inout Int) -> (distance: Double, speed: Double) {
        guard !pieces.isEmpty else { return (0, 0) }
        if hint >= pieces.count || pieces[hint].t0 > tau { hint = 0 }
        while hint < pieces.count - 1 && pieces[hint].t0 + pieces[hint].dur <= tau { hint += 1 }
        let p = pieces[hint]
        let x = min(max(tau - p.t0, 0), p.dur)
        let a = p.dur > 0 ? (p.v1 - p.v0) / p.dur : 0
        return (p.s0 + p.v0 * x + a * x * x / 2, p.v0 + a * x)
    }

    /// Speeds for a drive of `length` metres: pull away, cruise with changes,
    /// red lights (none near `calm`), the `holds`, and brake to a stop at the end.
    static func make(length: Double, limits: Limits, holds: inout [Hold], calm: [ClosedRange<Double>],
                     rng: inout SplitMix64) -> Motion {
        var pieces: [Piece] = []
        var t = 0.0, s = 0.0, v = 0.0
        func add(_ dur: Double, _ v1: Double) {
            guard dur > 0 else { v = v1; return }
            pieces.append(Piece(t0: t, dur: dur, v0: v, v1: v1, s0: s))
            s += (v + v1) / 2 * dur
            t += dur
            v = v1
        }
        func brakeDistance(_ v: Double) -> Double { v * v / (2 * limits.brake) }
        func ramp(_ from: Double, _ to: Double) -> Double {
            to >= from ? (to - from) / limits.accel : (from - to) / limits.brake
        }
        func fits(_ dur: Double, _ v1: Double) -> Bool { s + (v + v1) / 2 * dur + brakeDistance(v1) <= length }
        func calmAround(_ a: Double, _ b: Double) -> Bool { calm.contains { $0.lowerBound <= b && a <= $0.upperBound } }

        var nextHold = 0
        while true {
            if nextHold < holds.count && t >= holds[nextHold].at {
                let h = holds[nextHold]
                nextHold += 1
                let d = ramp(v, h.speed)
                let need = s + (v + h.speed) / 2 * d + h.speed * h.duration + brakeDistance(h.speed) + 100
                if need <= length {
                    add(d, h.speed)
                    holds[nextHold - 1].start = t
                    add(h.duration, h.speed)
                    continue
                }
            }
            if limits.trafficStops && v > 3 && length - s > 500 && !calmAround(t, t + 150) && rng.chance(0.14) {
                let d = ramp(v, 0)
                let wait = rng.uniform(15, 60)
                if fits(d, 0) {
                    add(d, 0)
                    add(wait, 0)
                    continue
                }
            }
            var target = v < limits.minCruise ? rng.uniform(limits.minCruise, limits.maxCruise) : v + rng.uniform(-3, 3)
            target = min(max(target, limits.minCruise), limits.maxCruise)
            let dur = max(ramp(v, target), rng.uniform(12, 40))
            if fits(dur, target) {
                add(dur, target)
                continue
            }
            let remaining = length - s
            if v < 0.3 {
                let peak = min(target, (remaining / (1 / (2 * limits.accel) + 1 / (2 * limits.brake))).squareRoot())
                let cruise = remaining - peak * peak / (2 * limits.accel) - brakeDistance(peak)
                add(peak / limits.accel, peak)
                if cruise > 0.01 { add(cruise / peak, peak) }
                add(peak / limits.brake, 0)
            } else {
                let cruise = remaining - brakeDistance(v)
                if cruise > 0.01 { add(cruise / v, v) }
                add(v / limits.brake, 0)
            }
            break
        }
        return Motion(pieces: pieces)
    }
}
