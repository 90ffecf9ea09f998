import Foundation

/// One received message of a recorded feed (SPEC §8): a JSON Lines file, one
/// message per line in arrival order. `t` is the receive time and drives the
/// virtual clock in replay.
public struct FeedMessage: Sendable, Equatable {
    public var t: Instant
    public var topic: String
    public var qos: Int
    public var retain: Bool
    public var payload: [UInt8]

    public init(t: Instant, topic: String, qos: Int = 1, retain: Bool = false, payload: [UInt8]) {
        self.t = t
        self.topic = topic
        self.qos = qos
        self.retain = retain
        self.payload = payload
    }

    /// The feed line, keys in the SPEC's order; the payload as `payload`
    /// when it is UTF-8 text, else base64 in `payload_b64`. No newline.
    public var feedLine: String {
        var line = JSONLine()
        line.add("t", RFC3339.format(t, offsetSeconds: 0))
        line.add("topic", topic)
        line.add("qos", qos)
        line.addBool("retain", retain)
        if let text = String(validating: payload, as: UTF8.self) {
            line.add("payload", text)
        } else {
            line.add("payload_b64", Data(payload).base64EncodedString())
        }
        return line.text
    }
}

/// Why a feed line was not taken, with its 1-based line number.
public struct FeedLineError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var reason: String

    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String { "line \(line): \(reason)" }
}

public enum FeedFile {
    /// Parses one feed line. `qos` defaults to 1 and `retain` to false.
    public static func parse(_ bytes: some Collection<UInt8>, lineNumber: Int,
                             parser: JSONParser = JSONParser()) -> Result<FeedMessage, FeedLineError> {
        do {
            return .success(try parser.parse(bytes) { root throws(FeedLineError) in
                try message(root, lineNumber: lineNumber)
            })
        } catch let error as FeedLineError {
            return .failure(error)
        } catch {
            return .failure(FeedLineError(line: lineNumber, reason: "not valid JSON"))
        }
    }

    private static func message(_ root: JSONValue, lineNumber: Int) throws(FeedLineError) -> FeedMessage {
        func fail(_ reason: String) -> FeedLineError { FeedLineError(line: lineNumber, reason: reason) }
        guard root.kind == .object else { throw fail("not a JSON object") }
        /// The member, nil when absent or null; `read` nil means the wrong type.
        func field<T>(_ key: StaticString, _ read: (JSONValue) -> T?) throws(FeedLineError) -> T? {
            guard let v = root[key], !v.isNull else { return nil }
            guard let value = read(v) else { throw fail("'\(key)' has the wrong type") }
            return value
        }
        let tBytes = try field("t") { $0.stringBytes }
        let topic = try field("topic") { $0.string }
        let qos = try field("qos") { $0.integer }
        let retain = try field("retain") { $0.bool }
        let text = try field("payload") { $0.stringBytes }
        let b64 = try field("payload_b64") { $0.string }

        guard let tBytes else { throw fail("no 't' (receive time)") }
        guard let t = RFC3339.parse(tBytes) else {
            throw fail("'t' is not an RFC 3339 time: \(String(decoding: tBytes, as: UTF8.self))")
        }
        guard let topic, !topic.isEmpty else { throw fail("no 'topic'") }
        let q = qos ?? 1
        guard (0...2).contains(q) else { throw fail("'qos' must be 0, 1 or 2, not \(q)") }
        let payload: [UInt8]
        switch (text, b64) {
        case (let text?, nil):
            payload = Array(text)
        case (nil, let b64?):
            guard let data = Data(base64Encoded: b64) else { throw fail("'payload_b64' is not valid base64") }
            payload = Array(data)
        case (nil, nil):
            throw fail("neither 'payload' nor 'payload_b64'")
        case (.some, .some):
            throw fail("both 'payload' and 'payload_b64'; a line has one")
        }
        return FeedMessage(t: t, topic: topic, qos: Int(q), retain: retain ?? false, payload: payload)
    }
}
