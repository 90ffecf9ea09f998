import Foundation

/// A WGS-84 position in decimal degrees.
public struct GeoPoint: Sendable, Hashable, Codable {
    public var lat: Double
    public var lon: Double

    public init(lat: Double, lon: Double) {
        self.lat = lat
        self.lon = lon
    }
}

/// Distances on the scale the rules work at (metres to a few kilometres): a
/// local equirectangular projection around the points, accurate to well under
/// a metre over a city block and far cheaper than great circles.
public enum Geo {
    static let metresPerDegreeLat = 111_320.0

    /// Metres per degree of longitude at a latitude.
    static func metresPerDegreeLon(atLat lat: Double) -> Double {
        metresPerDegreeLat * cos(lat * .pi / 180)
    }

    /// `p` in metres east and north of `origin`.
    public static func offset(of p: GeoPoint, from origin: GeoPoint) -> (x: Double, y: Double) {
        ((p.lon - origin.lon) * metresPerDegreeLon(atLat: origin.lat), (p.lat - origin.lat) * metresPerDegreeLat)
    }

    public static func metres(_ a: GeoPoint, _ b: GeoPoint) -> Double {
        let (x, y) = offset(of: b, from: a)
        return (x * x + y * y).squareRoot()
    }

    /// The nearest point of segment a–b to `p`: its distance in metres and
    /// where it lies along the segment (0 at `a`, 1 at `b`).
    public static func nearest(to p: GeoPoint, onSegment a: GeoPoint, _ b: GeoPoint) -> (metres: Double, fraction: Double) {
        let (bx, by) = offset(of: b, from: a)
        let (px, py) = offset(of: p, from: a)
        let len2 = bx * bx + by * by
        let f = len2 == 0 ? 0 : min(1, max(0, (px * bx + py * by) / len2))
        let dx = px - f * bx, dy = py - f * by
        return ((dx * dx + dy * dy).squareRoot(), f)
    }

    /// A box of `metres` around `p`, in degrees: (minLat, maxLat, minLon, maxLon).
    public static func box(around p: GeoPoint, metres: Double) -> (minLat: Double, maxLat: Double, minLon: Double, maxLon: Double) {
        let dLat = metres / metresPerDegreeLat
        let dLon = metres / max(1, metresPerDegreeLon(atLat: p.lat))
        return (p.lat - dLat, p.lat + dLat, p.lon - dLon, p.lon + dLon)
    }
}

/// A polygon as GeoJSON gives it: an outer ring and holes, each ring a list
/// of WGS-84 positions whose last equals its first. Geometry on it (inside
/// tests, segment clipping, validation) is in `Polygon+Geometry.swift`.
public struct Polygon: Sendable, Equatable {
    public var outer: [GeoPoint]
    public var holes: [[GeoPoint]]

    public init(outer: [GeoPoint], holes: [[GeoPoint]] = []) {
        self.outer = outer
        self.holes = holes
    }
}
