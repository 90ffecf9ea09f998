import CSimdJSON

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
        guard let parser = mw_json_parser_create() else { fatalError("out of memory creating a JSON parser") }
        defer { mw_json_parser_destroy(parser) }
        let result = bytes.withUnsafeBufferPointer { buffer -> Result<[GeoJSONFeature], GeoJSONError> in
            var nodes: UnsafePointer<mw_json_node>?
            var count = 0
            let base = buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!
            let rc = mw_json_parse(parser, base, buffer.count, &nodes, &count)
            guard rc == 0, let nodes else {
                return .failure(GeoJSONError("not valid JSON: \(String(cString: mw_json_error_message(rc)))"))
            }
            return Result { () throws(GeoJSONError) in
                try read(Node(nodes: UnsafeBufferPointer(start: nodes, count: count), index: 0))
            }
        }
        return try result.get()
    }

    private static func read(_ root: Node) throws(GeoJSONError) -> [GeoJSONFeature] {
        guard root.type == MW_JSON_OBJECT else {
            throw GeoJSONError("not a GeoJSON object: the file is \(root.described) at the top level")
        }
        guard let type = root["type"]?.string else {
            throw GeoJSONError("not GeoJSON: the top-level object has no \"type\"")
        }
        switch type {
        case "FeatureCollection":
            guard let list = root["features"], list.type == MW_JSON_ARRAY else {
                throw GeoJSONError("the FeatureCollection has no \"features\" array")
            }
            var features: [GeoJSONFeature] = []
            for (i, f) in list.children.enumerated() {
                guard f.type == MW_JSON_OBJECT else { throw GeoJSONError("feature \(i) is \(f.described), not an object") }
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

    private static func feature(_ f: Node, index: Int) throws(GeoJSONError) -> GeoJSONFeature {
        var properties: [String: String] = [:]
        if let p = f["properties"], p.type == MW_JSON_OBJECT {
            for member in p.children {
                if let key = member.key, let text = member.scalarText { properties[key] = text }
            }
        }
        let id = f["id"]?.idText ?? f["properties"]?["id"]?.idText
        let at = id.map { "feature \(index) (id \($0))" } ?? "feature \(index)"
        if let type = f["type"]?.string, type != "Feature" {
            throw GeoJSONError("\(at): type is \(type), not Feature")
        }
        guard let geometry = f["geometry"], geometry.type != MW_JSON_NULL else {
            throw GeoJSONError("\(at): no geometry")
        }
        guard geometry.type == MW_JSON_OBJECT else { throw GeoJSONError("\(at): the geometry is \(geometry.described), not an object") }
        guard let type = geometry["type"]?.string else { throw GeoJSONError("\(at): the geometry has no \"type\"") }
        guard type == "Polygon" || type == "MultiPolygon" else {
            throw GeoJSONError("\(at): geometry type \(type) is not a Polygon or MultiPolygon")
        }
        return GeoJSONFeature(index: index, id: id, properties: properties,
                              polygons: try polygons(geometry, type: type, at: at), geometryType: type)
    }

    private static func polygons(_ geometry: Node, type: String, at: String) throws(GeoJSONError) -> [Polygon] {
        guard let coordinates = geometry["coordinates"], coordinates.type == MW_JSON_ARRAY else {
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
    private static func polygon(_ node: Node, at: String, number: Int?) throws(GeoJSONError) -> Polygon {
        let polygonName = number.map { "polygon \($0)" } ?? "the polygon"
        let of = number.map { " of polygon \($0)" } ?? ""
        guard node.type == MW_JSON_ARRAY else {
            throw GeoJSONError("\(at): \(polygonName) is \(node.described), not an array of rings")
        }
        var rings: [[GeoPoint]] = []
        for (k, ring) in node.children.enumerated() {
            let name = (k == 0 ? "the outer ring" : "hole \(k)") + of
            guard ring.type == MW_JSON_ARRAY else {
                throw GeoJSONError("\(at): \(name) is \(ring.described), not an array of positions")
            }
            var points: [GeoPoint] = []
            for (i, position) in ring.children.enumerated() {
                let numbers = position.type == MW_JSON_ARRAY ? position.children.prefix(2).compactMap(\.number) : []
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

/// One node of a parsed document (valid inside `GeoJSON.features` only).
private struct Node {
    let nodes: UnsafeBufferPointer<mw_json_node>
    let index: Int

    private var node: mw_json_node { nodes[index] }
    var type: mw_json_type { mw_json_type(node.type) }

    var described: String {
        switch type {
        case MW_JSON_NULL: "null"
        case MW_JSON_TRUE, MW_JSON_FALSE: "a boolean"
        case MW_JSON_INTEGER, MW_JSON_DOUBLE: "a number"
        case MW_JSON_STRING: "a string"
        case MW_JSON_ARRAY: "an array"
        default: "an object"
        }
    }

    /// A container's members or elements, in document order.
    var children: [Node] {
        guard type == MW_JSON_ARRAY || type == MW_JSON_OBJECT else { return [] }
        var result: [Node] = []
        var i = index + 1
        while i < Int(node.end) {
            result.append(Node(nodes: nodes, index: i))
            i = Int(nodes[i].end)
        }
        return result
    }

    /// The member's key when the parent is an object.
    var key: String? {
        guard let bytes = node.key else { return nil }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(node.key_length)), as: UTF8.self)
    }

    /// The last member named `key` of an object.
    subscript(key: String) -> Node? {
        guard type == MW_JSON_OBJECT else { return nil }
        return children.last { $0.key == key }
    }

    var string: String? {
        guard type == MW_JSON_STRING else { return nil }
        return String(decoding: UnsafeBufferPointer(start: node.string ?? UnsafePointer(bitPattern: 1), count: Int(node.string_length)),
                      as: UTF8.self)
    }

    var number: Double? { type == MW_JSON_INTEGER || type == MW_JSON_DOUBLE ? node.number : nil }

    /// A string, number or boolean as text; nil for null and containers.
    /// Whole numbers keep their digits; other numbers are Swift's shortest
    /// spelling of the same double (simdjson keeps no source text).
    var scalarText: String? {
        switch type {
        case MW_JSON_STRING: string
        case MW_JSON_INTEGER: String(node.integer)
        case MW_JSON_DOUBLE: "\(node.number)"
        case MW_JSON_TRUE: "true"
        case MW_JSON_FALSE: "false"
        default: nil
        }
    }

    /// An id: a string or a number.
    var idText: String? { type == MW_JSON_STRING || type == MW_JSON_INTEGER || type == MW_JSON_DOUBLE ? scalarText : nil }
}
