import Foundation

/// The operators' alert log: JSON Lines, appended and flushed per alert,
/// reopened on demand (SIGHUP after logrotate moved it). Opened with
/// `O_APPEND`, so after a copytruncate the next line lands at the new end of
/// the file, not at the old offset behind a run of NUL bytes.
public final class AlertLog {
    public let path: String
    private var fd: Int32

    public init(path: String) throws {
        self.path = path
        self.fd = try AppendOnlyFile.openForAppend(path)
    }

    deinit { close(fd) }

    /// Appends the lines in one write; each is on disk (in the page cache)
    /// when this returns.
    public func append(_ lines: [String]) throws {
        guard !lines.isEmpty else { return }
        var bytes: [UInt8] = []
        for line in lines {
            bytes.append(contentsOf: line.utf8)
            bytes.append(0x0a)
        }
        try AppendOnlyFile.write(bytes, to: fd, path: path)
    }

    /// Closes and reopens the path, so a rotated file is let go.
    public func reopen() throws {
        let fresh = try AppendOnlyFile.openForAppend(path)
        close(fd)
        fd = fresh
    }
}
