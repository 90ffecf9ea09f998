import Foundation
import MuckwatchCore
import XCTest

/// Site geofences from GeoJSON: features, ids, properties and polygons, and
/// one sentence naming the feature and position for each kind of bad file.
final class GeoJSONTests: XCTestCase {
    func read(_ text: String) throws(GeoJSONError) -> [GeoJSONFeature] { try GeoJSON.features(Array(text.utf8)) }

    func error(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            let features = try read(text)
            XCTFail("read \(features.count) features", file: file, line: line)
            return ""
        } catch {
            return error.description
        }
    }

    let square = "[[114.0,22.5],[114.01,22.5],[114.01,22.51],[114.0,22.51],[114.0,22.5]]"
    func polygonFeature(_ extra: String = "") -> String {
        #"{"type":"Feature"\#(extra),"properties":{},"geometry":{"type":"Polygon","coordinates":[\#(square)]}}"#
    }

    func testAFeatureCollectionWithPolygonAndMultiPolygon() throws {
        let text = """
            {"type":"FeatureCollection","features":[
             {"type":"Feature","id":"CS-01",
              "properties":{"name":"南山工地","kind":"construction","area":1250.5,"count":3,"open":true,"closed":false,
                            "nested":{"a":1},"list":[1],"none":null},
              "geometry":{"type":"Polygon","coordinates":[\(square),
                [[114.004,22.504],[114.006,22.504],[114.006,22.506],[114.004,22.504]]]}},
             {"type":"Feature","properties":{"id":"DS-01"},
              "geometry":{"type":"MultiPolygon","coordinates":[[\(square)],
                [[[114.02,22.5],[114.03,22.5],[114.03,22.51,12.5],[114.02,22.5]]]]}},
             {"type":"Feature","id":7,"properties":{"id":"ignored"},"geometry":{"type":"Polygon","coordinates":[\(square)]}},
             {"type":"Feature","properties":{"id":42},"geometry":{"type":"Polygon","coordinates":[\(square)]}},
             {"type":"Feature","properties":null,"geometry":{"type":"Polygon","coordinates":[\(square)]}}
            ]}
            """
        let features = try read(text)
        XCTAssertEqual(features.map(\.index), [0, 1, 2, 3, 4])
        XCTAssertEqual(features.map(\.id), ["CS-01", "DS-01", "7", "42", nil])
        XCTAssertEqual(features.map(\.geometryType), ["Polygon", "MultiPolygon", "Polygon", "Polygon", "Polygon"])
        XCTAssertEqual(features[0].properties, ["name": "南山工地", "kind": "construction", "area": "1250.5", "count": "3",
                                                "open": "true", "closed": "false"])
        XCTAssertEqual(features[1].properties, ["id": "DS-01"])
        XCTAssertEqual(features[4].properties, [:])

        let cs = try XCTUnwrap(features[0].polygons.first)
        XCTAssertEqual(features[0].polygons.count, 1)
        XCTAssertEqual(cs.outer.count, 5)
        XCTAssertEqual(cs.outer[1], GeoPoint(lat: 22.5, lon: 114.01), "positions are [lon, lat]")
        XCTAssertEqual(cs.holes.count, 1)
        XCTAssertEqual(cs.holes[0].count, 4)
        XCTAssertFalse(cs.contains(GeoPoint(lat: 22.5045, lon: 114.005)), "in the hole")
        XCTAssertEqual(cs.problems(), [])

        XCTAssertEqual(features[1].polygons.count, 2)
        XCTAssertEqual(features[1].polygons[1].outer[2], GeoPoint(lat: 22.51, lon: 114.03), "altitude dropped")
    }

    func testASingleFeatureAndABareGeometry() throws {
        let one = try read(polygonFeature(#","id":"WZ-01""#))
        XCTAssertEqual(one.map(\.id), ["WZ-01"])
        XCTAssertEqual(one[0].polygons[0].outer.count, 5)

        let bare = try read(#"{"type":"Polygon","coordinates":[\#(square)]}"#)
        XCTAssertEqual(bare, [GeoJSONFeature(index: 0, id: nil, properties: [:], polygons: one[0].polygons,
                                             geometryType: "Polygon")])
        let multi = try read(#"{"type":"MultiPolygon","coordinates":[[\#(square)],[\#(square)]]}"#)
        XCTAssertEqual(multi[0].polygons.count, 2)
        XCTAssertEqual(multi[0].geometryType, "MultiPolygon")
    }

    func testRingsAreNotClosedForYou() throws {
        let text = #"{"type":"Polygon","coordinates":[[[114.0,22.5],[114.01,22.5],[114.01,22.51],[114.0,22.51]]]}"#
        let polygon = try XCTUnwrap(read(text).first?.polygons.first)
        XCTAssertEqual(polygon.outer.count, 4)
        XCTAssertEqual(polygon.problems(), [
            "outer ring is not closed: it starts at 114,22.5 and ends at 114,22.51; repeat the first position at the end",
        ])
    }

    func testTheScenarioSitesAreValidFences() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/scenario-small/sites.geojson")
        let features = try GeoJSON.features(Array(try Data(contentsOf: url)))
        XCTAssertFalse(features.isEmpty)
        for f in features {
            XCTAssertNotNil(f.id)
            XCTAssertNotNil(f.properties["kind"])
            for polygon in f.polygons { XCTAssertEqual(polygon.problems(), [], "\(f.id ?? "?")") }
        }
    }

    // MARK: Errors

    func testAGeometryThatIsNotAPolygon() {
        let line = #"{"type":"Feature","properties":{"id":"CS-02"},"geometry":{"type":"LineString","coordinates":[[114,22.5],[114.01,22.5]]}}"#
        let text = #"{"type":"FeatureCollection","features":[\#(polygonFeature()),\#(polygonFeature()),\#(polygonFeature()),\#(line)]}"#
        XCTAssertEqual(error(text), "feature 3 (id CS-02): geometry type LineString is not a Polygon or MultiPolygon")
        XCTAssertEqual(error(#"{"type":"LineString","coordinates":[]}"#),
                       "the top-level type LineString is not a FeatureCollection, Feature, Polygon or MultiPolygon")
    }

    func testSwappedLatitudeAndLongitude() {
        let text = #"{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[22.5,114.0],[22.5,114.01],[22.51,114.01],[22.5,114.0]]]}}"#
        XCTAssertEqual(error(text), "feature 0: position 0 of the outer ring, [22.5, 114.0], has latitude 114.0 outside -90…90: "
            + "it looks like [lat, lon]; GeoJSON positions are [lon, lat]")
        XCTAssertEqual(error(#"{"type":"Polygon","coordinates":[[[114,22.5],[200,22.5]]]}"#),
                       "the geometry: position 1 of the outer ring, [200.0, 22.5], has longitude 200.0 outside -180…180")
    }

    func testBadPositions() {
        XCTAssertEqual(error(#"{"type":"Polygon","coordinates":[[[114,22.5],[114.01]]]}"#),
                       "the geometry: position 1 of the outer ring is not [lon, lat]")
        XCTAssertEqual(error(#"{"type":"Polygon","coordinates":[[[114,22.5],["114","22.5"]]]}"#),
                       "the geometry: position 1 of the outer ring is not [lon, lat]")
        XCTAssertEqual(error(#"{"type":"MultiPolygon","coordinates":[[\#(square)],[\#(square),[[114,22.5],7]]]}"#),
                       "the geometry: position 1 of hole 1 of polygon 1 is not [lon, lat]")
        XCTAssertEqual(error(#"{"type":"Polygon","coordinates":[]}"#), "the geometry: the polygon has no outer ring")
    }

    func testBadJSON() {
        XCTAssert(error(#"{"type":"FeatureCollection","features":["#).hasPrefix("not valid JSON: "))
        XCTAssert(error("").hasPrefix("not valid JSON: "))
        XCTAssertEqual(error("[1,2]"), "not a GeoJSON object: the file is an array at the top level")
    }

    func testMissingPieces() {
        XCTAssertEqual(error(#"{"type":"Feature","id":"CS-09","geometry":{"type":"Polygon"}}"#),
                       "feature 0 (id CS-09): the Polygon has no \"coordinates\" array")
        XCTAssertEqual(error(#"{"type":"Feature","properties":{},"geometry":null}"#), "feature 0: no geometry")
        XCTAssertEqual(error(#"{"type":"FeatureCollection"}"#), "the FeatureCollection has no \"features\" array")
        XCTAssertEqual(error(#"{"type":"FeatureCollection","features":[\#(polygonFeature()),3]}"#),
                       "feature 1 is a number, not an object")
        XCTAssertEqual(error(#"{"features":[]}"#), "not GeoJSON: the top-level object has no \"type\"")
    }
}
