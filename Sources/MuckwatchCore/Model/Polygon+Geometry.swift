import Foundation

/// Geometry on a polygon at city scale: rings are projected onto a local plane
/// (`Geo.offset`), which is an affine map of the degrees, so inside tests and
/// fractions along a segment are the same as on the plane. A ring need not be
/// closed: an unclosed one is treated as if its first position followed its
/// last. Points on a boundary (the outer ring's or a hole's) are inside.
extension Polygon {
    /// Whether `p` is inside the outer ring and not inside a hole; a point on
    /// any ring counts as inside.
    public func contains(_ p: GeoPoint) -> Bool {
        switch Polygon.locate(p, in: outer) {
        case .outside: return false
        case .boundary: return true
        case .inside: break
        }
        for hole in holes {
            switch Polygon.locate(p, in: hole) {
            case .inside: return false
            case .boundary: return true
            case .outside: continue
            }
        }
        return true
    }

    /// Metres from `p` to the nearest edge of any ring (`.infinity` when the
    /// polygon has no positions).
    public func distanceToBoundary(_ p: GeoPoint) -> Double {
        var best = Double.infinity
        for ring in [outer] + holes {
            let v = Polygon.corners(ring)
            if v.count == 1 { best = min(best, Geo.metres(p, v[0])) }
            guard v.count > 1 else { continue }
            for i in v.indices {
                best = min(best, Geo.nearest(to: p, onSegment: v[i], v[(i + 1) % v.count]).metres)
            }
        }
        return best
    }

    /// The parts of the segment a→b inside the polygon, as fractions along it
    /// (0 at `a`, 1 at `b`), sorted and merged: `[]` if it never meets the
    /// polygon, `[0...1]` if wholly inside. Where it only touches the boundary
    /// (a corner, or an end on an edge) the part is a single fraction, `t...t`,
    /// as `contains` counts the boundary as inside; a == b gives `[0...0]`
    /// when inside.
    public func insideIntervals(from a: GeoPoint, to b: GeoPoint) -> [ClosedRange<Double>] {
        if a == b { return contains(a) ? [0...0] : [] }
        let r = Geo.offset(of: b, from: a)
        let r2 = r.x * r.x + r.y * r.y
        guard r2 > 0 else { return contains(a) ? [0...1] : [] }
        let rLength = r2.squareRoot()
        let tolerance = Polygon.boundaryMetres

        // Every fraction where the segment meets a ring: the pieces between
        // them are each wholly inside or wholly outside.
        var ts: [Double] = []
        for ring in [outer] + holes {
            let q = Polygon.corners(ring).map { Geo.offset(of: $0, from: a) }
            for (i, c) in q.enumerated() {
                // A corner on (or within a hair of) the segment.
                let t = (c.x * r.x + c.y * r.y) / r2
                if t > 0, t < 1, abs(c.x * r.y - c.y * r.x) / rLength <= tolerance { ts.append(t) }
                guard q.count > 1 else { continue }
                let d = q[(i + 1) % q.count]
                let s = (x: d.x - c.x, y: d.y - c.y)
                let denom = r.x * s.y - r.y * s.x
                let sLength = (s.x * s.x + s.y * s.y).squareRoot()
                guard sLength > 0, abs(denom) > 1e-12 * rLength * sLength else { continue }
                let t2 = (c.x * s.y - c.y * s.x) / denom
                let u = (c.x * r.y - c.y * r.x) / denom
                if t2 > 0, t2 < 1, u >= 0, u <= 1 { ts.append(t2) }
            }
        }
        var cuts: [Double] = [0]
        for t in ts.sorted() where t - cuts[cuts.count - 1] > 1e-12 && t < 1 - 1e-12 { cuts.append(t) }
        cuts.append(1)

        func at(_ t: Double) -> GeoPoint {
            GeoPoint(lat: a.lat + t * (b.lat - a.lat), lon: a.lon + t * (b.lon - a.lon))
        }
        var parts: [ClosedRange<Double>] = []
        func add(_ part: ClosedRange<Double>) { parts.appendMerging(part) }
        for (i, t) in cuts.enumerated() {
            let touched = parts.last.map { $0.upperBound >= t } ?? false
            let next = i + 1 < cuts.count ? cuts[i + 1] : nil
            if let next, contains(at((t + next) / 2)) {
                add(t...next)
            } else if !touched, contains(at(t)) {
                add(t...t)
            }
        }
        return parts
    }

    /// The outer ring's extent in degrees (holes lie within it); infinities
    /// that contain nothing when the ring is empty.
    public var bounds: (minLat: Double, maxLat: Double, minLon: Double, maxLon: Double) {
        var b = (minLat: Double.infinity, maxLat: -Double.infinity, minLon: Double.infinity, maxLon: -Double.infinity)
        for p in outer {
            b.minLat = min(b.minLat, p.lat)
            b.maxLat = max(b.maxLat, p.lat)
            b.minLon = min(b.minLon, p.lon)
            b.maxLon = max(b.maxLon, p.lon)
        }
        return b
    }

    /// What is wrong with the polygon as a geofence, one sentence each naming
    /// the ring ("outer ring", "hole 1") and positions by index (0-based) as
    /// lon,lat; empty when it is valid.
    public func problems() -> [String] {
        var problems: [String] = []
        for (k, ring) in ([outer] + holes).enumerated() {
            let name = k == 0 ? "outer ring" : "hole \(k)"
            if ring.count < 4 {
                problems.append("\(name) has \(ring.count) position\(ring.count == 1 ? "" : "s"); a ring needs at least 4 "
                    + "(three corners and the first repeated at the end)")
            }
            if let first = ring.first, let last = ring.last, ring.count > 1, first != last {
                problems.append("\(name) is not closed: it starts at \(Polygon.lonLat(first)) and ends at "
                    + "\(Polygon.lonLat(last)); repeat the first position at the end")
            }
            problems += Polygon.crossings(ring, name: name)
        }
        if Polygon.corners(outer).count >= 3 {
            for (k, hole) in holes.enumerated() where !hole.isEmpty {
                let outside = hole.indices.filter { Polygon.locate(hole[$0], in: outer) == .outside }
                if outside.count == hole.count {
                    problems.append("hole \(k + 1) is outside the outer ring (its position 0 is at \(Polygon.lonLat(hole[0])))")
                } else if let i = outside.first {
                    problems.append("hole \(k + 1) reaches outside the outer ring: its position \(i) at "
                        + "\(Polygon.lonLat(hole[i])) is outside it")
                }
            }
        }
        return problems
    }
}

extension Polygon {
    /// How close to an edge, in metres, a point is on it: far below GPS
    /// precision, far above rounding.
    static let boundaryMetres = 1e-6

    enum Location { case inside, boundary, outside }

    /// A ring's corners: its positions without the closing repeat.
    static func corners(_ ring: [GeoPoint]) -> ArraySlice<GeoPoint> {
        if ring.count > 1, ring.first == ring.last { return ring.dropLast() }
        return ring[...]
    }

    /// Where `p` lies relative to one ring: a crossing count along a ray east
    /// of `p`, on the plane around `p`.
    static func locate(_ p: GeoPoint, in ring: [GeoPoint]) -> Location {
        let q = corners(ring).map { Geo.offset(of: $0, from: p) }
        guard let first = q.first else { return .outside }
        if q.count == 1 { return (first.x * first.x + first.y * first.y).squareRoot() <= boundaryMetres ? .boundary : .outside }
        var inside = false
        for i in q.indices {
            let c = q[i], d = q[(i + 1) % q.count]
            let s = (x: d.x - c.x, y: d.y - c.y)
            let s2 = s.x * s.x + s.y * s.y
            let f = s2 == 0 ? 0 : min(1, max(0, -(c.x * s.x + c.y * s.y) / s2))
            let nx = c.x + f * s.x, ny = c.y + f * s.y
            if (nx * nx + ny * ny).squareRoot() <= boundaryMetres { return .boundary }
            if (c.y > 0) != (d.y > 0), c.x + (0 - c.y) * s.x / s.y > 0 { inside.toggle() }
        }
        return inside ? .inside : .outside
    }

    /// A position as an installer would type it back: lon,lat to 1e-7°.
    static func lonLat(_ p: GeoPoint) -> String { degrees(p.lon) + "," + degrees(p.lat) }

    static func degrees(_ value: Double) -> String {
        var text = String(format: "%.7f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }

    /// Sentences for non-adjacent edges of `ring` that cross or touch (the
    /// first few, then how many more).
    static func crossings(_ ring: [GeoPoint], name: String) -> [String] {
        guard let origin = ring.first else { return [] }
        let n = ring.count
        let closed = n > 1 && ring.first == ring.last
        // Edges as position indices, without zero-length ones; an unclosed
        // ring gets its closing edge, as the geometry treats it.
        var edges: [(from: Int, to: Int)] = []
        for i in 0..<(closed ? n - 1 : n) {
            let j = closed ? i + 1 : (i + 1) % n
            if ring[i] != ring[j] { edges.append((i, j)) }
        }
        let m = edges.count
        guard m > 3 else { return [] }
        let q = ring.map { Geo.offset(of: $0, from: origin) }
        let shown = 3
        var sentences: [String] = []
        var more = 0
        for e in 0..<m {
            for f in stride(from: e + 2, to: m, by: 1) where !(e == 0 && f == m - 1) {
                let a = edges[e], b = edges[f]
                guard let t = meet(q[a.from], q[a.to], q[b.from], q[b.to]) else { continue }
                guard sentences.count < shown else { more += 1; continue }
                let p = ring[a.from], r = ring[a.to]
                let at = GeoPoint(lat: p.lat + t * (r.lat - p.lat), lon: p.lon + t * (r.lon - p.lon))
                sentences.append("\(name) crosses itself: the edge from position \(a.from) to \(a.to) meets the edge "
                    + "from position \(b.from) to \(b.to) at \(lonLat(at))")
            }
        }
        if more > 0 { sentences.append("\(name) crosses itself in \(more) more place\(more == 1 ? "" : "s")") }
        return sentences
    }

    /// Where segments p1–p2 and p3–p4 meet, as a fraction along p1–p2, or nil.
    static func meet(_ p1: (x: Double, y: Double), _ p2: (x: Double, y: Double),
                     _ p3: (x: Double, y: Double), _ p4: (x: Double, y: Double)) -> Double? {
        func cross(_ o: (x: Double, y: Double), _ a: (x: Double, y: Double), _ b: (x: Double, y: Double)) -> Double {
            (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x)
        }
        func within(_ a: (x: Double, y: Double), _ b: (x: Double, y: Double), _ p: (x: Double, y: Double)) -> Bool {
            min(a.x, b.x) <= p.x && p.x <= max(a.x, b.x) && min(a.y, b.y) <= p.y && p.y <= max(a.y, b.y)
        }
        func along(_ p: (x: Double, y: Double)) -> Double {
            let rx = p2.x - p1.x, ry = p2.y - p1.y
            return ((p.x - p1.x) * rx + (p.y - p1.y) * ry) / (rx * rx + ry * ry)
        }
        let d1 = cross(p3, p4, p1), d2 = cross(p3, p4, p2)
        let d3 = cross(p1, p2, p3), d4 = cross(p1, p2, p4)
        if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
            return d1 / (d1 - d2)
        }
        if d3 == 0, within(p1, p2, p3) { return along(p3) }
        if d4 == 0, within(p1, p2, p4) { return along(p4) }
        if d1 == 0, within(p3, p4, p1) { return 0 }
        if d2 == 0, within(p3, p4, p2) { return 1 }
        return nil
    }
}

extension Array where Element == ClosedRange<Double> {
    /// Appends a range that starts at or after the last one's start, merging
    /// the two where they meet or overlap: keeps sorted ranges disjoint.
    mutating func appendMerging(_ part: ClosedRange<Double>) {
        if let last, part.lowerBound <= last.upperBound {
            self[count - 1] = last.lowerBound...Swift.max(last.upperBound, part.upperBound)
        } else {
            append(part)
        }
    }
}
