import Foundation
import MuckwatchCore

extension MuckwatchConfiguration {
    /// Reads the sites' GeoJSON file: every feature a construction site,
    /// disposal site or wash zone with an id and valid polygons. All the
    /// file's problems are reported at once, each naming its feature.
    static func loadSites(path: String, gcj02: Bool, section: Section) throws(ConfigError) -> [Site] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw section.error("file", "names '\(path)', which does not exist or cannot be read")
        }
        let features: [GeoJSONFeature]
        do {
            features = try GeoJSON.features([UInt8](data))
        } catch {
            throw ConfigError(file: path, line: nil, key: "", problem: error.description)
        }
        var problems: [String] = []
        var sites: [Site] = []
        var seen: [String: Int] = [:]
        for f in features {
            let name = "feature \(f.index)" + (f.id.map { " (\($0))" } ?? "")
            guard let id = f.id, !id.isEmpty else {
                problems.append("\(name): has no id (set the feature's \"id\" or properties.id)")
                continue
            }
            if let first = seen[id] {
                problems.append("\(name): the id \(id) is used by feature \(first) too")
                continue
            }
            seen[id] = f.index
            guard let kindText = f.properties["kind"], let kind = SiteKind(rawValue: kindText) else {
                problems.append("\(name): properties.kind is \(f.properties["kind"].map { "'\($0)'" } ?? "missing"); it should be construction, disposal or wash")
                continue
            }
            for (i, polygon) in f.polygons.enumerated() {
                let which = f.polygons.count > 1 ? " polygon \(i)" : ""
                for p in polygon.problems() { problems.append("\(name)\(which): \(p)") }
            }
            let polygons = gcj02 ? f.polygons.map(Self.toWGS84) : f.polygons
            sites.append(Site(id: id, name: f.properties["name"] ?? id, kind: kind, polygons: polygons,
                              parent: f.properties["site"]))
        }
        for s in sites where s.kind == .wash {
            guard let parent = s.parent else {
                problems.append("feature \(seen[s.id]!) (\(s.id)): a wash zone needs properties.site, the construction site it serves")
                continue
            }
            if !sites.contains(where: { $0.id == parent && $0.kind == .construction }) {
                problems.append("feature \(seen[s.id]!) (\(s.id)): properties.site '\(parent)' is not a construction site in this file")
            }
        }
        if !problems.isEmpty {
            let list = problems.map { "\n  - " + $0 }.joined()
            throw ConfigError(file: path, line: nil, key: "",
                              problem: "has \(problems.count) problem\(problems.count == 1 ? "" : "s"):\(list)")
        }
        return sites
    }

    private static func toWGS84(_ p: Polygon) -> Polygon {
        Polygon(outer: p.outer.map(GCJ02.toWGS84), holes: p.holes.map { $0.map(GCJ02.toWGS84) })
    }
}
