import Foundation

/// GCJ-02 ("Mars coordinates"), the obfuscated datum Chinese map providers
/// (AutoNavi/Amap, Tencent) publish positions in: WGS-84 shifted by a few
/// hundred metres by the published polynomial on the Krasovsky ellipsoid.
/// Outside China's bounding box both directions return the point unchanged.
public enum GCJ02 {
    /// Krasovsky 1940: semi-major axis (m) and first eccentricity squared.
    static let a = 6_378_245.0
    static let ee = 0.00669342162296594323

    /// The WGS-84 position whose GCJ-02 form is `p`: the forward transform
    /// inverted by fixed-point iteration, to 1e-9° (about 0.1 mm).
    public static func toWGS84(_ p: GeoPoint) -> GeoPoint {
        guard inChina(p) else { return p }
        var w = p
        for _ in 0..<30 {
            let g = fromWGS84(w)
            let dLat = g.lat - p.lat, dLon = g.lon - p.lon
            w.lat -= dLat
            w.lon -= dLon
            if abs(dLat) < 1e-9 && abs(dLon) < 1e-9 { break }
        }
        return w
    }

    /// The GCJ-02 form of a WGS-84 position.
    public static func fromWGS84(_ p: GeoPoint) -> GeoPoint {
        guard inChina(p) else { return p }
        let x = p.lon - 105, y = p.lat - 35
        let phi = p.lat * .pi / 180
        let sinPhi = sin(phi)
        let w = 1 - ee * sinPhi * sinPhi
        let sqrtW = w.squareRoot()
        // The polynomial gives metres-like offsets; divide by the meridian and
        // parallel radii of curvature to turn them into degrees.
        let meridian = a * (1 - ee) / (w * sqrtW)
        let parallel = a / sqrtW * cos(phi)
        let dLat = shiftLat(x, y) * 180 / (meridian * .pi)
        let dLon = shiftLon(x, y) * 180 / (parallel * .pi)
        return GeoPoint(lat: p.lat + dLat, lon: p.lon + dLon)
    }

    /// The published rough box of China; points outside it are not shifted.
    static func inChina(_ p: GeoPoint) -> Bool {
        (72.004...137.8347).contains(p.lon) && (0.8293...55.8271).contains(p.lat)
    }

    /// The periodic terms common to both polynomials, of one variable.
    private static func waves(_ v: Double, _ c1: Double, _ c2: Double, _ c3: Double, _ c4: Double) -> Double {
        (c1 * sin(v * .pi) + c2 * sin(v / 3 * .pi)) * 2 / 3
            + (c3 * sin(v / 12 * .pi) + c4 * sin(v / 30 * .pi)) * 2 / 3
    }

    private static func ripple(_ x: Double) -> Double {
        (20 * sin(6 * x * .pi) + 20 * sin(2 * x * .pi)) * 2 / 3
    }

    /// Northward shift polynomial, x = lon − 105, y = lat − 35.
    static func shiftLat(_ x: Double, _ y: Double) -> Double {
        -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * abs(x).squareRoot()
            + ripple(x) + waves(y, 20, 40, 160, 320)
    }

    /// Eastward shift polynomial, x = lon − 105, y = lat − 35.
    static func shiftLon(_ x: Double, _ y: Double) -> Double {
        300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * abs(x).squareRoot()
            + ripple(x) + waves(x, 20, 40, 150, 300)
    }
}
