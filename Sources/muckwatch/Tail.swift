import ArgumentParser
import Foundation
import MuckwatchConfig
import MuckwatchCore

#if canImport(Glibc)
import Glibc
#endif

/// `muckwatch tail`: the alert log for people at a terminal — one line per
/// alert, coloured by severity on a TTY, following across logrotate.
struct Tail: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pretty-print the alert log: one line per alert; --follow keeps watching, across logrotate.")

    @Flag(name: [.short, .long], help: "Keep printing alerts as they are appended (like tail -F).")
    var follow = false

    @Option(help: "Only this rule (repeatable).")
    var rule: [String] = []

    @Option(help: "Only alerts of at least this severity: minor, major or critical.")
    var severity: String?

    @Option(help: "Only alerts from this time on: 2026-11-24T22:00:00+08:00, a local '2026-11-24 22:00' or '2026-11-24', or a span back from now: 30m, 2h, 1d.")
    var since: String?

    @Option(name: .customLong("alerts"), help: "The alert log (default: the config's alerts.log).")
    var alertsPath: String?

    @Option(help: "Config file, for the alert log's path and the time zone.")
    var config: String?

    func run() throws {
        let cfg = try loadConfiguration(config)
        let offset = cfg.utcOffsetSeconds
        var filter = AlertFilter(rules: Set(rule))
        if let severity {
            guard let s = Severity(rawValue: severity) else {
                throw ValidationError("--severity '\(severity)' should be minor, major or critical")
            }
            filter.minSeverity = s
        }
        if let since {
            guard let t = AlertFilter.parseSince(since, offsetSeconds: offset, now: Date()) else {
                throw ValidationError("--since '\(since)' is not a time like 2026-11-24T22:00:00+08:00, 2026-11-24 22:00, or a span like 30m, 2h, 1d")
            }
            filter.since = t
        }
        let path = alertsPath ?? cfg.alertLogPath
        let colour = isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        let printer = AlertPrinter(filter: filter, offsetSeconds: offset, colour: colour)
        var reader = LogFollower(path: path)
        if !follow {
            guard FileManager.default.fileExists(atPath: path) else {
                throw CLIError("there is no alert log at \(path); pass --alerts with the path muckwatchd writes to (alerts.log in its config)")
            }
            let lines = try reader.readAvailable(final: true)
            guard reader.isOpen else {
                let why = access(path, R_OK) != 0 ? String(cString: strerror(errno)).lowercased() : "it could not be opened"
                throw CLIError("cannot read the alert log at \(path): \(why)")
            }
            for line in lines { printer.handle(line) }
            return
        }
        var said = false
        while true {
            // Said once, and only before the log is first opened: the moment
            // between logrotate's rename and the new file is no news.
            if !said && !reader.isOpen && !FileManager.default.fileExists(atPath: path) {
                FileHandle.standardError.write(Data("muckwatch tail: waiting for \(path.terminalEscaped) to appear\n".utf8))
                said = true
            }
            for line in (try? reader.readAvailable(final: false)) ?? [] { printer.handle(line) }
            usleep(200_000)
        }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

struct AlertFilter {
    var rules: Set<String> = []
    var minSeverity: Severity?
    var since: Instant?

    func accepts(rule: String, severity: Severity, ts: Instant) -> Bool {
        (rules.isEmpty || rules.contains(rule)) && (minSeverity.map { severity >= $0 } ?? true) && (since.map { ts >= $0 } ?? true)
    }

    static func parseSince(_ text: String, offsetSeconds: Int, now: Date) -> Instant? {
        if let t = RFC3339.parse(text) { return t }
        let nowInstant = Instant(millis: Int64(now.timeIntervalSince1970 * 1000))
        // A span: whole digits and a unit, at most ten years back.
        if let unit = text.last, text.count > 1, text.dropLast().allSatisfy(\.isASCIIDigit),
           let n = Double(text.dropLast()) {
            let scale: Double? = switch unit { case "s": 1; case "m": 60; case "h": 3600; case "d": 86_400; default: nil }
            if let scale, n * scale <= 10 * 366 * 86_400 { return nowInstant.adding(seconds: -n * scale) }
            if scale != nil { return nil }
        }
        let local = text.replacingOccurrences(of: " ", with: "T")
        for candidate in [local + ":00", local + "T00:00:00", local] {
            if let t = RFC3339.parse(candidate + "Z") { return t.adding(seconds: -Double(offsetSeconds)) }
        }
        return nil
    }
}

/// Formats alert lines; a line that is not an alert is a warning on stderr.
struct AlertPrinter {
    var filter: AlertFilter
    var offsetSeconds: Int
    var colour: Bool

    func handle(_ line: (number: Int, text: String)) {
        guard !line.text.isEmpty else { return }
        switch Self.format(line.text, filter: filter, offsetSeconds: offsetSeconds, colour: colour) {
        case .shown(let out): FileHandle.standardOutput.write(Data((out + "\n").utf8))  // unbuffered: --follow shows each at once
        case .filtered: break
        case .invalid(let why):
            FileHandle.standardError.write(Data("muckwatch tail: line \(line.number) is not an alert (\(why)); skipped\n".utf8))
        }
    }

    enum Result: Equatable { case shown(String), filtered, invalid(String) }

    static func format(_ text: String, filter: AlertFilter, offsetSeconds: Int, colour: Bool) -> Result {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            return .invalid("not a JSON object")
        }
        guard let tsText = object["ts"] as? String, let ts = RFC3339.parse(tsText) else { return .invalid("no valid 'ts'") }
        guard let rule = object["rule"] as? String else { return .invalid("no 'rule'") }
        guard let sevText = object["severity"] as? String, let severity = Severity(rawValue: sevText) else {
            return .invalid("no valid 'severity'")
        }
        guard filter.accepts(rule: rule, severity: severity, ts: ts) else { return .filtered }
        // Every string of the line is the device's or the log's, and is
        // shown escaped: a plate must not set the title or forge a line.
        let subject = object["subject"] as? [String: Any] ?? [:]
        var who = ((subject["plate"] as? String) ?? (subject["id"] as? String) ?? "?").terminalEscaped
        if let company = subject["company"] as? String { who += " " + company.terminalEscaped }
        let place: String
        if let lat = object["lat"] as? Double, let lon = object["lon"] as? Double {
            place = String(format: "%.5f,%.5f", lat, lon)
        } else {
            place = "-"
        }
        let local = RFC3339.format(ts, offsetSeconds: offsetSeconds)
        let time = String(local.prefix(19)).replacingOccurrences(of: "T", with: " ")
        let caseId = (object["case_id"] as? String ?? "-").terminalEscaped
        let action = (object["suggested_action"] as? String ?? "-").terminalEscaped
        let summary = (object["summary"] as? String ?? "").terminalEscaped
        let sev = severity.rawValue.uppercased().padding(toLength: 8, withPad: " ", startingAt: 0)
        let ruleCol = rule.terminalEscaped.padding(toLength: 15, withPad: " ", startingAt: 0)
        guard colour else {
            return .shown("\(time)  \(sev)  \(ruleCol)  \(who)  \(place)  \(caseId)  \(action)  \(summary)")
        }
        let tint = switch severity { case .critical: "\u{1B}[1;31m"; case .major: "\u{1B}[33m"; case .minor: "\u{1B}[36m" }
        let dim = "\u{1B}[2m", bold = "\u{1B}[1m", reset = "\u{1B}[0m"
        return .shown("\(dim)\(time)\(reset)  \(tint)\(sev)\(reset)  \(tint)\(ruleCol)\(reset)  \(bold)\(who)\(reset)  \(place)  \(dim)\(caseId)\(reset)  \(action)  \(summary)")
    }
}

/// Reads whole lines appended to a file, like `tail -F`: a partial last line
/// waits for its newline; a rotated file (renamed, a new one created) is read
/// to its end and then the new one from its start; a truncated one
/// (copytruncate) is read again from its start.
struct LogFollower {
    let path: String
    private var handle: FileHandle?
    private var inode: UInt64 = 0
    private var offset: UInt64 = 0
    private var partial = Data()
    private var lineNumber = 0

    init(path: String) { self.path = path }

    var isOpen: Bool { handle != nil }

    mutating func readAvailable(final: Bool) throws -> [(number: Int, text: String)] {
        var out: [(number: Int, text: String)] = []
        if handle == nil { try open(); if handle == nil { return [] } }
        out += drain()
        // Rotated (a new file at the path) or truncated?
        var st = stat()
        if stat(path, &st) == 0 {
            if UInt64(st.st_ino) != inode {
                out += drain()
                out += flushPartial()
                try open()
                out += drain()
            } else if UInt64(st.st_size) < offset {
                partial.removeAll()
                try handle?.seek(toOffset: 0)
                offset = 0
                lineNumber = 0
                out += drain()
            }
        }
        if final { out += flushPartial() }
        return out
    }

    private mutating func open() throws {
        try? handle?.close()
        handle = nil
        guard let h = FileHandle(forReadingAtPath: path) else { return }
        var st = stat()
        guard fstat(h.fileDescriptor, &st) == 0 else { return }
        handle = h
        inode = UInt64(st.st_ino)
        offset = 0
        lineNumber = 0
        partial.removeAll()
    }

    private mutating func drain() -> [(number: Int, text: String)] {
        guard let handle else { return [] }
        var out: [(number: Int, text: String)] = []
        while let chunk = try? handle.read(upToCount: 1 << 16), !chunk.isEmpty {
            offset += UInt64(chunk.count)
            partial.append(chunk)
            while let nl = partial.firstIndex(of: 0x0A) {
                lineNumber += 1
                out.append((lineNumber, String(decoding: partial[partial.startIndex..<nl], as: UTF8.self)))
                partial.removeSubrange(partial.startIndex...nl)
            }
        }
        return out
    }

    private mutating func flushPartial() -> [(number: Int, text: String)] {
        guard !partial.isEmpty else { return [] }
        lineNumber += 1
        defer { partial.removeAll() }
        return [(lineNumber, String(decoding: partial, as: UTF8.self))]
    }
}
