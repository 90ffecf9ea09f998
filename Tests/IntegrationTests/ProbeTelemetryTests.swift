import CFFmpeg
import Foundation
import MuckwatchCore
import MuckwatchMedia
import XCTest

/// Drone telemetry inside real videos: MISB ST 0601 KLV in MPEG-TS (the
/// public sample stream, and streams this test muxes with libavformat from
/// known packets) and DJI SRT as a subtitle stream or a sidecar file.
final class ProbeTelemetryTests: VideoTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/media").path

    func testTheMISBSampleStream() throws {
        let path = "\(Self.fixtures)/klv/osh_sample-stream.ts"
        try assertPacketsMatchFFprobe(path)
        let telemetry = try probeRecords(path, kind: "telemetry")
        XCTAssertEqual(telemetry.count, 277)
        XCTAssertTrue(telemetry.allSatisfy { $0["source"] as? String == "misb_st0601" && $0["problem"] == nil })
        let first = telemetry[0]
        XCTAssertEqual(first["time"] as? String, "2012-06-29T14:32:34.100Z")
        XCTAssertEqual(try XCTUnwrap(first["lat"] as? Double), 34.721153, accuracy: 1e-5)
        XCTAssertEqual(try XCTUnwrap(first["lon"] as? Double), -86.68913, accuracy: 1e-5)
        XCTAssertEqual(try XCTUnwrap(first["alt_m"] as? Double), 3047.81, accuracy: 0.5)
        XCTAssertEqual(try XCTUnwrap(first["heading_deg"] as? Double), 207.6228, accuracy: 0.01)
        let last = telemetry[276]
        XCTAssertEqual(last["time"] as? String, "2012-06-29T14:32:43.300Z")
        XCTAssertEqual(try XCTUnwrap(last["lat"] as? Double), 34.716391, accuracy: 1e-5)

        // The KLV time stamps are the video's clock.
        let format = try XCTUnwrap(try probeRecords(path, kind: "format").first)
        XCTAssertEqual((format["wall_clock"] as? [String: Any])?["source"] as? String, "misb_st0601_timestamp")
        let reader = try MediaReader(path)
        var videoTimes: [Instant] = []
        while let p = try reader.next() {
            if p.streamIndex == 0, let w = reader.wallTime(of: p) { videoTimes.append(w) }
        }
        let t0 = try XCTUnwrap(RFC3339.parse("2012-06-29T14:32:33Z")), t1 = try XCTUnwrap(RFC3339.parse("2012-06-29T14:32:45Z"))
        XCTAssertFalse(videoTimes.isEmpty)
        XCTAssertTrue(videoTimes.allSatisfy { $0 >= t0 && $0 <= t1 }, "\(videoTimes.prefix(3))")

        let summary = try probe([path])
        XCTAssertTrue(summary.out.contains("Telemetry:  277 misb_st0601"), summary.out)
        XCTAssertTrue(summary.out.contains("from misb st0601 timestamp"), summary.out)
    }

    /// The standard's example packets (ST 0902 Annex C, via klvdata), muxed by
    /// libavformat at known times beside an H.264 stream: one with a valid
    /// checksum, one with the erratum checksum, which must not be trusted.
    func testKLVMuxedFromKnownPackets() throws {
        let good = try Array(Data(contentsOf: URL(fileURLWithPath: "\(Self.fixtures)/klv/klvdata_DynamicOnlyMISMMSPacketData.bin")))
        let bad = try Array(Data(contentsOf: URL(fileURLWithPath: "\(Self.fixtures)/klv/klvdata_DynamicConstantMISMMSPacketData.bin")))
        let klvOnly = "\(dir!)/klv-only.ts"
        try writeKLVTransportStream(klvOnly, packets: [(90_000 * 1, good), (90_000 * 2, bad), (90_000 * 3, good)])
        let video = try makeVideo("video.ts", seconds: 4)
        let both = "\(dir!)/with-klv.ts"
        try ffmpeg(["-i", video, "-i", klvOnly, "-map", "0:v", "-map", "1:d", "-c", "copy", "-f", "mpegts", both])

        try assertPacketsMatchFFprobe(both)
        let telemetry = try probeRecords(both, kind: "telemetry")
        XCTAssertEqual(telemetry.count, 3, "\(telemetry)")
        XCTAssertEqual(telemetry[0]["time"] as? String, "2009-01-12T22:08:22.000Z")
        XCTAssertEqual(try XCTUnwrap(telemetry[0]["lat"] as? Double), 60.176823, accuracy: 1e-5)
        XCTAssertEqual(try XCTUnwrap(telemetry[0]["lon"] as? Double), 128.426759, accuracy: 1e-5)
        XCTAssertTrue(telemetry[1]["lat"] is NSNull, "a packet with a bad checksum is not trusted")
        XCTAssertTrue((telemetry[1]["problem"] as? String ?? "").contains("checksum"), "\(telemetry[1])")
        XCTAssertNotNil(telemetry[2]["lat"] as? Double)

        let format = try XCTUnwrap(try probeRecords(both, kind: "format").first)
        XCTAssertEqual((format["wall_clock"] as? [String: Any])?["source"] as? String, "misb_st0601_timestamp")
        // The first trusted KLV packet sits 1 s into the KLV stream's clock.
        let reader = try MediaReader(both)
        let klvAt = try XCTUnwrap(reader.telemetry.first?.mediaSeconds)
        XCTAssertEqual(reader.clock?.wallTime(atMediaSeconds: klvAt), RFC3339.parse("2009-01-12T22:08:22Z"))
    }

    /// DJI writes its telemetry as subtitles: muxed into the video as a
    /// subtitle stream, and as a sidecar .SRT next to it.
    func testDJISubtitlesAsAStreamAndAsASidecar() throws {
        let srt = "\(Self.fixtures)/srt/djisrtparser_MAVIC3_first150.srt"
        let video = try makeVideo("base.mp4", seconds: 6)
        let muxed = "\(dir!)/dji.mkv"
        try ffmpeg(["-i", video, "-i", srt, "-map", "0:v", "-map", "1:s", "-c:v", "copy", "-c:s", "srt", muxed])
        let fromStream = try probeRecords(muxed, kind: "telemetry")
        XCTAssertGreaterThan(fromStream.count, 50, "one sample per subtitle within the video's 6 s")
        XCTAssertTrue(fromStream.allSatisfy { $0["source"] as? String == "dji_srt" })
        XCTAssertNotNil(fromStream.first?["lat"] as? Double)

        let clip = "\(dir!)/DJI_0001.mp4"
        try FileManager.default.copyItem(atPath: video, toPath: clip)
        try FileManager.default.copyItem(atPath: srt, toPath: "\(dir!)/DJI_0001.SRT")
        let fromSidecar = try probeRecords(clip, kind: "telemetry")
        XCTAssertEqual(fromSidecar.count, 150)
        XCTAssertTrue(fromSidecar.allSatisfy { $0["source"] as? String == "dji_srt_sidecar" })
        XCTAssertEqual(fromSidecar.first?["lat"] as? Double, fromStream.first?["lat"] as? Double)
        // Date lines are local time; with the default offset, +08:00.
        let local = try XCTUnwrap(fromSidecar.first?["time"] as? String)
        let utc = try probeRecords(clip, kind: "telemetry", extra: ["--srt-utc-offset", "+00:00"]).first?["time"] as? String
        XCTAssertEqual(RFC3339.parse(local)?.millis, RFC3339.parse(utc ?? "")?.millis.advanced(by: -8 * 3_600_000))
    }

    /// An MPEG-TS holding only a KLV data stream, written by libavformat's muxer.
    private func writeKLVTransportStream(_ path: String, packets: [(pts: Int64, bytes: [UInt8])]) throws {
        var output: UnsafeMutablePointer<AVFormatContext>?
        XCTAssertGreaterThanOrEqual(avformat_alloc_output_context2(&output, nil, "mpegts", path), 0)
        let ctx = try XCTUnwrap(output)
        defer { avformat_free_context(ctx) }
        let stream = try XCTUnwrap(avformat_new_stream(ctx, nil))
        stream.pointee.codecpar.pointee.codec_type = AVMEDIA_TYPE_DATA
        stream.pointee.codecpar.pointee.codec_id = AV_CODEC_ID_SMPTE_KLV
        stream.pointee.time_base = AVRational(num: 1, den: 90_000)
        XCTAssertGreaterThanOrEqual(avio_open(&ctx.pointee.pb, path, AVIO_FLAG_WRITE), 0)
        XCTAssertGreaterThanOrEqual(avformat_write_header(ctx, nil), 0)
        var packet = av_packet_alloc()
        defer { av_packet_free(&packet) }
        let pkt = try XCTUnwrap(packet)
        for p in packets {
            XCTAssertEqual(av_new_packet(pkt, Int32(p.bytes.count)), 0)
            p.bytes.withUnsafeBytes { pkt.pointee.data.update(from: $0.bindMemory(to: UInt8.self).baseAddress!, count: p.bytes.count) }
            pkt.pointee.pts = av_rescale_q(p.pts, AVRational(num: 1, den: 90_000), stream.pointee.time_base)
            pkt.pointee.dts = pkt.pointee.pts
            pkt.pointee.stream_index = 0
            XCTAssertGreaterThanOrEqual(av_interleaved_write_frame(ctx, pkt), 0)
        }
        XCTAssertGreaterThanOrEqual(av_write_trailer(ctx), 0)
        avio_closep(&ctx.pointee.pb)
    }
}
