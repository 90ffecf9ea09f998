import Foundation
import MuckwatchCore
import MuckwatchMedia
import MuckwatchScenario
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP port that takes connections into its backlog and never
/// answers: the server a video open must not hang on.
final class SilentServer {
    let port = Loopback.freePort()
    private let socketFD: Int32

    init() throws {
        socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(socketFD, 8) == 0 else {
            close(socketFD)
            XCTFail("cannot listen on 127.0.0.1:\(port)")
            throw CocoaError(.fileWriteUnknown)
        }
    }

    deinit { close(socketFD) }
}

/// Real videos made by `ffmpeg` in a fresh folder, and `muckwatch probe`
/// and ffprobe run on them.
class VideoTestCase: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = try temporaryDirectory("probe")
    }

    // MARK: Helpers

    /// Runs ffmpeg (quiet) with `arguments`; a missing ffmpeg fails naming the package.
    func ffmpeg(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let tool = try Tools.require("ffmpeg", package: "ffmpeg")
        let run = try runCommand(tool, ["-hide_banner", "-loglevel", "error", "-y"] + arguments)
        XCTAssertEqual(run.status, 0, "ffmpeg \(arguments.joined(separator: " ")): \(run.err)", file: file, line: line)
    }

    /// A 2 s 320x240 25 fps test picture, H.264 with B-frames.
    func makeVideo(_ name: String, extra: [String] = [], codec: [String] = ["-c:v", "libx264", "-bf", "2", "-g", "12"],
                   seconds: Int = 2) throws -> String {
        let path = "\(dir!)/\(name)"
        try ffmpeg(["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", String(seconds)] + codec + extra + [path])
        return path
    }

    func ffprobePackets(_ path: String) throws -> [[String: Any]] {
        let tool = try Tools.require("ffprobe", package: "ffmpeg")
        let run = try runCommand(tool, ["-v", "error", "-show_packets", "-of", "json", path])
        XCTAssertEqual(run.status, 0, run.err)
        let object = try JSONSerialization.jsonObject(with: Data(run.out.utf8)) as? [String: Any]
        return object?["packets"] as? [[String: Any]] ?? []
    }

    func probe(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try runCommand(try Tools.binary("muckwatch"), ["probe"] + arguments)
    }

    /// `probe --json` records of one kind.
    func probeRecords(_ path: String, kind: String, extra: [String] = []) throws -> [[String: Any]] {
        let run = try probe([path, "--json"] + extra)
        XCTAssertEqual(run.status, 0, run.err)
        return try run.out.split(separator: "\n").map { line in
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
        }.filter { $0["kind"] as? String == kind }
    }

    /// Every field ffprobe prints for a packet is in ours with the same
    /// value; every packet field it leaves out (unknown) is null in ours.
    func assertPacketsMatchFFprobe(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = try ffprobePackets(path)
        let actual = try probeRecords(path, kind: "packet")
        XCTAssertGreaterThan(expected.count, 10, "ffprobe listed too few packets of \(path)", file: file, line: line)
        XCTAssertEqual(actual.count, expected.count, "packet count of \(path)", file: file, line: line)
        let fields = ["codec_type", "stream_index", "pts", "pts_time", "dts", "dts_time", "duration", "duration_time",
                      "size", "pos", "flags"]
        var mismatches: [String] = []
        for (i, (e, a)) in zip(expected, actual).enumerated() {
            for f in fields {
                let ev = e[f].map { "\($0)" } ?? "null"
                let av = a[f].map { $0 is NSNull ? "null" : "\($0)" } ?? "absent"
                if ev != av { mismatches.append("packet \(i) \(f): ffprobe \(ev), probe \(av)") }
            }
        }
        XCTAssertTrue(mismatches.isEmpty, "\(path): \(mismatches.count) mismatch(es), first: \(mismatches.prefix(5))",
                      file: file, line: line)
    }
}

/// `muckwatch probe` and the demuxer on real videos: packet records equal to
/// the installed ffprobe's, field for field; metadata; wall-clock time; and
/// inputs that must fail cleanly.
final class ProbeTests: VideoTestCase {

    // MARK: Packets equal to ffprobe's

    func testH264WithBFramesInMP4() throws {
        try assertPacketsMatchFFprobe(try makeVideo("h264.mp4"))
    }

    func testH264InMKV() throws {
        try assertPacketsMatchFFprobe(try makeVideo("h264.mkv"))
    }

    func testH264InMPEGTS() throws {
        try assertPacketsMatchFFprobe(try makeVideo("h264.ts"))
    }

    func testH264InFLV() throws {
        try assertPacketsMatchFFprobe(try makeVideo("h264.flv"))
    }

    func testH265InMP4() throws {
        try assertPacketsMatchFFprobe(try makeVideo("h265.mp4", codec: ["-c:v", "libx265", "-x265-params", "log-level=error:bframes=3"]))
    }

    func testVariableFrameRate() throws {
        // Frames 25 per second at first, then 10 per second.
        let path = try makeVideo("vfr.mkv", extra: ["-vf", "setpts='if(lt(N,25),N/25,1+(N-25)/10)/TB'", "-vsync", "vfr"], seconds: 4)
        try assertPacketsMatchFFprobe(path)
        // In presentation order (packets come in decoding order, B-frames later).
        let times = try probeRecords(path, kind: "packet").compactMap { Double($0["pts_time"] as? String ?? "") }.sorted()
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        // The encoder's 1/25 s clock puts the 0.1 s frames 0.08 and 0.12 s apart.
        let late = gaps.suffix(20)
        XCTAssertTrue(gaps.prefix(20).allSatisfy { abs($0 - 0.04) < 0.002 }, "25 fps first: \(gaps)")
        XCTAssertEqual(late.reduce(0, +) / Double(late.count), 0.1, accuracy: 0.01, "10 fps later: \(gaps)")
    }

    func testAudioAndVideoInterleaved() throws {
        let path = "\(dir!)/av.mp4"
        try ffmpeg(["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                    "-t", "2", "-c:v", "libx264", "-bf", "2", "-c:a", "aac", path])
        try assertPacketsMatchFFprobe(path)
    }

    // MARK: Metadata and wall clock

    func testCreationTimeAndLocationTagsGiveTheWallClock() throws {
        let path = try makeVideo("tagged.mp4", extra: [
            "-metadata", "creation_time=2026-11-24T13:16:28.000000Z",
            "-metadata", "location=+22.5431+114.0580/", "-movflags", "+use_metadata_tags",
        ])
        let format = try XCTUnwrap(try probeRecords(path, kind: "format").first)
        let tags = try XCTUnwrap(format["tags"] as? [String: String])
        XCTAssertEqual(tags["creation_time"], "2026-11-24T13:16:28.000000Z")
        XCTAssertEqual(tags["location"], "+22.5431+114.0580/")
        XCTAssertNotNil(tags["encoder"])
        let clock = try XCTUnwrap(format["wall_clock"] as? [String: Any])
        XCTAssertEqual(clock["source"] as? String, "container_creation_time")

        let packets = try probeRecords(path, kind: "packet")
        let first = try XCTUnwrap(packets.first { $0["pts"] as? Int == 0 })
        XCTAssertEqual(first["wall_time"] as? String, "2026-11-24T13:16:28.000Z")
        let later = try XCTUnwrap(packets.first { $0["pts_time"] as? String == "1.000000" })
        XCTAssertEqual(later["wall_time"] as? String, "2026-11-24T13:16:29.000Z")

        let summary = try probe([path])
        XCTAssertEqual(summary.status, 0, summary.err)
        XCTAssertTrue(summary.out.contains("Container:  mov,mp4,m4a,3gp,3g2,mj2"), summary.out)
        XCTAssertTrue(summary.out.contains("location: +22.5431+114.0580/"), summary.out)
        XCTAssertTrue(summary.out.contains("50 packet(s), 5 keyframe(s)"), summary.out)
        XCTAssertTrue(summary.out.contains("Wall clock: 2026-11-24T13:16:28.000Z – 2026-11-24T13:16:29.960Z (from container creation time)"),
                      summary.out)
    }

    func testStreamRecords() throws {
        let path = try makeVideo("streams.mkv")
        let streams = try probeRecords(path, kind: "stream")
        XCTAssertEqual(streams.count, 1)
        let s = streams[0]
        XCTAssertEqual(s["codec_type"] as? String, "video")
        XCTAssertEqual(s["codec_name"] as? String, "h264")
        XCTAssertEqual(s["width"] as? Int, 320)
        XCTAssertEqual(s["height"] as? Int, 240)
        XCTAssertEqual(s["time_base"] as? String, "1/1000")
        XCTAssertEqual(s["avg_frame_rate"] as? String, "25/1")
    }

    func testNoClockWithoutASource() throws {
        let path = try makeVideo("plain.mkv", extra: ["-fflags", "+bitexact"])
        let format = try XCTUnwrap(try probeRecords(path, kind: "format").first)
        XCTAssertTrue(format["wall_clock"] is NSNull, "\(format)")
        let reader = try MediaReader(path, segmentStart: Instant(millis: 1_795_526_188_000))
        XCTAssertEqual(reader.clock?.source, .segmentStart, "the segment announcement's start is the last resort")
    }

    // MARK: Inputs that must fail cleanly

    func testTruncatedFileFailsOrEndsCleanly() throws {
        let path = try makeVideo("whole.mp4")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        for fraction in [0.01, 0.3, 0.7] {
            let cut = "\(dir!)/cut-\(fraction).mp4"
            try bytes.prefix(Int(Double(bytes.count) * fraction)).write(to: URL(fileURLWithPath: cut))
            let run = try probe([cut, "--json"])
            // The moov atom is at the end: a cut MP4 cannot be opened at all.
            XCTAssertEqual(run.status, 1, "\(cut): \(run.out.prefix(300))")
            XCTAssertTrue(run.err.contains("Error: \(cut): cannot"), run.err)
            XCTAssertEqual(run.err.split(separator: "\n").count, 1, "one sentence: \(run.err)")
        }
        let ts = try makeVideo("whole.ts")
        let tsBytes = try Data(contentsOf: URL(fileURLWithPath: ts))
        let cutTS = "\(dir!)/cut.ts"
        try tsBytes.prefix(tsBytes.count / 2 + 77).write(to: URL(fileURLWithPath: cutTS))
        let run = try probe([cutTS, "--json"])
        XCTAssertEqual(run.status, 0, "a cut MPEG-TS demuxes up to the cut: \(run.err)")
        XCTAssertGreaterThan(run.out.split(separator: "\n").count, 10)
    }

    func testEmptyGarbageAndMissingFiles() throws {
        let empty = "\(dir!)/empty.mp4"
        XCTAssertTrue(FileManager.default.createFile(atPath: empty, contents: Data()))
        let garbage = "\(dir!)/garbage.mp4"
        var rng = SystemRandomNumberGenerator()
        try Data((0..<65_536).map { _ in UInt8.random(in: 0...255, using: &rng) }).write(to: URL(fileURLWithPath: garbage))
        let text = "\(dir!)/notes.ts"
        try "this is not a video\n".write(toFile: text, atomically: true, encoding: .utf8)
        for path in [empty, garbage, text, "\(dir!)/missing.mp4", dir!] {
            let run = try probe([path])
            XCTAssertEqual(run.status, 1, "\(path): \(run.out)")
            XCTAssertTrue(run.err.hasPrefix("Error: \(path): "), run.err)
            XCTAssertEqual(run.err.split(separator: "\n").count, 1, "one sentence: \(run.err)")
        }
    }

    func testRefusedInputs() throws {
        let video = try makeVideo("ok.mp4")
        let cases: [(String, String)] = [
            ("concat:\(video)|\(video)", "never opened"),
            ("subfile,,start,0,end,100,,:\(video)", "never opened"),
            ("data:video/mp4;base64,AAAA", "never opened"),
            ("http://127.0.0.1:9/x.mp4", "'http' protocol is not allowed"),
            ("rtsp://127.0.0.1:9/stream", "'rtsp' protocol is not allowed"),
        ]
        for (input, reason) in cases {
            let run = try probe([input])
            XCTAssertEqual(run.status, 1, input)
            XCTAssertTrue(run.err.contains(reason), "\(input): \(run.err)")
        }
        // A playlist may only reach what the whitelist allows: an HLS playlist is
        // not an allowed format, and an ffconcat list not either.
        let playlist = "\(dir!)/list.m3u8"
        try "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"
            .write(toFile: playlist, atomically: true, encoding: .utf8)
        let concatList = "\(dir!)/list.ffconcat"
        try "ffconcat version 1.0\nfile /etc/passwd\n".write(toFile: concatList, atomically: true, encoding: .utf8)
        for path in [playlist, concatList] {
            let run = try probe([path])
            XCTAssertEqual(run.status, 1, path)
            XCTAssertFalse(run.out.contains("root:"), run.out)
        }
    }

    func testMediaRootsAreCheckedAfterSymlinks() throws {
        let root = "\(dir!)/media"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let inside = try makeVideo("media/inside.mp4")
        let outside = try makeVideo("outside.mp4")
        try FileManager.default.createSymbolicLink(atPath: "\(root)/link.mp4", withDestinationPath: outside)
        var options = DemuxerOptions()
        options.mediaRoots = [root]
        XCTAssertNoThrow(try Demuxer(inside, options: options))
        XCTAssertNoThrow(try Demuxer("file://\(inside)", options: options))
        for escape in [outside, "\(root)/link.mp4", "\(root)/../outside.mp4"] {
            XCTAssertThrowsError(try Demuxer(escape, options: options), escape) { error in
                XCTAssertTrue("\(error)".contains("outside the media roots"), "\(error)")
            }
        }
    }

    func testAServerThatNeverAnswersTimesOut() throws {
        // A listening socket that accepts nothing: the open must give up, not hang.
        let server = try SilentServer()
        let port = server.port
        let start = Date()
        let run = try probe(["http://127.0.0.1:\(port)/clip.mp4", "--allow-protocol", "http", "--allow-protocol", "tcp",
                             "--timeout", "2"])
        XCTAssertEqual(run.status, 1, run.out)
        XCTAssertLessThan(Date().timeIntervalSince(start), 8, "gave up late: \(run.err)")
        XCTAssertTrue(run.err.contains("no answer within 2 s") || run.err.contains("timed out"), run.err)
        withExtendedLifetime(server) {}
    }
}
