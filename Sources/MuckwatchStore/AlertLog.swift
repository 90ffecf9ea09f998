import Foundation

/// The operators' alert log: JSON Lines, appended and flushed per alert,
/// reopened on demand (SIGHUP after logrotate moved it).
public final class AlertLog {
    public let path: String
    private var handle: FileHandle

    public init(path: String) throws {
        self.path = path
        self.handle = try Self.open(path)
    }

    deinit { try? handle.close() }

    private static func open(_ path: String) throws -> FileHandle {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o640]) else {
                throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        try handle.seekToEnd()
        return handle
    }

    /// Appends the lines; each is on disk (in the page cache) when this returns.
    public func append(_ lines: [String]) throws {
        guard !lines.isEmpty else { return }
        var data = Data()
        for line in lines {
            data.append(contentsOf: line.utf8)
            data.append(0x0a)
        }
        try handle.write(contentsOf: data)
    }

    /// Closes and reopens the path, so a rotated file is let go.
    public func reopen() throws {
        let fresh = try Self.open(path)
        try? handle.close()
        handle = fresh
    }
}
