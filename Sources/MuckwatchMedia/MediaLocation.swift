import Foundation

/// Turns what a message or an operator names (a path, a `file://` URL, a
/// network URL) into what libavformat opens, refusing what the options do
/// not allow. Local files are resolved through their symlinks first, so a
/// link inside a media root cannot lead outside it.
enum MediaLocation {
    /// Protocols that open other inputs on a string's say-so: never allowed,
    /// whatever the configuration lists.
    static let refused: Set<String> = ["concat", "concatf", "subfile", "data", "pipe", "fd", "tee", "async", "cache"]

    static func resolve(_ input: String, options: DemuxerOptions) throws(MediaError) -> String {
        if input.isEmpty { throw MediaError(input: input, reason: "no file or URL given") }
        let scheme = Self.scheme(of: input)
        if let scheme, scheme != "file" {
            if refused.contains(scheme) {
                throw MediaError(input: input, reason: "the '\(scheme):' protocol is never opened (it reads other inputs)")
            }
            guard options.protocols.contains(scheme) else {
                throw MediaError(input: input, reason: "the '\(scheme)' protocol is not allowed (allowed: \(options.protocols.joined(separator: ", ")))")
            }
            return input
        }
        guard options.protocols.contains("file") else {
            throw MediaError(input: input, reason: "local files are not allowed (allowed: \(options.protocols.joined(separator: ", ")))")
        }
        let path = scheme == "file" ? try filePath(fromURL: input) : input
        guard let resolved = realPath(path) else {
            throw MediaError(input: input, reason: "cannot open: \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard stat(resolved, &info) == 0 else {
            throw MediaError(input: input, reason: "cannot open: \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw MediaError(input: input, reason: "is not a regular file")
        }
        if let roots = options.mediaRoots {
            let inside = roots.contains { root in
                guard let r = realPath(root) else { return false }
                return resolved == r || resolved.hasPrefix(r.hasSuffix("/") ? r : r + "/")
            }
            guard inside else {
                throw MediaError(input: input, reason: "is outside the media roots (\(roots.joined(separator: ", "))) once resolved to \(resolved)")
            }
        }
        // `file:` so that a name with a colon is not taken for a protocol.
        return "file:" + resolved
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
