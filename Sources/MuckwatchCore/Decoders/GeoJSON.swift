/// One polygon feature of a GeoJSON file, as the registry's sites need it.
public struct GeoJSONFeature: Sendable, Equatable {
    /// Position in the file's features array (0-based).
    public var index: Int
    /// The feature's "id" (string or number), else its properties' "id".
    public var id: String?
    /// Scalar properties as text (numbers as written, booleans true/false);
    /// nested values and nulls are skipped.
    public var properties: [String: String]
    /// Polygon → 1, MultiPolygon → n; positions are [lon, lat(, alt)].
    public var polygons: [Polygon]
    /// The geometry's type as written.
    public var geometryType: String

    public init(index: Int, id: String?, properties: [String: String], polygons: [Polygon], geometryType: String) {
        self.index = index
        self.id = id
        self.properties = properties
        self.polygons = polygons
        self.geometryType = geometryType
    }
}

/// Why a GeoJSON file could not be read: one sentence naming the feature and
/// position.
public struct GeoJSONError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}

public enum GeoJSON {
    /// A FeatureCollection, a single Feature, or a bare Polygon/MultiPolygon
    /// geometry. Rings are taken as written (not closed, not validated):
    /// `Polygon.problems()` says what is wrong with them.
    public static func features(_ bytes: [UInt8]) throws(GeoJSONError) -> [GeoJSONFeature] {
        do {
            return try JSONParser().parse(bytes) { root in try read(root) }
        } catch let error as GeoJSONError {
            throw error
        } catch let error as JSONSyntaxError {
            throw GeoJSONError("not valid JSON: \(error.message)")
        } catch {
            throw GeoJSONError("\(error)")
        }
    }

    private static func read(_ root: JSONValue) throws(GeoJSONError) -> [GeoJSONFeature] {
        guard root.kind == .object else {
            throw GeoJSONError("not a GeoJSON object: the file is \(root.described) at the top level")
        }
        guard let type = root["type"]?.string else {
            throw GeoJSONError("not GeoJSON: the top-level object has no \"type\"")
        }
        switch type {
        case "FeatureCollection":
            guard let list = root["features"], list.kind == .array else {
                throw GeoJSONError("the FeatureCollection has no \"features\" array")
            }
            var features: [GeoJSONFeature] = []
            for (i, f) in list.children.enumerated() {
                guard f.kind == .object else { throw GeoJSONError("feature \(i) is \(f.described), not an object") }
                features.append(try feature(f, index: i))
            }
            return features
        case "Feature":
            return [try feature(root, index: 0)]
        case "Polygon", "MultiPolygon":
            return [GeoJSONFeature(index: 0, id: nil, properties: [:],
                                   polygons: try polygons(root, type: type, at: "the geometry"), geometryType: type)]
        default:
            throw GeoJSONError("the top-level type \(type) is not a FeatureCollection, Feature, Polygon or MultiPolygon")
        }
    }

    private static func feature(_ f: JSONValue, index: Int) throws(GeoJSONError) -> GeoJSONFeature {
        var properties: [String: String] = [:]
        if let p = f["properties"], p.kind == .object {
            for member in p.children {
                if let key = member.key, let text = member.scalarText { properties[key] = text }
            }
        }
        let id = f["id"]?.idText ?? f["properties"]?["id"]?.idText
        let at = id.map { "feature \(index) (id \($0))" } ?? "feature \(index)"
        if let type = f["type"]?.string, type != "Feature" {
            throw GeoJSONError("\(at): type is \(type), not Feature")
        }
        guard let geometry = f["geometry"], geometry.isNull == false else {
            throw GeoJSONError("\(at): no geometry")
        }
        guard geometry.kind == .object else { throw GeoJSONError("\(at): the geometry is \(geometry.described), not an object") }
        guard let type = geometry["type"]?.string else { throw GeoJSONError("\(at): the geometry has no \"type\"") }
        guard type == "Polygon" || type == "MultiPolygon" else {
            throw GeoJSONError("\(at): geometry type \(type) is not a Polygon or MultiPolygon")
        }
        return GeoJSONFeature(index: index, id: id, properties: properties,
                              polygons: try polygons(geometry, type: type, at: at), geometryType: type)
    }

    private static func polygons(_ geometry: JSONValue, type: String, at: String) throws(GeoJSONError) -> [Polygon] {
        guard let coordinates = geometry["coordinates"], coordinates.kind == .array else {
            throw GeoJSONError("\(at): the \(type) has no \"coordinates\" array")
        }
        if type == "Polygon" { return [try polygon(coordinates, at: at, number: nil)] }
        var polygons: [Polygon] = []
        for (i, p) in coordinates.children.enumerated() {
            polygons.append(try polygon(p, at: at, number: i))
        }
        guard !polygons.isEmpty else { throw GeoJSONError("\(at): the MultiPolygon has no polygons") }
        return polygons
    }

    /// `number`: which polygon of a MultiPolygon (0-based), nil for a Polygon.
    private static func polygon(_ node: JSONValue, at: String, number: Int?) throws(GeoJSONError) -> Polygon {
        let polygonName = number.map { "polygon \($0)" } ?? "the polygon"
        let of = number.map { " of polygon \($0)" } ?? ""
        guard node.kind == .array else {
            throw GeoJSONError("\(at): \(polygonName) is \(node.described), not an array of rings")
        }
        var rings: [[GeoPoint]] = []
        for (k, ring) in node.children.enumerated() {
            let name = (k == 0 ? "the outer ring" : "hole \(k)") + of
            guard ring.kind == .array else {
                throw GeoJSONError("\(at): \(name) is \(ring.described), not an array of positions")
            }
            var points: [GeoPoint] = []
            for (i, position) in ring.children.enumerated() {
                let numbers = position.kind == .array ? position.children.prefix(2).compactMap(\.number) : []
                guard numbers.count == 2 else { throw GeoJSONError("\(at): position \(i) of \(name) is not [lon, lat]") }
                let lon = numbers[0], lat = numbers[1]
                let written = "[\(lon), \(lat)]"
                if !(-90...90).contains(lat) {
                    let swapped = (-90...90).contains(lon) && (-180...180).contains(lat)
                    throw GeoJSONError("\(at): position \(i) of \(name), \(written), has latitude \(lat) "
                        + (swapped ? "outside -90…90: it looks like [lat, lon]; GeoJSON positions are [lon, lat]"
                                   : "outside -90…90"))
                }
                guard (-180...180).contains(lon) else {
                    throw GeoJSONError("\(at): position \(i) of \(name), \(written), has longitude \(lon) outside -180…180")
                }
                points.append(GeoPoint(lat: lat, lon: lon))
            }
            rings.append(points)
        }
        guard let outer = rings.first else { throw GeoJSONError("\(at): \(polygonName) has no outer ring") }
        return Polygon(outer: outer, holes: Array(rings.dropFirst()))
    }
}

extension JSONValue {
    /// What a value is, as a GeoJSON error names it.
    fileprivate var described: String {
        switch kind {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// An id: a string or a number.
    fileprivate var idText: String? { kind == .string || kind == .number ? scalarText : nil }
}
