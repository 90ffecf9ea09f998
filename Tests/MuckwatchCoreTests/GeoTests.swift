import MuckwatchCore
import XCTest

/// Geofence geometry (inside tests, segment clipping, distance, validation)
/// and the GCJ-02 datum shift.
final class GeoTests: XCTestCase {
    func p(_ lon: Double, _ lat: Double) -> GeoPoint { GeoPoint(lat: lat, lon: lon) }

    /// A closed ring from lon,lat pairs (the first repeated at the end).
    func ring(_ corners: [(Double, Double)], close: Bool = true) -> [GeoPoint] {
        let points = corners.map { p($0.0, $0.1) }
        return close ? points + [points[0]] : points
    }

    /// About 1 km square in Shenzhen: lon 114.00–114.01, lat 22.50–22.51.
    lazy var square = Polygon(outer: ring([(114.0, 22.5), (114.01, 22.5), (114.01, 22.51), (114.0, 22.51)]))
    /// The square with a hole lon 114.004–114.006, lat 22.504–22.506.
    lazy var holed = Polygon(outer: square.outer,
                             holes: [ring([(114.004, 22.504), (114.006, 22.504), (114.006, 22.506), (114.004, 22.506)])])
    /// A U open to the north: arms lon 114.00–114.01 and 114.02–114.03, base lat 22.50–22.51.
    lazy var u = Polygon(outer: ring([(114.0, 22.5), (114.03, 22.5), (114.03, 22.53), (114.02, 22.53),
                                      (114.02, 22.51), (114.01, 22.51), (114.01, 22.53), (114.0, 22.53)]))

    func assertIntervals(_ actual: [ClosedRange<Double>], _ expected: [ClosedRange<Double>],
                         file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "\(actual)", file: file, line: line)
        for (a, e) in zip(actual, expected) {
            XCTAssertEqual(a.lowerBound, e.lowerBound, accuracy: 1e-6, "\(actual)", file: file, line: line)
            XCTAssertEqual(a.upperBound, e.upperBound, accuracy: 1e-6, "\(actual)", file: file, line: line)
        }
    }

    // MARK: contains

    func testContainsInsideOutsideAndOnTheBoundary() {
        XCTAssertTrue(square.contains(p(114.005, 22.505)))
        XCTAssertFalse(square.contains(p(114.011, 22.505)))
        XCTAssertFalse(square.contains(p(114.005, 22.49)))
        XCTAssertTrue(square.contains(p(114.005, 22.5)), "on an edge")
        XCTAssertTrue(square.contains(p(114.01, 22.505)), "on an edge")
        XCTAssertTrue(square.contains(p(114.0, 22.51)), "on a corner")
    }

    func testHolesAreOutsideButTheirEdgesAreBoundary() {
        XCTAssertFalse(holed.contains(p(114.005, 22.505)))
        XCTAssertTrue(holed.contains(p(114.004, 22.505)), "on the hole's edge")
        XCTAssertTrue(holed.contains(p(114.002, 22.505)))
    }

    func testConcavePolygon() {
        XCTAssertTrue(u.contains(p(114.005, 22.52)), "west arm")
        XCTAssertTrue(u.contains(p(114.025, 22.52)), "east arm")
        XCTAssertFalse(u.contains(p(114.015, 22.52)), "the notch")
        XCTAssertTrue(u.contains(p(114.015, 22.505)), "the base")
        XCTAssertFalse(u.contains(p(114.015, 22.535)))
    }

    func testAnUnclosedRingBehavesAsClosed() {
        let open = Polygon(outer: ring([(114.0, 22.5), (114.01, 22.5), (114.01, 22.51), (114.0, 22.51)], close: false))
        XCTAssertTrue(open.contains(p(114.005, 22.505)))
        XCTAssertTrue(open.contains(p(114.0, 22.505)), "on the implicit closing edge")
        XCTAssertFalse(open.contains(p(113.999, 22.505)))
        assertIntervals(open.insideIntervals(from: p(113.99, 22.505), to: p(114.005, 22.505)), [2.0 / 3...1])
    }

    // MARK: insideIntervals

    func testASegmentCuttingACornerWithBothEndsOutside() {
        // lon = 113.998 + 0.005 t, lat = 22.503 − 0.005 t: inside while
        // lon ≥ 114.0 (t ≥ 0.4) and lat ≥ 22.5 (t ≤ 0.6).
        let parts = square.insideIntervals(from: p(113.998, 22.503), to: p(114.003, 22.498))
        assertIntervals(parts, [0.4...0.6])
        XCTAssertEqual(parts.map { $0.upperBound - $0.lowerBound }.reduce(0, +), 0.2, accuracy: 1e-6)
        XCTAssertFalse(square.contains(p(113.998, 22.503)))
        XCTAssertFalse(square.contains(p(114.003, 22.498)))
    }

    func testEnteringLeavingAndWhollyInside() {
        assertIntervals(square.insideIntervals(from: p(113.99, 22.505), to: p(114.005, 22.505)), [2.0 / 3...1])
        assertIntervals(square.insideIntervals(from: p(114.005, 22.505), to: p(113.99, 22.505)), [0...1.0 / 3])
        XCTAssertEqual(square.insideIntervals(from: p(114.002, 22.502), to: p(114.008, 22.508)), [0...1])
        XCTAssertEqual(square.insideIntervals(from: p(113.99, 22.52), to: p(114.02, 22.52)), [])
        assertIntervals(square.insideIntervals(from: p(113.99, 22.505), to: p(114.02, 22.505)), [1.0 / 3...2.0 / 3])
    }

    func testASegmentThroughAHole() {
        // lon 113.99 → 114.02 (0.03°): the square spans t 1/3…2/3, the hole 0.014/0.03…0.016/0.03.
        assertIntervals(holed.insideIntervals(from: p(113.99, 22.505), to: p(114.02, 22.505)),
                        [1.0 / 3...0.014 / 0.03, 0.016 / 0.03...2.0 / 3])
    }

    func testAConcavePolygonGivesTwoParts() {
        assertIntervals(u.insideIntervals(from: p(113.99, 22.52), to: p(114.04, 22.52)), [0.2...0.4, 0.6...0.8])
    }

    func testTouchingAVertex() {
        // Tangent at the south-west corner at t = 0.5: only that point is inside.
        assertIntervals(square.insideIntervals(from: p(113.999, 22.501), to: p(114.001, 22.499)), [0.5...0.5])
        // Entering through the corner, along the diagonal.
        assertIntervals(square.insideIntervals(from: p(113.999, 22.499), to: p(114.005, 22.505)), [1.0 / 6...1])
        // Along an edge: the boundary is inside.
        assertIntervals(square.insideIntervals(from: p(113.99, 22.5), to: p(114.02, 22.5)), [1.0 / 3...2.0 / 3])
        // Through the U's inner corners, the notch between them outside.
        assertIntervals(u.insideIntervals(from: p(113.99, 22.51), to: p(114.04, 22.51)), [0.2...0.8])
        assertIntervals(u.insideIntervals(from: p(114.005, 22.53), to: p(114.025, 22.53)), [0...0.25, 0.75...1])
    }

    func testAPointSegment() {
        XCTAssertEqual(square.insideIntervals(from: p(114.005, 22.505), to: p(114.005, 22.505)), [0...0])
        XCTAssertEqual(square.insideIntervals(from: p(114.02, 22.505), to: p(114.02, 22.505)), [])
    }

    // MARK: distance and bounds

    func testDistanceToBoundary() {
        let west = 0.002 * 111_320 * cos(22.5 * .pi / 180)
        XCTAssertEqual(square.distanceToBoundary(p(114.002, 22.505)), west, accuracy: 0.5)
        XCTAssertEqual(square.distanceToBoundary(p(114.005, 22.511)), 0.001 * 111_320, accuracy: 0.5, "outside, north")
        XCTAssertEqual(holed.distanceToBoundary(p(114.005, 22.505)), 0.001 * 111_320 * cos(22.5 * .pi / 180),
                       accuracy: 0.5, "a hole's edges are boundary")
        XCTAssertEqual(square.distanceToBoundary(p(114.0, 22.503)), 0, accuracy: 1e-6)
    }

    func testBounds() {
        let b = u.bounds
        XCTAssertEqual(b.minLat, 22.5)
        XCTAssertEqual(b.maxLat, 22.53)
        XCTAssertEqual(b.minLon, 114.0)
        XCTAssertEqual(b.maxLon, 114.03)
    }

    // MARK: problems

    func testAValidPolygonHasNoProblems() {
        XCTAssertEqual(square.problems(), [])
        XCTAssertEqual(holed.problems(), [])
        XCTAssertEqual(u.problems(), [])
    }

    func testAnUnclosedRing() {
        let open = Polygon(outer: ring([(114.0, 22.5), (114.01, 22.5), (114.01, 22.51), (114.0, 22.51)], close: false))
        XCTAssertEqual(open.problems(), [
            "outer ring is not closed: it starts at 114,22.5 and ends at 114,22.51; repeat the first position at the end",
        ])
    }

    func testABowTieNamesTheCrossingEdges() {
        let bowTie = Polygon(outer: ring([(114.0, 22.5), (114.01, 22.51), (114.01, 22.5), (114.0, 22.51)]))
        XCTAssertEqual(bowTie.problems(), [
            "outer ring crosses itself: the edge from position 0 to 1 meets the edge from position 2 to 3 at 114.005,22.505",
        ])
    }

    func testTooFewPositions() {
        let sliver = Polygon(outer: ring([(114.0, 22.5), (114.01, 22.5)]))
        XCTAssertEqual(sliver.problems(), [
            "outer ring has 3 positions; a ring needs at least 4 (three corners and the first repeated at the end)",
        ])
        XCTAssertEqual(Polygon(outer: []).problems().count, 1)
    }

    func testAHoleOutsideTheOuterRing() {
        var far = square
        far.holes = [ring([(114.02, 22.5), (114.03, 22.5), (114.03, 22.51)])]
        XCTAssertEqual(far.problems(), ["hole 1 is outside the outer ring (its position 0 is at 114.02,22.5)"])
        var across = square
        across.holes = [ring([(114.005, 22.505), (114.015, 22.505), (114.005, 22.508)])]
        XCTAssertEqual(across.problems(), ["hole 1 reaches outside the outer ring: its position 1 at 114.015,22.505 is outside it"])
    }

    func testHoleProblemsNameTheHole() {
        var bad = square
        bad.holes = [ring([(114.004, 22.504), (114.006, 22.504)], close: false)]
        XCTAssertEqual(bad.problems(), [
            "hole 1 has 2 positions; a ring needs at least 4 (three corners and the first repeated at the end)",
            "hole 1 is not closed: it starts at 114.004,22.504 and ends at 114.006,22.504; repeat the first position at the end",
        ])
    }

    // MARK: GCJ-02

    func testGCJ02ShiftsChinaByAFewHundredMetres() {
        for wgs in [GeoPoint(lat: 39.90733, lon: 116.391305), GeoPoint(lat: 22.54, lon: 114.05)] {
            let gcj = GCJ02.fromWGS84(wgs)
            XCTAssert((100...700).contains(Geo.metres(wgs, gcj)), "\(wgs) → \(gcj): \(Geo.metres(wgs, gcj)) m")
            XCTAssertLessThan(Geo.metres(GCJ02.fromWGS84(GCJ02.toWGS84(gcj)), gcj), 0.01)
            XCTAssertLessThan(Geo.metres(GCJ02.toWGS84(gcj), wgs), 0.01)
            XCTAssertLessThan(Geo.metres(GCJ02.fromWGS84(GCJ02.toWGS84(wgs)), wgs), 0.01)
        }
    }

    func testGCJ02PublishedReferencePair() {
        // wandergis/coordtransform, test/app.js: wgs84togcj02(116.404, 39.915)
        // gives [116.41024449916938, 39.91640428150164] (lon, lat).
        let gcj = GCJ02.fromWGS84(GeoPoint(lat: 39.915, lon: 116.404))
        XCTAssertEqual(gcj.lon, 116.41024449916938, accuracy: 1e-5)
        XCTAssertEqual(gcj.lat, 39.91640428150164, accuracy: 1e-5)
        let back = GCJ02.toWGS84(GeoPoint(lat: 39.91640428150164, lon: 116.41024449916938))
        XCTAssertEqual(back.lon, 116.404, accuracy: 1e-5)
        XCTAssertEqual(back.lat, 39.915, accuracy: 1e-5)
    }

    func testGCJ02LeavesPointsOutsideChinaAlone() {
        let london = GeoPoint(lat: 51.5, lon: -0.12)
        XCTAssertEqual(GCJ02.fromWGS84(london), london)
        XCTAssertEqual(GCJ02.toWGS84(london), london)
    }
}
