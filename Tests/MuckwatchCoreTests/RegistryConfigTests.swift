import Foundation
import MuckwatchConfig
import MuckwatchCore
import XCTest

/// The registry (§5) from the config: companies, trucks' permits and hours,
/// the sites' GeoJSON (WGS-84 or GCJ-02), cameras and fume monitors, and
/// what `check-config` says about a bad one.
final class RegistryConfigTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("mw-registry-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// A GeoJSON ring of [lon, lat] pairs, closed unless told otherwise.
    func ring(_ points: [GeoPoint], close: Bool = true) -> String {
        let all = close ? points + [points[0]] : points
        return "[" + all.map { "[\($0.lon),\($0.lat)]" }.joined(separator: ",") + "]"
    }

    func feature(_ id: String, _ kind: String, _ rings: [String], site: String? = nil) -> String {
        let parent = site.map { ", \"site\": \"\($0)\"" } ?? ""
        return """
            {"type":"Feature","properties":{"id":"\(id)","kind":"\(kind)","name":"\(id) name"\(parent)},
             "geometry":{"type":"Polygon","coordinates":[\(rings.joined(separator: ","))]}}
            """
    }

    func load(sites features: [String], coordinates: String = "wgs84", registry extra: String = "") throws -> MuckwatchConfiguration {
        let geo = #"{"type":"FeatureCollection","features":["# + features.joined(separator: ",") + "]}"
        try geo.write(to: dir.appendingPathComponent("sites.geojson"), atomically: true, encoding: .utf8)
        let yaml = """
            registry:
              companies:
                - {id: C-01, name: 深圳市德信渣土运输有限公司}
              trucks:
                - device: T-0001
                  plate: "粤ｂ·12345"
                  company: C-01
                  phone: "013800000001"
                  permit: {from: 2026-01-01, until: 2027-01-01}
                  permitted_hours: ["22:00-06:00"]
              sites: {file: sites.geojson, coordinates: \(coordinates)}
            \(extra)
            """
        let path = dir.appendingPathComponent("muckwatch.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return try MuckwatchConfiguration.load(path: path)
    }

    func error(sites features: [String], registry extra: String = "") -> String {
        do {
            _ = try load(sites: features, registry: extra)
            XCTFail("the config was accepted")
            return ""
        } catch {
            return "\(error)"
        }
    }

    func square(_ lat: Double, _ lon: Double, _ d: Double = 0.001) -> [GeoPoint] {
        [GeoPoint(lat: lat, lon: lon), GeoPoint(lat: lat, lon: lon + d), GeoPoint(lat: lat + d, lon: lon + d), GeoPoint(lat: lat + d, lon: lon)]
    }

    func testTrucksCompaniesPermitsAndSites() throws {
        let c = try load(sites: [feature("CS-01", "construction", [ring(square(22.5, 114.0))]),
                                 feature("WZ-01", "wash", [ring(square(22.5, 114.001, 0.0002))], site: "CS-01")],
                         registry: """
                           cameras:
                             - {id: CAM-01, site: CS-01, lat: 22.5005, lon: 114.0011}
                           fume_monitors:
                             - {id: F-0101, restaurant: 客家菜馆, address: 红荔路192号, purifier_class: medium}
                         """)
        let r = c.pipeline.registry
        let truck = try XCTUnwrap(r.truck(plate: "粤B 12345"))
        XCTAssertEqual(truck.plate, "粤B12345", "plates are normalised: full-width, separators, case")
        XCTAssertEqual(truck.company, "深圳市德信渣土运输有限公司", "the company id resolves to its name")
        XCTAssertEqual(r.truck(phone: "013800000001")?.device, "T-0001")
        XCTAssertEqual(truck.permitFrom, RFC3339.parse("2026-01-01T00:00:00+08:00"))
        XCTAssertEqual(truck.permittedHours, [DailyWindow(startMinute: 22 * 60, endMinute: 6 * 60)])
        XCTAssertEqual(r.sites.map(\.id), ["CS-01", "WZ-01"])
        XCTAssertEqual(r.site("WZ-01")?.parent, "CS-01")
        XCTAssertEqual(r.camera("CAM-01")?.site, "CS-01")
        XCTAssertEqual(r.monitor("F-0101")?.restaurant, "客家菜馆")
    }

    func testGCJ02FencesAreConvertedToWGS84() throws {
        // A fence drawn on a Chinese web map (GCJ-02) around a WGS-84 point.
        let wgs = GeoPoint(lat: 22.5405, lon: 114.0505)
        let gcj = GCJ02.fromWGS84(wgs)
        XCTAssertGreaterThan(Geo.metres(wgs, gcj), 100, "the offset the conversion must undo")
        let d = 0.0002  // about 20 m each way
        let fence = [GeoPoint(lat: gcj.lat - d, lon: gcj.lon - d), GeoPoint(lat: gcj.lat - d, lon: gcj.lon + d),
                     GeoPoint(lat: gcj.lat + d, lon: gcj.lon + d), GeoPoint(lat: gcj.lat + d, lon: gcj.lon - d)]
        let asWGS = try load(sites: [feature("DS-01", "disposal", [ring(fence)])], coordinates: "gcj02")
        XCTAssertTrue(try XCTUnwrap(asWGS.pipeline.registry.site("DS-01")).polygons[0].contains(wgs))
        let unconverted = try load(sites: [feature("DS-01", "disposal", [ring(fence)])], coordinates: "wgs84")
        XCTAssertFalse(try XCTUnwrap(unconverted.pipeline.registry.site("DS-01")).polygons[0].contains(wgs))
    }

    func testBadFencesAreAllReportedWithFileAndFeature() {
        let bowTie = [GeoPoint(lat: 22.5, lon: 114.0), GeoPoint(lat: 22.501, lon: 114.001),
                      GeoPoint(lat: 22.5, lon: 114.001), GeoPoint(lat: 22.501, lon: 114.0)]
        let text = error(sites: [
            feature("CS-01", "construction", [ring(square(22.5, 114.0), close: false)]),
            feature("CS-02", "construction", [ring(bowTie)]),
            feature("CS-02", "disposal", [ring(square(22.6, 114.0))]),
            feature("WZ-09", "wash", [ring(square(22.7, 114.0))], site: "CS-99"),
            feature("XX-01", "parking", [ring(square(22.8, 114.0))]),
        ])
        XCTAssertTrue(text.contains("sites.geojson"), text)
        XCTAssertTrue(text.contains("has 5 problems"), text)
        XCTAssertTrue(text.contains("feature 0 (CS-01)"), text)
        XCTAssertTrue(text.lowercased().contains("not closed"), text)
        XCTAssertTrue(text.contains("feature 1 (CS-02): outer ring crosses itself"), text)
        XCTAssertTrue(text.contains("feature 2 (CS-02): the id CS-02 is used by feature 1 too"), text)
        XCTAssertTrue(text.contains("feature 3 (WZ-09): properties.site 'CS-99' is not a construction site"), text)
        XCTAssertTrue(text.contains("feature 4 (XX-01): properties.kind is 'parking'"), text)
    }

    func testUnknownReferencesAndDuplicates() {
        let ok = [feature("CS-01", "construction", [ring(square(22.5, 114.0))])]
        XCTAssertTrue(error(sites: ok, registry: "  cameras:\n    - {id: CAM-01, site: CS-77}").contains("'CS-77' is not a site"))
        XCTAssertTrue(error(sites: ok, registry: "  cameras:\n    - {id: CAM-01}\n    - {id: CAM-01}").contains("'CAM-01' is listed twice"))
        XCTAssertTrue(error(sites: ok, registry: "  fume_monitors:\n    - {id: F-1}").contains("'registry.fume_monitors[0].restaurant' is required"))
        do {
            _ = try MuckwatchConfiguration.parse(yaml: """
                registry:
                  companies: [{id: C-01, name: A}]
                  trucks: [{device: T-1, company: C-02}]
                """)
            XCTFail("accepted")
        } catch {
            XCTAssertTrue("\(error)".contains("'C-02' is not in registry.companies"), "\(error)")
        }
        do {
            _ = try MuckwatchConfiguration.parse(yaml: "registry:\n  trucks: [{device: T-1, permitted_hours: [\"22-06\"]}]\n")
            XCTFail("accepted")
        } catch {
            XCTAssertTrue("\(error)".contains("22:00-06:00"), "\(error)")
        }
    }

    func testRuleThresholdsAndEnabledRules() throws {
        let c = try MuckwatchConfiguration.parse(yaml: """
            rules:
              enabled: [uncovered_load, spill]
              geofence: {dwell_s: 45}
              attribution: {radius_m: 80, lookback_s: 900}
              fume_exceedance: {limit_mg_m3: 1.5, penalty: 罚款}
              device_silent: {silence_s: 600}
            """)
        XCTAssertEqual(c.pipeline.rules.enabled, ["uncovered_load", "spill"])
        XCTAssertEqual(c.pipeline.rules.geofence.dwellS, 45)
        XCTAssertEqual(c.pipeline.rules.attribution.radiusM, 80)
        XCTAssertEqual(c.pipeline.rules.fumeExceedance.limitMgM3, 1.5)
        XCTAssertEqual(c.pipeline.rules.fumeExceedance.windowS, 600)
        XCTAssertEqual(c.pipeline.incidents.penalty["fume_exceedance"], "罚款")
        XCTAssertEqual(c.pipeline.rules.deviceSilent.silenceS, 600)
        XCTAssertThrowsError(try MuckwatchConfiguration.parse(yaml: "rules:\n  enabled: [speeding]\n"))
    }
}
