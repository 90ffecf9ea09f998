import Foundation
import MuckwatchCore

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
    private let parser = JSONParser()

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
            return FeedFile.parse(line, lineNumber: lineNumber, parser: parser)
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
