/// One position fix of a truck's track.
public struct TrackFix: Sendable, Equatable, Codable {
    public var ts: Instant
    public var point: GeoPoint

    public init(ts: Instant, point: GeoPoint) {
        self.ts = ts
        self.point = point
    }
}

/// A run of one truck's consecutive fixes, in time order: the unit the track
/// index stores. The truck is taken to have driven straight from fix to fix,
/// so a chunk covers the segments between its fixes, not only the points.
public struct TrackChunk: Sendable, Equatable, Codable {
    public var device: String
    public var fixes: [TrackFix]

    public init(device: String, fixes: [TrackFix]) {
        self.device = device
        self.fixes = fixes
    }

    /// Where this track came closest to `p` between `from` and `to`, if it
    /// came within `radiusM`. Segments are clipped to the time window, with
    /// positions interpolated along them.
    public func closestApproach(to p: GeoPoint, radiusM: Double, from: Instant, to: Instant) -> TrackPass? {
        var best: TrackPass?
        func consider(_ metres: Double, _ ts: Instant, _ at: GeoPoint) {
            if metres <= radiusM, metres < (best?.distanceM ?? .infinity) {
                best = TrackPass(device: device, distanceM: metres, ts: ts, point: at)
            }
        }
        guard let first = fixes.first else { return nil }
        if fixes.count == 1 {
            if first.ts >= from && first.ts <= to { consider(Geo.metres(p, first.point), first.ts, first.point) }
            return best
        }
        for i in 1..<fixes.count {
            var a = fixes[i - 1], b = fixes[i]
            guard b.ts >= from, a.ts <= to, b.ts >= a.ts else { continue }
            let span = Double(b.ts.millis - a.ts.millis)
            if span > 0 {
                // Clip the segment to the window.
                if a.ts < from { a = Self.interpolate(a, b, Double(from.millis - a.ts.millis) / span) }
                if b.ts > to { b = Self.interpolate(fixes[i - 1], b, Double(to.millis - fixes[i - 1].ts.millis) / span) }
            }
            let (metres, f) = Geo.nearest(to: p, onSegment: a.point, b.point)
            let at = Self.interpolate(a, b, f)
            consider(metres, at.ts, at.point)
        }
        return best
    }

    static func interpolate(_ a: TrackFix, _ b: TrackFix, _ f: Double) -> TrackFix {
        TrackFix(ts: Instant(millis: a.ts.millis + Int64((Double(b.ts.millis - a.ts.millis) * f).rounded())),
                 point: GeoPoint(lat: a.point.lat + (b.point.lat - a.point.lat) * f,
                                 lon: a.point.lon + (b.point.lon - a.point.lon) * f))
    }
}

/// A truck whose track passed near a place: how near, when and where.
public struct TrackPass: Sendable, Equatable {
    public var device: String
    public var distanceM: Double
    public var ts: Instant
    public var point: GeoPoint

    public init(device: String, distanceM: Double, ts: Instant, point: GeoPoint) {
        self.device = device
        self.distanceM = distanceM
        self.ts = ts
        self.point = point
    }
}

/// The tracks already committed (the store answers from its R*Tree index;
/// tests may use an array). The pipeline adds the chunks it has not yet
/// handed over.
public protocol TrackHistory {
    /// Each truck whose track came within `radiusM` of `p` between `from` and
    /// `to`, once, at its closest approach.
    func passes(near p: GeoPoint, radiusM: Double, from: Instant, to: Instant) -> [TrackPass]
}

extension Array: TrackHistory where Element == TrackChunk {
    public func passes(near p: GeoPoint, radiusM: Double, from: Instant, to: Instant) -> [TrackPass] {
        TrackPass.closestPerDevice(lazy.compactMap { $0.closestApproach(to: p, radiusM: radiusM, from: from, to: to) })
    }
}

extension TrackPass {
    /// One pass per device, the closest; ordered nearest first (then by
    /// device, so the order is the same on every run).
    public static func closestPerDevice(_ passes: some Sequence<TrackPass>) -> [TrackPass] {
        var best: [String: TrackPass] = [:]
        for p in passes where p.distanceM < (best[p.device]?.distanceM ?? .infinity) { best[p.device] = p }
        return best.values.sorted { ($0.distanceM, $0.device) < ($1.distanceM, $1.device) }
    }
}
