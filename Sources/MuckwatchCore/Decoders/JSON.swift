import CSimdJSON
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Parses JSON with simdjson (CSimdJSON). One parser per thread: it reuses
/// its buffers from one document to the next, and a document it hands out is
/// only valid inside the `parse` call that made it.
public final class JSONParser {
    private let handle: OpaquePointer

    public init() {
        guard let handle = mw_json_parser_create() else { fatalError("out of memory creating a JSON parser") }
        self.handle = handle
    }

    deinit { mw_json_parser_destroy(handle) }

    /// Parses `bytes` and gives the root value to `body`; a syntax error
    /// comes back as `JSONSyntaxError`.
    public func parse<R>(_ bytes: UnsafeRawBufferPointer,
                         _ body: (JSONValue) throws -> R) throws -> R {
        var nodes: UnsafePointer<mw_json_node>?
        var count = 0
        // An empty buffer may have no address; simdjson still needs one.
        let base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        let rc = mw_json_parse(handle, base.assumingMemoryBound(to: UInt8.self), bytes.count, &nodes, &count)
        if rc != 0, mw_json_error_is_bigint(rc) != 0, let widened = Self.bigIntegersAsDecimals(bytes) {
            // A whole number beyond 64 bits is still a number: read as a
            // Double it gets its field's own range check (`out_of_range`,
            // the field named) instead of failing the whole document.
            return try widened.withUnsafeBytes { try parse($0, body) }
        }
        guard rc == 0, let nodes else { throw JSONSyntaxError(message: String(cString: mw_json_error_message(rc))) }
        return try body(JSONValue(nodes: UnsafeBufferPointer(start: nodes, count: count), index: 0))
    }

    /// `bytes` with ".0" after each integer literal of 19 digits or more
    /// (outside strings), or nil if there is none.
    static func bigIntegersAsDecimals(_ bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16)
        var changed = false
        var inString = false, escaped = false
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if inString {
                out.append(c)
                if escaped { escaped = false } else if c == UInt8(ascii: "\\") { escaped = true } else if c == UInt8(ascii: "\"") { inString = false }
                i += 1
                continue
            }
            if c == UInt8(ascii: "\"") {
                inString = true
                out.append(c)
                i += 1
                continue
            }
            guard c == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) else {
                out.append(c)
                i += 1
                continue
            }
            // A number token: copy it, and widen it if it is a long integer.
            var j = i
            var digits = 0
            var integral = true
            while j < bytes.count {
                let d = bytes[j]
                if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(d) {
                    digits += 1
                } else if d == UInt8(ascii: ".") || d == UInt8(ascii: "e") || d == UInt8(ascii: "E") || d == UInt8(ascii: "+") {
                    integral = false
                } else if d != UInt8(ascii: "-") {
                    break
                }
                j += 1
            }
            out.append(contentsOf: bytes[i..<j])
            if integral && digits >= 19 {
                out.append(contentsOf: [UInt8(ascii: "."), UInt8(ascii: "0")])
                changed = true
            }
            i = j
        }
        return changed ? out : nil
    }

    public func parse<R>(_ bytes: some Collection<UInt8>, _ body: (JSONValue) throws -> R) throws -> R {
        if let result = try bytes.withContiguousStorageIfAvailable({ try parse(UnsafeRawBufferPointer($0), body) }) {
            return result
        }
        return try Array(bytes).withUnsafeBytes { try parse($0, body) }
    }
}

@available(*, unavailable)
extension JSONParser: Sendable {}

/// Bytes that are not one JSON value, as simdjson describes them.
public struct JSONSyntaxError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// One value of a parsed document; valid only inside `JSONParser.parse`.
public struct JSONValue {
    public enum Kind: Sendable {
        case null, bool, number, string, array, object

        /// As a dead-letter detail says what a field should be.
        public var described: String {
            switch self {
            case .null: "null"
            case .bool: "true or false"
            case .number: "a number"
            case .string: "a string"
            case .array: "an array"
            case .object: "an object"
            }
        }
    }

    fileprivate let nodes: UnsafeBufferPointer<mw_json_node>
    fileprivate let index: Int

    private var node: mw_json_node { nodes[index] }

    public var kind: Kind {
        switch mw_json_type(node.type) {
        case MW_JSON_NULL: .null
        case MW_JSON_TRUE, MW_JSON_FALSE: .bool
        case MW_JSON_INTEGER, MW_JSON_DOUBLE: .number
        case MW_JSON_STRING: .string
        case MW_JSON_ARRAY: .array
        default: .object
        }
    }

    public var isNull: Bool { node.type == MW_JSON_NULL.rawValue }

    public var bool: Bool? {
        switch mw_json_type(node.type) {
        case MW_JSON_TRUE: true
        case MW_JSON_FALSE: false
        default: nil
        }
    }

    /// Any number, as a Double.
    public var number: Double? { kind == .number ? node.number : nil }

    /// A number written as a whole number that fits Int64.
    public var integer: Int64? { node.type == MW_JSON_INTEGER.rawValue ? node.integer : nil }

    /// A string's UTF-8 bytes (unescaped), valid with the document.
    public var stringBytes: UnsafeBufferPointer<UInt8>? {
        guard node.type == MW_JSON_STRING.rawValue else { return nil }
        return UnsafeBufferPointer(start: node.string ?? UnsafePointer(bitPattern: 1), count: Int(node.string_length))
    }

    /// A string (simdjson has validated its UTF-8).
    public var string: String? { stringBytes.map { String(decoding: $0, as: UTF8.self) } }

    /// The member named `key` of an object (the last one, if repeated), or nil.
    public subscript(key: StaticString) -> JSONValue? {
        guard node.type == MW_JSON_OBJECT.rawValue else { return nil }
        let wanted = key.utf8Start
        let length = key.utf8CodeUnitCount
        var found: Int?
        var i = index + 1
        let end = Int(node.end)
        while i < end {
            let member = nodes[i]
            if Int(member.key_length) == length, let bytes = member.key,
               length == 0 || memcmp(bytes, wanted, length) == 0 {
                found = i
            }
            i = Int(member.end)
        }
        return found.map { JSONValue(nodes: nodes, index: $0) }
    }
}

extension JSONValue {
    /// A container's elements, or an object's member values, in document order.
    public var children: [JSONValue] {
        guard node.type == MW_JSON_ARRAY.rawValue || node.type == MW_JSON_OBJECT.rawValue else { return [] }
        var result: [JSONValue] = []
        var i = index + 1
        while i < Int(node.end) {
            result.append(JSONValue(nodes: nodes, index: i))
            i = Int(nodes[i].end)
        }
        return result
    }

    /// This value's key, when it is a member of an object.
    public var key: String? {
        guard let bytes = node.key else { return nil }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(node.key_length)), as: UTF8.self)
    }

    /// A string, number or boolean as text; nil for null and containers.
    /// Whole numbers keep their digits; other numbers are Swift's shortest
    /// spelling of the same double (simdjson keeps no source text).
    public var scalarText: String? {
        switch mw_json_type(node.type) {
        case MW_JSON_STRING: string
        case MW_JSON_INTEGER: String(node.integer)
        case MW_JSON_DOUBLE: "\(node.number)"
        case MW_JSON_TRUE: "true"
        case MW_JSON_FALSE: "false"
        default: nil
        }
    }
}

@available(*, unavailable)
extension JSONValue: Sendable {}
