import ArgumentParser
import Foundation
import MuckwatchConfig
import MuckwatchCore

/// `muckwatch decode`: what Muckwatch makes of a device's messages, one JSON
/// line each in the native schema (§4), or the reason it rejects them. The
/// tool for a device that "sends nothing".
struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode device messages (JT/T 808, HJ 212, DJI OSD, native JSON) into native JSON lines.",
        discussion: """
            Prints one JSON line per decoded record: the native fields (device, ts, lat, lon, ...) and the \
            protocol's other fields under "extra". A rejected message prints {"error": REASON, "detail": ...}; \
            a recognised message that carries no telemetry (a heartbeat, a dock's OSD) prints {"ignored": WHAT}.
            Input: jt808 is a binary stream of 0x7e frames; hj212, dji-osd and native are one message per line. \
            With --hex every line is one message written in hexadecimal.
            Exit status 1 if any message was rejected.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case jt808, hj212, djiOSD = "dji-osd", native
    }

    @Option(help: "The protocol: \(Format.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: Format

    @Flag(help: "The input is hexadecimal text, one message per line.")
    var hex = false

    @Option(help: "Config file: its registry (phone → truck), protocols (vendor mappings, lenient devices) and time zone.")
    var config: String?

    @Option(help: "The topic the messages arrived on: its '+' level is the device when the message names none; for native JSON it says the payload's kind.")
    var topic: String?

    @Argument(help: "Input file, or - for standard input.")
    var input: String

    func run() throws {
        let settings = try loadConfiguration(config)
        let pipeline = settings.pipelineSettings
        let decoder = pipeline.payloadDecoder()
        let offset = settings.utcOffsetSeconds
        let data: Data
        if input == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let d = FileManager.default.contents(atPath: input) else {
                throw CLIError("cannot read \(input): no such file, or it is not readable")
            }
            data = d
        }
        var routed: (kind: PayloadKind, device: String?)?
        if let topic {
            guard let r = pipeline.routes.route(topic) else {
                throw CLIError("topic '\(topic)' matches no configured topic filter")
            }
            routed = (r.kind, r.deviceFromTopic)
        }
        var rejected = 0
        for (n, message) in messages(in: [UInt8](data)).enumerated() {
            var line = JSONLine()
            guard let bytes = message else {
                line.add("error", "bad_hex")
                line.add("detail", "line is not hexadecimal bytes")
                line.add("message", n + 1)
                print(line.text)
                rejected += 1
                continue
            }
            let kind = routed?.kind ?? kind(of: bytes)
            for item in decoder.items(kind: kind, payload: bytes, topicDevice: routed?.device, extra: true) {
                var out: JSONLine
                switch item {
                case .record(let record, let extra):
                    out = record.nativeJSON(offsetSeconds: offset)
                    if let extra { out.add("extra", object: extra) }
                case .ignored(let what, let extra):
                    out = JSONLine()
                    out.add("ignored", what)
                    out.add("message", n + 1)
                    if let extra { out.add("extra", object: extra) }
                case .failure(let failure, let extra):
                    rejected += 1
                    out = JSONLine()
                    out.add("error", failure.reason.rawValue)
                    out.add("detail", failure.detail)
                    out.add("message", n + 1)
                    if let extra { out.add("extra", object: extra) }
                }
                print(out.text)
            }
        }
        if rejected > 0 { throw ExitCode.failure }
    }

    /// The messages of the input, nil for a line that is not hexadecimal.
    private func messages(in bytes: [UInt8]) -> [[UInt8]?] {
        if hex {
            return lines(bytes).map { Hex.bytes(String(decoding: $0, as: UTF8.self)) }
        }
        return format == .jt808 ? [bytes] : lines(bytes)
    }

    private func lines(_ bytes: [UInt8]) -> [[UInt8]] {
        bytes.split(separator: 0x0a).map { line in
            var l = Array(line)
            while let last = l.last, last == 0x0d || last == 0x20 { l.removeLast() }
            return l
        }.filter { !$0.isEmpty }
    }

    private func kind(of payload: [UInt8]) -> PayloadKind {
        switch format {
        case .jt808: return .jt808
        case .hj212: return .hj212
        case .djiOSD: return .djiOSD
        case .native:
            // Without --topic, the keys say what it is.
            let keys = (try? JSONSerialization.jsonObject(with: Data(payload))) as? [String: Any] ?? [:]
            if keys["monitor"] != nil || keys["conc_mg_m3"] != nil { return .fumeReading }
            if keys["camera"] != nil { return .cameraEvent }
            if keys["drone"] != nil { return keys["type"] != nil ? .droneEvent : .droneTelemetry }
            if keys["url"] != nil { return .videoSegment }
            return .truckTelemetry
        }
    }
}
