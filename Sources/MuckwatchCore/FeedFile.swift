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
    private struct Line: Decodable {
        var t: String?
        var topic: String?
        var qos: Int?
        var retain: Bool?
        var payload: String?
        var payload_b64: String?
    }

    /// Parses one feed line. `qos` defaults to 1 and `retain` to false.
    public static func parse(_ bytes: some Collection<UInt8>, lineNumber: Int,
                             decoder: JSONDecoder = JSONDecoder()) -> Result<FeedMessage, FeedLineError> {
        func fail(_ reason: String) -> Result<FeedMessage, FeedLineError> {
            .failure(FeedLineError(line: lineNumber, reason: reason))
        }
        let line: Line
        do {
            line = try decoder.decode(Line.self, from: Data(bytes))
        } catch DecodingError.typeMismatch(_, let context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            return fail(field.isEmpty ? "not a JSON object" : "'\(field)' has the wrong type")
        } catch {
            return fail("not valid JSON")
        }
        guard let tText = line.t else { return fail("no 't' (receive time)") }
        guard let t = RFC3339.parse(tText) else { return fail("'t' is not an RFC 3339 time: \(tText)") }
        guard let topic = line.topic, !topic.isEmpty else { return fail("no 'topic'") }
        let qos = line.qos ?? 1
        guard (0...2).contains(qos) else { return fail("'qos' must be 0, 1 or 2, not \(qos)") }
        let payload: [UInt8]
        switch (line.payload, line.payload_b64) {
        case (let text?, nil):
            payload = Array(text.utf8)
        case (nil, let b64?):
            guard let data = Data(base64Encoded: b64) else { return fail("'payload_b64' is not valid base64") }
            payload = Array(data)
        case (nil, nil):
            return fail("neither 'payload' nor 'payload_b64'")
        case (.some, .some):
            return fail("both 'payload' and 'payload_b64'; a line has one")
        }
        return .success(FeedMessage(t: t, topic: topic, qos: qos, retain: line.retain ?? false, payload: payload))
    }
}

/// Reads a feed file line by line without loading it whole; blank lines are
/// skipped. Lines that do not parse come back as errors with their number,
/// for the caller to report (and skip, or stop on with `--strict`).
public final class FeedReader: Sequence, IteratorProtocol {
    public let path: String
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEOF = false
    private var lineNumber = 0
    private var readError: Error?
    private let decoder = JSONDecoder()

    public init(path: String) throws(FeedOpenError) {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FeedOpenError(path: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw FeedOpenError(path: path, reason: "is a folder, not a feed file") }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FeedOpenError(path: path, reason: "cannot be read (permissions?)")
        }
        self.handle = handle
    }

    deinit { try? handle.close() }

    public func next() -> Result<FeedMessage, FeedLineError>? {
        while let line = nextLine() {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            return FeedFile.parse(line, lineNumber: lineNumber, decoder: decoder)
        }
        if let error = readError {
            readError = nil
            return .failure(FeedLineError(line: lineNumber + 1, reason: "the file could not be read further: \(error)"))
        }
        return nil
    }

    private func nextLine() -> ArraySlice<UInt8>? {
        while true {
            if let nl = buffer[start...].firstIndex(of: 0x0A) {
                defer { start = nl + 1 }
                return buffer[start..<nl]
            }
            if atEOF {
                guard start < buffer.count else { return nil }
                defer { start = buffer.count }
                return buffer[start...]
            }
            buffer.removeFirst(start)
            start = 0
            do {
                if let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                    buffer.append(contentsOf: chunk)
                } else {
                    atEOF = true
                }
            } catch {
                readError = error
                atEOF = true
            }
        }
    }
}

/// A feed file that cannot be opened at all.
public struct FeedOpenError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "cannot read the feed \(path): \(reason)" }
}
