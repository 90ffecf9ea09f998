import Foundation
import MuckwatchCore

/// What the daemon learns from one video: for a camera or drone event, the
/// frame at the event's time and the keyframe a clip must be cut from; for a
/// segment announcement, the telemetry inside. A video that cannot be read
/// gives `unreadable` and the reason, never an error thrown at the caller.
public struct VideoAnalysis: Sendable {
    public struct Frame: Sendable, Equatable {
        /// In the stream's time base, as ffprobe lists it.
        public var pts: Int64
        public var seconds: Double
        /// Nil when the video has no clock.
        public var wallTime: Instant?
    }

    public var url: String
    /// SHA-256 of the file's bytes (local files only).
    public var fileSHA256: String?
    /// Nil when the video was read; else why not, in one sentence.
    public var unreadable: String?
    /// Why the video was read only in part (cut short, a read error before
    /// its end): what was read is kept, but the analysis is not `ok`.
    public var partial: String?
    public var formatName: String?
    public var durationS: Double?
    public var clockSource: WallClockSource?
    /// Where on the video's clock the event falls.
    public var targetSeconds: Double?
    /// The last frame shown at or before the event's time.
    public var frame: Frame?
    /// The last keyframe at or before that frame.
    public var keyframe: Frame?
    /// Why the frame could not be placed, when the video was read but gave none.
    public var note: String?
    /// Drone positions found inside (segments), with the telemetry they came from.
    public var track: [(position: DroneTelemetry, origin: TelemetrySample.Source)] = []
    /// Telemetry samples not trusted (bad checksums, ...).
    public var untrustedSamples = 0

    public init(url: String) { self.url = url }

    /// `ok`, `partial` or `unreadable`, as the store records it.
    public var status: String { unreadable != nil ? "unreadable" : partial != nil ? "partial" : "ok" }

    /// The frame of `url` at `eventTime` (or `offsetS` seconds into it, when
    /// the event says), and the keyframe at or before it.
    public static func clip(url: String, offsetS: Double?, eventTime: Instant, options: DemuxerOptions,
                            interrupt: DemuxInterrupt = DemuxInterrupt()) -> VideoAnalysis {
        var result = VideoAnalysis(url: url)
        let reader: MediaReader
        do {
            reader = try MediaReader(url, options: options, sidecarSRT: false, interrupt: interrupt)
        } catch {
            result.unreadable = error.description
            return result
        }
        result.describe(reader)
        do throws(MediaError) {
            try result.placeFrame(reader, offsetS: offsetS, eventTime: eventTime)
        } catch {
            result.readStopped(error)
        }
        result.seal(reader)
        return result
    }

    private mutating func placeFrame(_ reader: MediaReader, offsetS: Double?, eventTime: Instant) throws(MediaError) {
        let start = reader.format.startTime ?? 0
        guard let target = offsetS.map({ start + $0 }) ?? reader.clock?.mediaSeconds(at: eventTime) else {
            note = "the event gives no offset into the clip and the clip has no wall clock: the frame cannot be placed"
            return
        }
        targetSeconds = target
        var clock = reader.clock
        if clock == nil, offsetS != nil {
            clock = WallClock(source: .eventClipOffset, anchorMicros: eventTime.millis * 1000, anchorMediaSeconds: target)
            clockSource = .eventClipOffset
        }
        guard let video = reader.streams.first(where: { $0.codecType == "video" })?.index else {
            note = "the clip has no video stream"
            return
        }
        var frame: Packet?, keyframe: Packet?
        func framed(_ p: Packet?) -> Frame? {
            guard let p, let pts = p.pts, let t = p.ptsSeconds else { return nil }
            return Frame(pts: pts, seconds: t, wallTime: clock?.wallTime(atMediaSeconds: t))
        }
        // What was found before a read error still stands.
        defer {
            self.frame = framed(frame)
            self.keyframe = framed(keyframe)
            if frame == nil { note = "no frame of the clip is shown at or before the event's time" }
        }
        while let p = try reader.next() {
            guard p.streamIndex == video else { continue }
            // Decoding order: nothing after a packet decoded past the target is shown before it.
            if let dts = p.dtsSeconds, dts > target { break }
            guard let t = p.ptsSeconds, t <= target + 1e-9 else { continue }
            if t > frame?.ptsSeconds ?? -.infinity { frame = p }
            if p.isKey, t > keyframe?.ptsSeconds ?? -.infinity { keyframe = p }
        }
    }

    /// The drone positions inside a recorded segment of `source`.
    public static func segment(url: String, source: String, start: Instant, options: DemuxerOptions,
                               srtUTCOffsetSeconds: Int, interrupt: DemuxInterrupt = DemuxInterrupt()) -> VideoAnalysis {
        var result = VideoAnalysis(url: url)
        let reader: MediaReader
        do {
            reader = try MediaReader(url, options: options, segmentStart: start,
                                     srtUTCOffsetSeconds: srtUTCOffsetSeconds, interrupt: interrupt)
        } catch {
            result.unreadable = error.description
            return result
        }
        result.describe(reader)
        result.note = reader.sidecarProblem
        do throws(MediaError) {
            while try reader.next() != nil {}
        } catch {
            result.readStopped(error)
        }
        for sample in reader.telemetry {
            guard sample.problem == nil else {
                result.untrustedSamples += 1
                continue
            }
            guard let lat = sample.lat, let lon = sample.lon,
                  let ts = sample.time ?? sample.mediaSeconds.flatMap({ reader.clock?.wallTime(atMediaSeconds: $0) })
            else { continue }
            result.track.append((DroneTelemetry(drone: source, ts: ts, lat: lat, lon: lon, altM: sample.altM,
                                                headingDeg: sample.headingDeg), sample.source))
        }
        result.seal(reader)
        return result
    }

    private mutating func describe(_ reader: MediaReader) {
        formatName = reader.format.formatName
        durationS = reader.format.duration
        clockSource = reader.clock?.source
    }

    /// A read error after the open: what was read stands, the rest is missing.
    private mutating func readStopped(_ error: MediaError) {
        partial = [partial, "reading stopped before the end: \(error.reason)"].compactMap { $0 }.joined(separator: "; ")
    }

    /// Whether the file was whole, and its hash: from the same open file the
    /// demuxer read. A file that changed while read is unreadable: no hash
    /// can be said to be the one demuxed.
    private mutating func seal(_ reader: MediaReader) {
        if let cut = reader.cutShort {
            partial = [cut, partial].compactMap { $0 }.joined(separator: "; ")
        }
        do {
            fileSHA256 = try reader.demuxer.fileSHA256()
        } catch {
            // Nothing read from it stands: not a frame, not a position.
            unreadable = error.description
            frame = nil
            keyframe = nil
            track = []
        }
    }
}

extension VideoAnalysis {
    /// What the store keeps, and the pipeline gets, of this analysis.
    public var result: VideoResult {
        let status: VideoResult.Status = unreadable != nil ? .unreadable : partial != nil ? .partial : .ok
        let reason = unreadable ?? [partial, note].compactMap { $0 }.joined(separator: "; ")
        var r = VideoResult(url: url, status: status, reason: reason.isEmpty ? nil : reason)
        r.fileSHA256 = fileSHA256
        r.formatName = formatName
        r.durationS = durationS
        r.clockSource = clockSource?.rawValue
        r.targetSeconds = targetSeconds
        r.frame = frame.map { VideoResult.Frame(pts: $0.pts, seconds: $0.seconds, wallTime: $0.wallTime) }
        r.keyframe = keyframe.map { VideoResult.Frame(pts: $0.pts, seconds: $0.seconds, wallTime: $0.wallTime) }
        r.track = track.map { point in
            var p = point.position
            p.origin = point.origin.rawValue
            return p
        }
        r.untrustedSamples = untrustedSamples
        return r
    }
}
