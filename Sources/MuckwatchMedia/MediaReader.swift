import Foundation
import MuckwatchCore

/// A position report found inside a video: a MISB ST 0601 packet of a KLV
/// stream, or a DJI SRT subtitle (in a subtitle stream or a sidecar file).
public struct TelemetrySample: Sendable, Equatable {
    public enum Source: String, Sendable {
        case misbKLV = "misb_st0601"
        case djiSubtitle = "dji_srt"
        case djiSidecar = "dji_srt_sidecar"
    }

    public var source: Source
    /// The stream it came from (nil for a sidecar file).
    public var streamIndex: Int?
    /// Where it sits on the video's clock, when known.
    public var mediaSeconds: Double?
    /// The time the sample itself states (KLV tag 2; the SRT date line at
    /// the configured UTC offset).
    public var time: Instant?
    public var lat: Double?
    public var lon: Double?
    public var altM: Double?
    public var headingDeg: Double?
    /// Why the sample is not to be trusted (a bad checksum, ...); its values
    /// are then left out.
    public var problem: String?
}

/// Reads a video the way Muckwatch needs it: the demuxer's packets in order,
/// each with a wall-clock time from the best source the file offers, and
/// the drone telemetry inside it.
///
/// The better clock sources (producer reference times, KLV time stamps) are
/// only seen in packets, so the first `discoveryPackets` packets are read
/// ahead and held before the first is handed out: every packet is then
/// timed by the same, settled clock.
public final class MediaReader {
    public let demuxer: Demuxer
    public private(set) var clock: WallClock?
    /// Telemetry decoded so far, in demux order (sidecar samples first).
    public private(set) var telemetry: [TelemetrySample] = []
    /// Why a sidecar beside the file was not read (a symlink, too large, ...).
    public private(set) var sidecarProblem: String?
    /// A read error met while reading ahead: thrown by `next()` once the
    /// packets before it have been handed out.
    private var readError: MediaError?
    private var ahead: [Packet] = []
    private var aheadIndex = 0
    private let klvStreams: Set<Int>
    private let subtitleStreams: Set<Int>
    private let movText: Set<Int>
    private let dataStreams: Set<Int>
    private let srtUTCOffsetSeconds: Int
    private var subtitleCount = 0
    /// The latest presentation time seen, for KLV packets that carry none
    /// (asynchronous KLV).
    private var lastSeconds: Double?

    public init(_ input: String, options: DemuxerOptions = DemuxerOptions(), segmentStart: Instant? = nil,
                srtUTCOffsetSeconds: Int = UTCOffset.chinaStandardTime, sidecarSRT: Bool = true,
                interrupt: DemuxInterrupt = DemuxInterrupt(), discoveryPackets: Int = 500) throws(MediaError) {
        demuxer = try Demuxer(input, options: options, interrupt: interrupt)
        self.srtUTCOffsetSeconds = srtUTCOffsetSeconds
        klvStreams = Set(demuxer.streams.filter { $0.codecName == "klv" || $0.codecTag == "KLVA" }.map(\.index))
        let subtitleCodecs: Set<String> = ["subrip", "srt", "text", "mov_text", "webvtt", "ass", "ssa"]
        subtitleStreams = Set(demuxer.streams.filter { $0.codecType == "subtitle" && subtitleCodecs.contains($0.codecName) }.map(\.index))
        movText = Set(demuxer.streams.filter { $0.codecName == "mov_text" }.map(\.index))
        dataStreams = klvStreams.union(subtitleStreams)
        if sidecarSRT, let sidecar = demuxer.file?.sidecar(extensions: ["SRT", "srt"]) {
            if let bytes = sidecar.bytes {
                readSidecar(bytes)
            } else {
                sidecarProblem = "sidecar \(sidecar.name) not read: \(sidecar.problem ?? "unknown")"
            }
        }

        var producer: WallClock?, misb: WallClock?
        do throws(MediaError) {
            while ahead.count < discoveryPackets, producer == nil, misb == nil,
                  let packet = try read() {
                ahead.append(packet)
                if let us = packet.producerWallclockMicros, let t = packet.seconds {
                    producer = WallClock(source: .producerReferenceTime, anchorMicros: us, anchorMediaSeconds: t)
                }
                if misb == nil, let sample = telemetry.last(where: { $0.source == .misbKLV && $0.problem == nil }),
                   let time = sample.time, let t = sample.mediaSeconds {
                    misb = WallClock(source: .misbTimestamp, anchorMicros: time.millis * 1000, anchorMediaSeconds: t)
                }
            }
        } catch {
            readError = error
        }
        let start = demuxer.format.startTime ?? 0
        if let rt = demuxer.format.startTimeRealtimeMicros {
            clock = WallClock(source: .rtcpSenderReport, anchorMicros: rt, anchorMediaSeconds: start)
        } else if let producer {
            clock = producer
        } else if let misb {
            clock = misb
        } else if let text = demuxer.format.tags["creation_time"], let created = RFC3339.parse(text) {
            clock = WallClock(source: .creationTime, anchorMicros: created.millis * 1000, anchorMediaSeconds: start)
        } else if let segmentStart {
            clock = WallClock(source: .segmentStart, anchorMicros: segmentStart.millis * 1000, anchorMediaSeconds: start)
        }
    }

    public var format: FormatInfo { demuxer.format }
    public var streams: [StreamInfo] { demuxer.streams }
    /// Why the file is only part of what its index describes (see `Demuxer.cutShort`).
    public var cutShort: String? { demuxer.cutShort }

    /// The next packet in demux order, nil at the end.
    public func next() throws(MediaError) -> Packet? {
        if aheadIndex < ahead.count {
            defer {
                aheadIndex += 1
                if aheadIndex == ahead.count { ahead = [] ; aheadIndex = 0 }
            }
            return ahead[aheadIndex]
        }
        if let error = readError {
            readError = nil
            throw error
        }
        return try read()
    }

    /// The packet's wall-clock time, if the video has a clock.
    public func wallTime(of packet: Packet) -> Instant? {
        guard let clock, let t = packet.seconds else { return nil }
        return clock.wallTime(atMediaSeconds: t)
    }

    private func read() throws(MediaError) -> Packet? {
        guard let packet = try demuxer.nextPacket(keepData: dataStreams) else { return nil }
        if klvStreams.contains(packet.streamIndex) {
            decodeKLV(packet)
        } else if subtitleStreams.contains(packet.streamIndex) {
            decodeSubtitle(packet)
        } else if let t = packet.ptsSeconds {
            lastSeconds = t
        }
        return packet
    }

    private func decodeKLV(_ packet: Packet) {
        guard let data = packet.data else { return }
        let at = packet.seconds ?? lastSeconds
        for item in MISB0601.scan(data) {
            switch item {
            case .packet(let p):
                telemetry.append(TelemetrySample(
                    source: .misbKLV, streamIndex: packet.streamIndex, mediaSeconds: at, time: p.time,
                    lat: p.sensorLat, lon: p.sensorLon, altM: p.sensorAltM, headingDeg: p.platformHeadingDeg))
            case .bad(let problem):
                telemetry.append(TelemetrySample(source: .misbKLV, streamIndex: packet.streamIndex, mediaSeconds: at,
                                                 problem: problem.description))
            }
        }
    }

    private func decodeSubtitle(_ packet: Packet) {
        guard var bytes = packet.data else { return }
        if movText.contains(packet.streamIndex) {
            // mov_text: a 16-bit text length, the text, then style boxes.
            guard bytes.count >= 2 else { return }
            let length = Int(bytes[0]) << 8 | Int(bytes[1])
            bytes = Array(bytes[2..<min(bytes.count, 2 + length)])
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let start = Int64(((packet.ptsSeconds ?? 0) * 1000).rounded())
        let end = start + Int64((Double(packet.duration ?? 0) * packet.timeBase.value * 1000).rounded())
        subtitleCount += 1
        let record = DJISRT.parseText(text, startMillis: start, endMillis: end, index: subtitleCount)
        telemetry.append(sample(record, source: .djiSubtitle, streamIndex: packet.streamIndex,
                                mediaSeconds: packet.ptsSeconds))
    }

    private func sample(_ r: DJISRTRecord, source: TelemetrySample.Source, streamIndex: Int?,
                        mediaSeconds: Double?) -> TelemetrySample {
        TelemetrySample(source: source, streamIndex: streamIndex, mediaSeconds: mediaSeconds,
                        time: r.localTime?.instant(utcOffsetSeconds: srtUTCOffsetSeconds),
                        lat: r.lat, lon: r.lon, altM: r.absoluteAltM ?? r.relativeAltM, headingDeg: r.headingDeg)
    }

    private func readSidecar(_ bytes: [UInt8]) {
        let start = demuxer.format.startTime ?? 0
        for record in DJISRT.parse(bytes).records {
            telemetry.append(sample(record, source: .djiSidecar, streamIndex: nil,
                                    mediaSeconds: start + Double(record.startMillis) / 1000))
        }
    }
}

@available(*, unavailable)
extension MediaReader: Sendable {}
