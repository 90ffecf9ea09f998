import CFFmpeg
import Foundation
import MuckwatchCore
import Synchronization

/// Why a file or stream could not be demuxed, in one sentence for a person.
public struct MediaError: Error, Sendable, CustomStringConvertible {
    /// FFmpeg's error code, when FFmpeg said no.
    public var code: Int32?
    public var input: String
    public var reason: String

    public init(input: String, reason: String, code: Int32? = nil) {
        self.input = input
        self.reason = reason
        self.code = code
    }

    public var description: String { "\(input): \(reason)" }

    /// FFmpeg's error, with the last line it logged about it on this thread.
    static func ffmpeg(_ code: Int32, _ input: String, _ action: String) -> MediaError {
        let detail = lastFFmpegErrorLine()
        return MediaError(input: input, reason: "\(action): \(ffmpegErrorText(code))\(detail.isEmpty ? "" : " (\(detail))")",
                          code: code)
    }
}

/// FFmpeg logs through `cffmpeg_log_callback` (see the shim) from the first
/// demuxer on.
let ffmpegLogCaptured: Bool = {
    cffmpeg_capture_log()
    return true
}()

func lastFFmpegErrorLine() -> String {
    var buffer = [CChar](repeating: 0, count: 512)
    return buffer.withUnsafeMutableBufferPointer { b in
        cffmpeg_take_last_error_line(b.baseAddress, b.count)
        return String(cString: b.baseAddress!).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

func ffmpegErrorText(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    return buffer.withUnsafeMutableBufferPointer { String(cString: cffmpeg_error_string(code, $0.baseAddress, $0.count)) }
}

/// Container-level facts, as `ffprobe -show_format` names them.
public struct FormatInfo: Sendable, Equatable {
    public var formatName: String
    public var formatLongName: String
    public var streamCount: Int
    /// Seconds; nil when the container does not say.
    public var startTime: Double?
    public var duration: Double?
    public var bitRate: Int64?
    /// Bytes, when the input is a file.
    public var size: Int64?
    public var tags: [String: String]
    /// RTSP/RTCP sender reports' wall clock at the stream's start, µs since 1970.
    public var startTimeRealtimeMicros: Int64?
}

/// One stream's facts, as `ffprobe -show_streams` names them.
public struct StreamInfo: Sendable, Equatable {
    public var index: Int
    /// `video`, `audio`, `data`, `subtitle`, ...
    public var codecType: String
    public var codecName: String
    /// The codec tag as text (e.g. `KLVA` for MISB KLV in MPEG-TS), if any.
    public var codecTag: String?
    public var timeBase: Rational
    public var frameRate: Rational?
    public var averageFrameRate: Rational?
    public var width: Int?
    public var height: Int?
    public var startTime: Double?
    public var duration: Double?
    public var tags: [String: String]
}

public struct Rational: Sendable, Equatable, CustomStringConvertible {
    public var num: Int32
    public var den: Int32
    public var value: Double { den == 0 ? 0 : Double(num) / Double(den) }
    public var description: String { "\(num)/\(den)" }
}

/// One demuxed packet: where its frame sits in time, not its pixels.
public struct Packet: Sendable, Equatable {
    public var streamIndex: Int
    public var pts: Int64?
    public var dts: Int64?
    /// In the stream's time base; nil when unknown (or 0, as ffprobe treats it).
    public var duration: Int64?
    public var timeBase: Rational
    public var isKey: Bool
    public var isDiscard: Bool
    public var size: Int
    /// Byte offset in the input, when known.
    public var pos: Int64?
    /// The payload, for the streams asked for (KLV, subtitles).
    public var data: [UInt8]?
    /// Producer reference time side data (µs since 1970), when the container carries it.
    public var producerWallclockMicros: Int64?

    public var ptsSeconds: Double? { pts.map { Double($0) * timeBase.value } }
    public var dtsSeconds: Double? { dts.map { Double($0) * timeBase.value } }
    /// The presentation time, or the decoding time when there is none.
    public var seconds: Double? { ptsSeconds ?? dtsSeconds }
}

/// What may be opened, and how long anything may take.
public struct DemuxerOptions: Sendable {
    /// libavformat protocols allowed (`protocol_whitelist`); nested opens
    /// (playlists, segments) are held to the same list.
    public var protocols: [String] = ["file"]
    /// Demuxers allowed (`format_whitelist`); the default leaves out
    /// playlists and the concat demuxer, which open further files.
    public var formats: [String] = DemuxerOptions.defaultFormats
    /// Local files must resolve (after symlinks) inside one of these folders;
    /// nil lets any local file be opened (the operator's own `probe`).
    public var mediaRoots: [String]? = nil
    /// Opening (probing included) must finish within this.
    public var openTimeoutS: Double = 15
    /// A network read that waits longer than this fails (`rw_timeout`), and
    /// so does a demuxer that produces nothing for as long.
    public var readTimeoutS: Double = 10
    public var probeSizeBytes = 5_000_000
    public var analyzeDurationS = 5.0
    public var maxStreams = 32

    public init() {}

    /// Allows a protocol and the transports libavformat opens under it
    /// (RTSP runs over RTP/UDP/TCP, HTTPS over TLS/TCP, ...).
    public mutating func allow(_ scheme: String) {
        let transports: [String: [String]] = [
            "rtsp": ["rtp", "udp", "tcp"], "rtmp": ["tcp"], "rtmps": ["tls", "tcp"], "http": ["tcp"],
            "https": ["tls", "tcp"], "srt": ["udp"],
        ]
        for p in [scheme.lowercased()] + (transports[scheme.lowercased()] ?? []) where !protocols.contains(p) {
            protocols.append(p)
        }
    }

    public static let defaultFormats = ["mov", "mp4", "matroska", "webm", "mpegts", "flv", "avi", "h264", "hevc",
                                        "mpeg", "srt", "rtsp", "rtp", "sdp"]
}

/// Aborts blocking libavformat calls: on request (shutdown) or when the
/// current deadline passes. Shared with the C interrupt callback through
/// its opaque pointer; Sendable because its state is atomic.
public final class DemuxInterrupt: Sendable {
    private let cancelled = Atomic<Bool>(false)
    /// Monotonic nanoseconds; 0 means no deadline.
    private let deadline = Atomic<UInt64>(0)
    /// Cancelling it cancels this one too (one per demuxer, since each has
    /// its own deadline, all cancelled at shutdown).
    private let parent: DemuxInterrupt?

    public init(cancelledWith parent: DemuxInterrupt?) { self.parent = parent }
    public convenience init() { self.init(cancelledWith: nil) }

    public func cancel() { cancelled.store(true, ordering: .relaxed) }
    public var isCancelled: Bool { cancelled.load(ordering: .relaxed) || parent?.isCancelled == true }

    func setDeadline(after seconds: Double) {
        deadline.store(DispatchTime.now().uptimeNanoseconds + UInt64(max(0, seconds) * 1e9), ordering: .relaxed)
    }

    var shouldAbort: Bool {
        if isCancelled { return true }
        let d = deadline.load(ordering: .relaxed)
        return d != 0 && DispatchTime.now().uptimeNanoseconds > d
    }
}

/// libavformat's interrupt callback: a C function, so it finds its state
/// through the opaque pointer.
private func interruptCallback(_ opaque: UnsafeMutableRawPointer?) -> Int32 {
    guard let opaque else { return 0 }
    return Unmanaged<DemuxInterrupt>.fromOpaque(opaque).takeUnretainedValue().shouldAbort ? 1 : 0
}

/// Demuxes one file or stream with libavformat, packet by packet, without
/// decoding. Owns its `AVFormatContext` and packet, and for a local file
/// the descriptor it reads through; use it from one thread.
public final class Demuxer {
    public let input: String
    public let format: FormatInfo
    public let streams: [StreamInfo]
    /// Why a local file is only part of what its index describes (nil if it
    /// is whole, or the input has no index to judge by).
    public let cutShort: String?
    private var context: UnsafeMutablePointer<AVFormatContext>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private let interrupt: DemuxInterrupt
    private let readTimeoutS: Double
    /// A local file's descriptor and hash; nil for a network stream.
    private let fileIO: MediaFileIO?

    /// Opens `input` (a path, `file://` URL, or a URL of an allowed protocol)
    /// and reads the stream information, as ffprobe does before it lists packets.
    public init(_ input: String, options: DemuxerOptions = DemuxerOptions(),
                interrupt: DemuxInterrupt = DemuxInterrupt()) throws(MediaError) {
        self.input = input
        self.interrupt = interrupt
        self.readTimeoutS = options.readTimeoutS
        precondition(ffmpegLogCaptured)
        _ = lastFFmpegErrorLine()   // nothing left over from an earlier input on this thread
        let url: String
        switch try MediaLocation.open(input, options: options) {
        case .network(let address):
            url = address
            fileIO = nil
        case .file(let file):
            // Named for the demuxer's probe (the extension), never opened by it.
            url = file.path
            fileIO = try MediaFileIO(file)
        }

        guard let ctx = avformat_alloc_context() else { throw MediaError(input: input, reason: "out of memory") }
        ctx.pointee.interrupt_callback = AVIOInterruptCB(
            callback: interruptCallback, opaque: Unmanaged.passUnretained(interrupt).toOpaque())
        if let fileIO {
            ctx.pointee.pb = fileIO.context
            ctx.pointee.io_open = refuseNestedOpen
        }
        var dict: OpaquePointer?
        func set(_ key: String, _ value: String) { av_dict_set(&dict, key, value, 0) }
        set("protocol_whitelist", options.protocols.joined(separator: ","))
        set("format_whitelist", options.formats.joined(separator: ","))
        set("probesize", String(options.probeSizeBytes))
        set("analyzeduration", String(Int64(options.analyzeDurationS * 1e6)))
        set("max_streams", String(options.maxStreams))
        set("rw_timeout", String(Int64(options.readTimeoutS * 1e6)))
        set("scan_all_pmts", "1")   // as ffprobe, so MPEG-TS finds the same streams
        interrupt.setDeadline(after: options.openTimeoutS)
        var opened: UnsafeMutablePointer<AVFormatContext>? = ctx
        let rc = avformat_open_input(&opened, url, nil, &dict)
        av_dict_free(&dict)
        guard rc >= 0, let opened else {
            // avformat_open_input frees the context on failure (not our AVIOContext).
            throw Self.openError(rc, input: input, interrupt: interrupt, timeout: options.openTimeoutS)
        }
        context = opened
        let info = avformat_find_stream_info(opened, nil)
        guard info >= 0 else {
            avformat_close_input(&context)
            throw Self.openError(info, input: input, interrupt: interrupt, timeout: options.openTimeoutS,
                                 action: "cannot read the stream information")
        }
        interrupt.setDeadline(after: options.readTimeoutS)
        guard let pkt = av_packet_alloc() else {
            avformat_close_input(&context)
            throw MediaError(input: input, reason: "out of memory")
        }
        packet = pkt
        format = Self.formatInfo(opened)
        streams = (0..<Int(opened.pointee.nb_streams)).compactMap { i in
            opened.pointee.streams[i].map { Self.streamInfo($0, index: i) }
        }
        cutShort = fileIO.flatMap { Self.cutShort(opened, fileSize: $0.file.size) }
    }

    deinit {
        av_packet_free(&packet)
        // Before `fileIO` (a stored property) frees the AVIOContext the input reads through.
        avformat_close_input(&context)
    }

    /// The local file being read; nil for a network stream.
    public var file: MediaFile? { fileIO?.file }

    /// The SHA-256 of the local file demuxed, from the bytes the demuxer
    /// read through its descriptor, the rest read from the same descriptor;
    /// nil for a network stream. Throws if the file changed while read.
    public func fileSHA256() throws(MediaError) -> String? {
        try fileIO?.sha256()
    }

    /// A file cut short still opens when its index comes first (an MP4 with
    /// `moov` at the front): the index then places packets past the end,
    /// which the demuxer reports as a plain end of file.
    private static func cutShort(_ ctx: UnsafeMutablePointer<AVFormatContext>, fileSize: Int64) -> String? {
        var total = 0, beyond = 0
        var reach: Int64 = 0
        for i in 0..<Int(ctx.pointee.nb_streams) {
            guard let stream = ctx.pointee.streams[i] else { continue }
            for j in 0..<avformat_index_get_entries_count(stream) {
                guard let entry = avformat_index_get_entry(stream, j) else { continue }
                let end = entry.pointee.pos + Int64(entry.pointee.size)
                total += 1
                if end > fileSize {
                    beyond += 1
                    reach = max(reach, end)
                }
            }
        }
        guard beyond > 0 else { return nil }
        return "the file is cut short: its index places \(beyond) of \(total) packets past its end"
            + " (the file has \(fileSize) bytes, the index reaches byte \(reach))"
    }

    private static func openError(_ rc: Int32, input: String, interrupt: DemuxInterrupt, timeout: Double,
                                  action: String = "cannot open") -> MediaError {
        if rc == cffmpeg_error_exit() {
            return MediaError(input: input, reason: interrupt.isCancelled
                ? "\(action): stopped (shutting down)"
                : "\(action): no answer within \(Int(timeout)) s", code: rc)
        }
        return .ffmpeg(rc, input, action)
    }

    /// The next packet in demux order, nil at the end. `keepData` names the
    /// streams whose payload is copied out.
    public func nextPacket(keepData: Set<Int> = []) throws(MediaError) -> Packet? {
        guard let ctx = context, let pkt = packet else { return nil }
        interrupt.setDeadline(after: readTimeoutS)
        let rc = av_read_frame(ctx, pkt)
        if rc == cffmpeg_error_eof() { return nil }
        if rc < 0 {
            throw rc == cffmpeg_error_exit()
                ? MediaError(input: input, reason: interrupt.isCancelled
                    ? "reading stopped (shutting down)" : "no data for \(Int(readTimeoutS)) s", code: rc)
                : .ffmpeg(rc, input, "cannot read a packet")
        }
        defer { av_packet_unref(pkt) }
        let p = pkt.pointee
        let index = Int(p.stream_index)
        let tb = index < streams.count ? streams[index].timeBase : Rational(num: 1, den: 1)
        let nopts = cffmpeg_nopts_value()
        var out = Packet(
            streamIndex: index,
            pts: p.pts == nopts ? nil : p.pts,
            dts: p.dts == nopts ? nil : p.dts,
            duration: p.duration == nopts || p.duration == 0 ? nil : p.duration,
            timeBase: tb,
            isKey: p.flags & cffmpeg_pkt_flag_key() != 0,
            isDiscard: p.flags & cffmpeg_pkt_flag_discard() != 0,
            size: Int(p.size),
            pos: p.pos < 0 ? nil : p.pos,
            data: nil,
            producerWallclockMicros: nil)
        if keepData.contains(index), let data = p.data, p.size > 0 {
            out.data = Array(UnsafeBufferPointer(start: data, count: Int(p.size)))
        }
        if p.side_data_elems > 0 {
            var size: Int = 0
            if let prft = av_packet_get_side_data(pkt, AV_PKT_DATA_PRFT, &size),
               size >= MemoryLayout<AVProducerReferenceTime>.size {
                let reference = UnsafeRawPointer(prft).loadUnaligned(as: AVProducerReferenceTime.self)
                out.producerWallclockMicros = reference.wallclock
            }
        }
        return out
    }

    // MARK: Metadata

    private static func tags(_ dict: OpaquePointer?) -> [String: String] {
        var out: [String: String] = [:]
        var entry: UnsafeMutablePointer<AVDictionaryEntry>?
        while let e = av_dict_get(dict, "", entry, AV_DICT_IGNORE_SUFFIX) {
            if let k = e.pointee.key, let v = e.pointee.value { out[String(cString: k)] = String(cString: v) }
            entry = e
        }
        return out
    }

    private static func seconds(_ value: Int64, _ base: Rational) -> Double? {
        value == cffmpeg_nopts_value() ? nil : Double(value) * base.value
    }

    private static func formatInfo(_ ctx: UnsafeMutablePointer<AVFormatContext>) -> FormatInfo {
        let c = ctx.pointee
        let avTimeBase = Rational(num: 1, den: cffmpeg_time_base())
        var size: Int64?
        if let pb = c.pb {
            let s = avio_size(pb)
            if s >= 0 { size = s }
        }
        return FormatInfo(
            formatName: c.iformat.map { String(cString: $0.pointee.name) } ?? "unknown",
            formatLongName: c.iformat.flatMap { $0.pointee.long_name.map { String(cString: $0) } } ?? "",
            streamCount: Int(c.nb_streams),
            startTime: seconds(c.start_time, avTimeBase),
            duration: seconds(c.duration, avTimeBase),
            bitRate: c.bit_rate > 0 ? c.bit_rate : nil,
            size: size,
            tags: tags(c.metadata),
            startTimeRealtimeMicros: c.start_time_realtime == cffmpeg_nopts_value() || c.start_time_realtime == 0
                ? nil : c.start_time_realtime)
    }

    private static func streamInfo(_ st: UnsafeMutablePointer<AVStream>, index: Int) -> StreamInfo {
        let s = st.pointee
        let par = s.codecpar.pointee
        let tb = Rational(num: s.time_base.num, den: s.time_base.den)
        func rate(_ r: AVRational) -> Rational? { r.den == 0 || r.num == 0 ? nil : Rational(num: r.num, den: r.den) }
        var tag: String?
        if par.codec_tag != 0 {
            var buffer = [CChar](repeating: 0, count: 32)
            tag = buffer.withUnsafeMutableBufferPointer { String(cString: av_fourcc_make_string($0.baseAddress, par.codec_tag)) }
        }
        let isVideo = par.codec_type == AVMEDIA_TYPE_VIDEO
        return StreamInfo(
            index: index,
            codecType: av_get_media_type_string(par.codec_type).map { String(cString: $0) } ?? "unknown",
            codecName: String(cString: avcodec_get_name(par.codec_id)),
            codecTag: tag,
            timeBase: tb,
            frameRate: rate(s.r_frame_rate),
            averageFrameRate: rate(s.avg_frame_rate),
            width: isVideo && par.width > 0 ? Int(par.width) : nil,
            height: isVideo && par.height > 0 ? Int(par.height) : nil,
            startTime: seconds(s.start_time, tb),
            duration: seconds(s.duration, tb),
            tags: tags(s.metadata))
    }
}

@available(*, unavailable)
extension Demuxer: Sendable {}
