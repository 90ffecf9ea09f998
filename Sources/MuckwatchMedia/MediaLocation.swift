import CFFmpeg
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a message or an operator names, once allowed: a local file, already
/// open, or the URL of a network stream for libavformat to open.
public enum MediaInput {
    case file(MediaFile)
    case network(String)
}

@available(*, unavailable)
extension MediaInput: Sendable {}

/// A local video opened once, inside the media roots: everything read from
/// it (the demuxer, its hash, its sidecar) goes through this descriptor and
/// its folder's, never through the path again, so a file or symlink swapped
/// in under the name afterwards is never read.
public final class MediaFile {
    /// Where it was opened, symlinks resolved: for people and logs, not for
    /// opening it again.
    public let path: String
    /// Its name in its folder.
    public let name: String
    /// Bytes when it was opened; the demuxer and the hash read no further.
    public let size: Int64
    let descriptor: Int32
    /// The folder it was opened in (`O_PATH`): sidecars are opened relative
    /// to it.
    let folder: Int32
    /// `fstat` when it was opened, to notice a change while it is read.
    let opened: stat

    fileprivate init(path: String, name: String, descriptor: Int32, folder: Int32, opened: stat) {
        self.path = path
        self.name = name
        self.descriptor = descriptor
        self.folder = folder
        self.opened = opened
        self.size = Int64(opened.st_size)
    }

    deinit {
        close(descriptor)
        close(folder)
    }

    /// The device and inode of the open file.
    public var identity: (device: UInt64, inode: UInt64) { (UInt64(opened.st_dev), UInt64(opened.st_ino)) }

    /// Why the file is no longer what was opened (shorter, rewritten), or
    /// nil if it is unchanged.
    func changedSinceOpened() -> String? {
        var now = stat()
        guard fstat(descriptor, &now) == 0 else { return "cannot be checked: \(String(cString: strerror(errno)))" }
        if now.st_size != opened.st_size { return "changed while it was read: \(opened.st_size) bytes, then \(now.st_size)" }
        if now.st_mtim.tv_sec != opened.st_mtim.tv_sec || now.st_mtim.tv_nsec != opened.st_mtim.tv_nsec
            || now.st_ctim.tv_sec != opened.st_ctim.tv_sec || now.st_ctim.tv_nsec != opened.st_ctim.tv_nsec {
            return "changed while it was read (written to after it was opened)"
        }
        return nil
    }

    /// Reads `count` bytes at `offset` (fewer at the end); nil and errno on an error.
    func read(into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int64) -> Int? {
        while true {
            let n = pread(descriptor, buffer, count, off_t(offset))
            if n >= 0 { return n }
            if errno != EINTR { return nil }
        }
    }

    /// The largest sidecar read; a larger one is refused, not read.
    public static let maxSidecarBytes = 16 << 20

    /// A sidecar beside the file (`clip.SRT` or `clip.srt` for `clip.mp4`):
    /// its name and bytes, or its name and why it was not read; nil if there
    /// is none. It is held to the file's own rules: a plain file in the same
    /// folder, opened through the folder's descriptor without following a
    /// symlink, and no larger than `maxSidecarBytes`.
    public func sidecar(extensions: [String]) -> (name: String, bytes: [UInt8]?, problem: String?)? {
        let base = (name as NSString).deletingPathExtension
        for ext in extensions {
            let candidate = base + "." + ext
            guard candidate != name else { continue }
            var info = stat()
            if fstatat(folder, candidate, &info, AT_SYMLINK_NOFOLLOW) != 0 {
                if errno == ENOENT { continue }
                return (candidate, nil, "cannot be opened: \(String(cString: strerror(errno)))")
            }
            if let problem = Self.sidecarProblem(info) { return (candidate, nil, problem) }
            let fd = openat(folder, candidate, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
            guard fd >= 0 else {
                return (candidate, nil, errno == ELOOP ? Self.symlinkRefusal
                    : "cannot be opened: \(String(cString: strerror(errno)))")
            }
            defer { close(fd) }
            guard fstat(fd, &info) == 0 else { return (candidate, nil, "cannot be read: \(String(cString: strerror(errno)))") }
            if let problem = Self.sidecarProblem(info) { return (candidate, nil, problem) }
            var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
            var done = 0
            while done < bytes.count {
                let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(done)) }
                if n < 0, errno == EINTR { continue }
                if n < 0 { return (candidate, nil, "cannot be read: \(String(cString: strerror(errno)))") }
                if n == 0 { break }
                done += n
            }
            return (candidate, Array(bytes.prefix(done)), nil)
        }
        return nil
    }

    private static let symlinkRefusal = "is a symbolic link: a sidecar is read only as a plain file beside the video, never through a link"

    private static func sidecarProblem(_ info: stat) -> String? {
        switch info.st_mode & S_IFMT {
        case S_IFLNK: return symlinkRefusal
        case S_IFREG:
            guard info.st_size <= maxSidecarBytes else {
                return "is \(info.st_size) bytes, over the \(maxSidecarBytes >> 20) MiB a sidecar may have: not read"
            }
            return nil
        default: return "is not a regular file"
        }
    }
}

/// Turns what a message or an operator names (a path, a `file://` URL, a
/// network URL) into what is read, refusing what the options do not allow.
/// A local file is resolved through its symlinks, checked against the
/// media roots, and then opened component by component from `/` without
/// following any link (`O_NOFOLLOW`): a symlink swapped in after the check
/// makes the open fail, it is never followed out of the roots.
public enum MediaLocation {
    /// Protocols that open other inputs on a string's say-so: never allowed,
    /// whatever the configuration lists.
    static let refused: Set<String> = ["concat", "concatf", "subfile", "data", "pipe", "fd", "tee", "async", "cache"]

    public static func open(_ input: String, options: DemuxerOptions) throws(MediaError) -> MediaInput {
        if input.isEmpty { throw MediaError(input: input, reason: "no file or URL given") }
        if input.utf8.contains(0) { throw MediaError(input: input, reason: "contains a NUL byte") }
        let scheme = Self.scheme(of: input)
        if let scheme, scheme != "file" {
            if refused.contains(scheme) {
                throw MediaError(input: input, reason: "the '\(scheme):' protocol is never opened (it reads other inputs)")
            }
            guard options.protocols.contains(scheme) else {
                throw MediaError(input: input, reason: "the '\(scheme)' protocol is not allowed (allowed: \(options.protocols.joined(separator: ", ")))")
            }
            return .network(input)
        }
        guard options.protocols.contains("file") else {
            throw MediaError(input: input, reason: "local files are not allowed (allowed: \(options.protocols.joined(separator: ", ")))")
        }
        let path = scheme == "file" ? try filePath(fromURL: input) : input
        guard let resolved = realPath(path) else {
            throw MediaError(input: input, reason: "cannot open: \(String(cString: strerror(errno)))")
        }
        if let roots = options.mediaRoots {
            let inside = roots.contains { root in
                guard let r = realPath(root) else { return false }
                return resolved.hasPrefix(r.hasSuffix("/") ? r : r + "/")
            }
            guard inside else {
                throw MediaError(input: input, reason: "is outside the media roots (\(roots.joined(separator: ", "))) once resolved to \(resolved)")
            }
        }
        return .file(try openWithoutLinks(resolved, input: input))
    }

    /// Opens the absolute, resolved `path` one component at a time, each
    /// relative to the folder before it and none followed if it is a
    /// symlink, so that the file opened is the one at this very path.
    private static func openWithoutLinks(_ path: String, input: String) throws(MediaError) -> MediaFile {
        let components = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let name = components.last, path.hasPrefix("/"), !components.contains(".."), !components.contains(".") else {
            throw MediaError(input: input, reason: "is not a regular file")
        }
        var folder = Glibc.open("/", cffmpeg_o_path() | O_DIRECTORY | O_CLOEXEC)
        guard folder >= 0 else { throw MediaError(input: input, reason: "cannot open: \(String(cString: strerror(errno)))") }
        for component in components.dropLast() {
            let next = openat(folder, component, cffmpeg_o_path() | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let error = errno
            close(folder)
            guard next >= 0 else {
                throw MediaError(input: input, reason: error == ENOTDIR || error == ELOOP
                    ? "changed while it was being opened: '\(component)' is no longer a folder (a symlink swapped in?)"
                    : "cannot open: \(String(cString: strerror(error)))")
            }
            folder = next
        }
        var info = stat()
        // Not opened at all unless it is a regular file (a FIFO would block,
        // a device could act on the open).
        guard fstatat(folder, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            let error = errno
            close(folder)
            throw MediaError(input: input, reason: "cannot open: \(String(cString: strerror(error)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            close(folder)
            throw MediaError(input: input, reason: info.st_mode & S_IFMT == S_IFLNK
                ? "changed while it was being opened: it is now a symbolic link" : "is not a regular file")
        }
        let descriptor = openat(folder, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard descriptor >= 0 else {
            let error = errno
            close(folder)
            throw MediaError(input: input, reason: error == ELOOP
                ? "changed while it was being opened: it is now a symbolic link"
                : "cannot open: \(String(cString: strerror(error)))")
        }
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            close(folder)
            throw MediaError(input: input, reason: "is not a regular file")
        }
        return MediaFile(path: path, name: name, descriptor: descriptor, folder: folder, opened: info)
    }

    /// The URL scheme, lowercased, if the input starts with one (`rtsp:`,
    /// `file:`); a path has none.
    static func scheme(of input: String) -> String? {
        // As libavformat reads it: scheme characters, then ':' — or ',' for
        // `subfile,,start,...,:path`.
        let candidate = input.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || "+.-".contains($0)) }
        guard let first = candidate.first, first.isLetter, candidate.endIndex < input.endIndex else { return nil }
        let next = input[candidate.endIndex]
        if next == ":" || (next == "," && candidate.lowercased() == "subfile") { return candidate.lowercased() }
        return nil
    }

    private static func filePath(fromURL input: String) throws(MediaError) -> String {
        guard let url = URL(string: input), url.isFileURL, !url.path.isEmpty else {
            throw MediaError(input: input, reason: "is not a file URL this can read (file:///absolute/path)")
        }
        if let host = url.host, !host.isEmpty, host != "localhost" {
            throw MediaError(input: input, reason: "names another host (\(host)); only local files are opened")
        }
        return url.path
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
