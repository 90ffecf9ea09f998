import ArgumentParser
import Foundation
import MuckwatchConfig
import MuckwatchCore
import MuckwatchMedia

/// `muckwatch probe`: what a video holds, without decoding it — container
/// and streams, every packet's timestamps (as ffprobe lists them), the
/// wall-clock mapping and the drone telemetry inside.
struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Demux a video file or stream: metadata, packet timestamps, wall-clock time, telemetry.",
        discussion: """
            Without --json: a summary for people. With --json: JSON Lines, one {"kind":"format"} record, \
            one {"kind":"stream"} per stream, one {"kind":"packet"} per packet in demux order with \
            ffprobe's field names and values (-show_packets), then one {"kind":"telemetry"} per KLV or \
            SRT sample. Local files are opened by default; other protocols only with --allow-protocol \
            (concat:, subfile:, data: and the like never).
            """)

    @Argument(help: "A file path, a file:// URL, or a URL of an allowed protocol.")
    var input: String

    @Flag(help: "JSON Lines instead of the summary.")
    var json = false

    @Option(name: .customLong("allow-protocol"), help: "Also allow this protocol (rtsp, rtmp, srt, http, https, ...) and the transports under it; repeatable.")
    var allowProtocols: [String] = []

    @Option(help: "UTC offset of DJI SRT date lines, which have none (default: the config's time zone, else +08:00).")
    var srtUTCOffset: String?

    @Option(help: "Config file (its time zone).")
    var config: String?

    @Option(help: "Give up opening after this many seconds.")
    var timeout: Double = 15

    func run() throws {
        var options = DemuxerOptions()
        for p in allowProtocols { options.allow(p) }
        options.openTimeoutS = timeout
        let offset = try utcOffsetSeconds()
        let reader: MediaReader
        do {
            reader = try MediaReader(input, options: options, srtUTCOffsetSeconds: offset)
        } catch {
            throw CLIError("\(error)")
        }
        var out = JSONLinesWriter()
        defer { out.flush() }
        if json {
            try writeJSON(reader, &out)
        } else {
            try writeSummary(reader, &out)
        }
    }

    private func utcOffsetSeconds() throws -> Int {
        if let text = srtUTCOffset {
            guard let s = MuckwatchConfiguration.utcOffset(text) else {
                throw CLIError("--srt-utc-offset '\(text)' is not an offset like +08:00 or a zone like Asia/Shanghai")
            }
            return s
        }
        return try loadConfiguration(config).utcOffsetSeconds
    }

    // MARK: JSON Lines

    private func writeJSON(_ reader: MediaReader, _ line: inout JSONLinesWriter) throws {
        let f = reader.format
        line.begin()
        line.field("kind", "format")
        line.field("filename", input)
        line.field("format_name", f.formatName)
        line.field("format_long_name", f.formatLongName)
        line.field("nb_streams", f.streamCount)
        line.field("start_time", f.startTime.map(Self.fixed))
        line.field("duration", f.duration.map(Self.fixed))
        line.field("size", f.size.map(String.init))
        line.field("bit_rate", f.bitRate.map(String.init))
        line.tags(f.tags)
        if let clock = reader.clock {
            line.key("wall_clock")
            line.begin()
            line.field("source", clock.source.rawValue)
            line.field("time_at_start", RFC3339.format(clock.wallTime(atMediaSeconds: f.startTime ?? 0), offsetSeconds: 0))
            line.endNested()
        } else {
            line.field("wall_clock", nil as String?)
        }
        line.end()

        for s in reader.streams {
            line.begin()
            line.field("kind", "stream")
            line.field("index", s.index)
            line.field("codec_type", s.codecType)
            line.field("codec_name", s.codecName)
            line.field("codec_tag_string", s.codecTag)
            line.field("time_base", s.timeBase.description)
            line.field("r_frame_rate", s.frameRate?.description)
            line.field("avg_frame_rate", s.averageFrameRate?.description)
            line.field("width", s.width)
            line.field("height", s.height)
            line.field("start_time", s.startTime.map(Self.fixed))
            line.field("duration", s.duration.map(Self.fixed))
            line.tags(s.tags)
            line.end()
            }

        let types = reader.streams.map { Array($0.codecType.utf8) }
        do {
            while let p = try reader.next() {
                line.begin()
                line.literalField("kind", "packet")
                if p.streamIndex < types.count { line.rawStringField("codec_type", types[p.streamIndex]) }
                line.field("stream_index", p.streamIndex)
                line.field("pts", p.pts)
                line.timeField("pts_time", p.pts, p.timeBase)
                line.field("dts", p.dts)
                line.timeField("dts_time", p.dts, p.timeBase)
                line.field("duration", p.duration)
                line.timeField("duration_time", p.duration, p.timeBase)
                line.intStringField("size", Int64(p.size))
                line.intStringField("pos", p.pos)
                line.flagsField(key: p.isKey, discard: p.isDiscard)
                if let clock = reader.clock, let t = p.seconds {
                    line.field("wall_time", RFC3339.format(clock.wallTime(atMediaSeconds: t), offsetSeconds: 0))
                }
                line.end()
                    }
        } catch {
            problem(&line, "partial", "reading stopped before the end: \(error.reason)")
            line.flush()
            throw CLIError("\(error)")
        }
        if let cut = reader.cutShort { problem(&line, "partial", cut) }
        if let sidecar = reader.sidecarProblem { problem(&line, "sidecar_not_read", sidecar) }

        for t in reader.telemetry {
            line.begin()
            line.field("kind", "telemetry")
            line.field("source", t.source.rawValue)
            line.field("stream_index", t.streamIndex)
            line.field("media_time", t.mediaSeconds.map(Self.fixed))
            line.field("time", t.time.map { RFC3339.format($0, offsetSeconds: 0) })
            line.field("lat", t.lat)
            line.field("lon", t.lon)
            line.field("alt_m", t.altM)
            line.field("heading_deg", t.headingDeg)
            if let problem = t.problem { line.field("problem", problem) }
            line.end()
            }
    }

    /// `{"kind":"problem"}`: why what was read is not the whole story.
    private func problem(_ line: inout JSONLinesWriter, _ what: String, _ reason: String) {
        line.begin()
        line.field("kind", "problem")
        line.field("problem", what)
        line.field("reason", reason)
        line.end()
    }

    /// ffprobe's "%f".
    static func fixed(_ v: Double) -> String { FFprobeText.fixed(v) }

    // MARK: Summary

    private func writeSummary(_ reader: MediaReader, _ out: inout JSONLinesWriter) throws {
        struct Counts { var packets = 0, keys = 0, bytes = 0; var keyTimes: [Double] = []; var first: Double?, last: Double? }
        var counts = [Counts](repeating: Counts(), count: reader.streams.count)
        var firstWall: Instant?, lastWall: Instant?
        var readError: MediaError?
        do {
            while let p = try reader.next() {
                guard p.streamIndex < counts.count else { continue }
                counts[p.streamIndex].packets += 1
                counts[p.streamIndex].bytes += p.size
                if let t = p.seconds {
                    counts[p.streamIndex].first = min(counts[p.streamIndex].first ?? t, t)
                    counts[p.streamIndex].last = max(counts[p.streamIndex].last ?? t, t)
                    if p.isKey { counts[p.streamIndex].keyTimes.append(t) }
                    if let w = reader.wallTime(of: p) {
                        firstWall = min(firstWall ?? w, w)
                        lastWall = max(lastWall ?? w, w)
                    }
                }
                if p.isKey { counts[p.streamIndex].keys += 1 }
            }
        } catch {
            readError = error
        }
        let f = reader.format
        // Tags, codec tags and telemetry problems are the file's text: shown
        // escaped, so that a crafted file cannot drive the terminal.
        func shown(_ s: String) -> String { TerminalText.escaped(s) }
        var text = "Input:      \(shown(input))\n"
        text += "Container:  \(shown(f.formatName)) (\(shown(f.formatLongName)))"
        if let d = f.duration { text += ", \(Self.seconds(d))" }
        if let b = f.bitRate { text += ", \(b / 1000) kb/s" }
        text += "\n"
        for key in ["creation_time", "location", "encoder"] {
            if let v = f.tags[key] { text += "  \(key): \(shown(v))\n" }
        }
        for s in reader.streams {
            let c = counts[s.index]
            text += "Stream #\(s.index): \(shown(s.codecType)) \(shown(s.codecName))"
            if let tag = s.codecTag, s.codecType == "data" { text += " [\(shown(tag))]" }
            if let w = s.width, let h = s.height { text += ", \(w)x\(h)" }
            if let r = s.averageFrameRate ?? s.frameRate, s.codecType == "video" { text += ", \(Self.rate(r)) fps" }
            text += ", time base \(s.timeBase)\n"
            text += "  \(c.packets) packet(s)"
            if s.codecType == "video" {
                text += ", \(c.keys) keyframe(s)"
                if c.keyTimes.count >= 2 {
                    let gaps = zip(c.keyTimes.dropFirst(), c.keyTimes).map { $0 - $1 }
                    text += ", keyframe every \(Self.seconds(gaps.reduce(0, +) / Double(gaps.count))) on average"
                        + " (longest \(Self.seconds(gaps.max() ?? 0)))"
                }
            }
            if let a = c.first, let b = c.last { text += ", \(Self.seconds(a))–\(Self.seconds(b))" }
            text += "\n"
        }
        if let clock = reader.clock, let a = firstWall, let b = lastWall {
            text += "Wall clock: \(RFC3339.format(a, offsetSeconds: 0)) – \(RFC3339.format(b, offsetSeconds: 0))"
                + " (from \(clock.source.rawValue.replacingOccurrences(of: "_", with: " ")))\n"
        } else {
            text += "Wall clock: unknown (no RTCP time, producer reference time, KLV time stamp or creation_time)\n"
        }
        let good = reader.telemetry.filter { $0.problem == nil }
        let bad = reader.telemetry.count - good.count
        if reader.telemetry.isEmpty {
            text += "Telemetry:  none\n"
        } else {
            let bySource = Dictionary(grouping: good, by: \.source).map { "\($0.value.count) \($0.key.rawValue)" }.sorted()
            text += "Telemetry:  \(bySource.joined(separator: ", "))\(bad > 0 ? "; \(bad) sample(s) not trusted" : "")\n"
            if let first = good.first(where: { $0.lat != nil }), let last = good.last(where: { $0.lat != nil }) {
                text += "  first position \(first.lat!), \(first.lon!)"
                if let t = first.time { text += " at \(RFC3339.format(t, offsetSeconds: 0))" }
                text += "\n  last position  \(last.lat!), \(last.lon!)"
                if let t = last.time { text += " at \(RFC3339.format(t, offsetSeconds: 0))" }
                text += "\n"
            }
            for problem in reader.telemetry.compactMap(\.problem).prefix(5) { text += "  not trusted: \(shown(problem))\n" }
        }
        if let sidecar = reader.sidecarProblem { text += "  \(sidecar)\n" }
        let partial = [reader.cutShort, readError.map { "reading stopped before the end: \($0.reason)" }].compactMap { $0 }
        if !partial.isEmpty { text += "Partial:    \(partial.joined(separator: "; "))\n" }
        out.text(text)
        if let readError { throw CLIError("\(readError)") }
    }

    private static func seconds(_ s: Double) -> String { String(format: "%.3f s", s) }
    private static func rate(_ r: Rational) -> String {
        r.den == 1 ? "\(r.num)" : String(format: "%.3f", r.value)
    }
}

/// JSON Lines for standard output, built as bytes and written in large
/// blocks: keys in the order written, unknown values as `null`. The probe
/// output's hot path (one line per packet), so nothing here allocates per
/// value.
struct JSONLinesWriter {
    private var bytes: [UInt8] = []
    private var needsComma = false

    init() { bytes.reserveCapacity(1 << 17) }

    private mutating func byte(_ c: UInt8) { bytes.append(c) }
    private mutating func ascii(_ s: StaticString) { s.withUTF8Buffer { bytes.append(contentsOf: $0) } }

    /// Starts a record, or an object as the value of the key just written.
    mutating func begin() {
        byte(UInt8(ascii: "{"))
        needsComma = false
    }

    mutating func endNested() {
        byte(UInt8(ascii: "}"))
        needsComma = true
    }

    /// Ends a record: a line of its own.
    mutating func end() {
        byte(UInt8(ascii: "}"))
        byte(0x0A)
        if bytes.count >= 1 << 16 { flush() }
    }

    mutating func text(_ s: String) {
        bytes.append(contentsOf: s.utf8)
        flush()
    }

    mutating func flush() {
        guard !bytes.isEmpty else { return }
        FileHandle.standardOutput.write(Data(bytes))
        bytes.removeAll(keepingCapacity: true)
    }

    mutating func key(_ k: StaticString) {
        if needsComma { byte(UInt8(ascii: ",")) }
        needsComma = true
        byte(UInt8(ascii: "\""))
        ascii(k)
        byte(UInt8(ascii: "\""))
        byte(UInt8(ascii: ":"))
    }

    private mutating func null() { ascii("null") }

    mutating func field(_ k: StaticString, _ v: String?) {
        key(k)
        guard var v else { return null() }
        v.withUTF8 { quote($0) }
    }

    mutating func field(_ k: StaticString, _ v: Int?) { field(k, v.map(Int64.init)) }

    mutating func field(_ k: StaticString, _ v: Int64?) {
        key(k)
        guard let v else { return null() }
        integer(v)
    }

    mutating func field(_ k: StaticString, _ v: Double?) {
        key(k)
        guard let v, v.isFinite else { return null() }
        bytes.append(contentsOf: String(v).utf8)
    }

    /// A string known to need no escaping.
    mutating func literalField(_ k: StaticString, _ v: StaticString) {
        key(k)
        byte(UInt8(ascii: "\""))
        ascii(v)
        byte(UInt8(ascii: "\""))
    }

    mutating func rawStringField(_ k: StaticString, _ utf8: [UInt8]) {
        key(k)
        utf8.withUnsafeBufferPointer { quote($0) }
    }

    /// ffprobe writes sizes and byte positions as strings.
    mutating func intStringField(_ k: StaticString, _ v: Int64?) {
        key(k)
        guard let v else { return null() }
        byte(UInt8(ascii: "\""))
        integer(v)
        byte(UInt8(ascii: "\""))
    }

    /// ffprobe's `print_time`: `ts * time_base` with "%f", as a string.
    mutating func timeField(_ k: StaticString, _ ts: Int64?, _ base: Rational) {
        key(k)
        guard let ts else { return null() }
        byte(UInt8(ascii: "\""))
        fixed(Double(ts) * base.value)
        byte(UInt8(ascii: "\""))
    }

    /// ffprobe 5.1's two flag characters: K (key) and D (discard).
    mutating func flagsField(key isKey: Bool, discard: Bool) {
        key("flags")
        byte(UInt8(ascii: "\""))
        byte(UInt8(ascii: isKey ? "K" : "_"))
        byte(UInt8(ascii: discard ? "D" : "_"))
        byte(UInt8(ascii: "\""))
    }

    mutating func tags(_ tags: [String: String]) {
        key("tags")
        byte(UInt8(ascii: "{"))
        for (i, (k, v)) in tags.sorted(by: { $0.key < $1.key }).enumerated() {
            if i > 0 { byte(UInt8(ascii: ",")) }
            var k = k, v = v
            k.withUTF8 { quote($0) }
            byte(UInt8(ascii: ":"))
            v.withUTF8 { quote($0) }
        }
        byte(UInt8(ascii: "}"))
    }

    private mutating func integer(_ v: Int64) {
        if v < 0 { byte(UInt8(ascii: "-")) }
        var m = v.magnitude
        let start = bytes.count
        repeat {
            byte(UInt8(48 + m % 10))
            m /= 10
        } while m > 0
        bytes[start...].reverse()
    }

    private mutating func fixed(_ v: Double) { FFprobeText.appendFixed(v, to: &bytes) }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func quote(_ s: UnsafeBufferPointer<UInt8>) {
        byte(UInt8(ascii: "\""))
        for c in s {
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                byte(UInt8(ascii: "\\"))
                byte(c)
            case 0x0A: byte(UInt8(ascii: "\\")); byte(UInt8(ascii: "n"))
            case 0x0D: byte(UInt8(ascii: "\\")); byte(UInt8(ascii: "r"))
            case 0x09: byte(UInt8(ascii: "\\")); byte(UInt8(ascii: "t"))
            case 0..<0x20:
                ascii("\\u00")
                byte(Self.hex[Int(c >> 4)])
                byte(Self.hex[Int(c & 0xF)])
            default: byte(c)
            }
        }
        byte(UInt8(ascii: "\""))
    }
}
