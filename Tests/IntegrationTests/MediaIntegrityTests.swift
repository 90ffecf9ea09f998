import Foundation
import GRDB
import MuckwatchCore
import MuckwatchMedia
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The evidence a video gives must be the file inside the media roots that
/// was demuxed: not a file a symlink swapped in between the check and the
/// open, not a sidecar outside the roots, and not a cut-short file passed
/// off as whole. Each test performs the attack.
final class MediaIntegrityTests: VideoTestCase {
    var media: String { "\(dir!)/media" }
    private var broker: TestBroker?

    override func setUpWithError() throws {
        try super.setUpWithError()
        try FileManager.default.createDirectory(atPath: "\(media)/x", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(dir!)/elsewhere", withIntermediateDirectories: true)
    }

    private var rootedOptions: DemuxerOptions {
        var options = DemuxerOptions()
        options.mediaRoots = [media]
        return options
    }

    private static func sha256(_ path: String) throws -> String {
        let run = try runCommand(try Tools.require("sha256sum", package: "coreutils"), [path])
        return String(run.out.prefix(64))
    }

    private static let srt = "\(ProbeTelemetryTests.fixtures)/srt/djisrtparser_MAVIC3_first150.srt"

    // MARK: 1. The media-root race

    /// A swapper flips `media/x/clip.mp4` between a file inside the root and
    /// a symlink to another video outside it, atomically (rename(2)), for
    /// 6 s, while the daemon's own analyses run on that path over and over.
    /// Each must be refused or be the inside file: its duration and its hash.
    func testSwappingTheClipForASymlinkNeverYieldsTheOutsideFile() throws {
        let inside = try makeVideo("media/x/.inside.mp4", seconds: 2)
        let outside = try makeVideo("elsewhere/outside.mp4", seconds: 5)
        let clip = "\(media)/x/clip.mp4"
        XCTAssertEqual(link(inside, clip), 0)
        try race(clip: clip, inside: inside, outside: outside) { [media] in
            let fileTemp = "\(media)/x/.swap-file", linkTemp = "\(media)/x/.swap-link"
            unlink(fileTemp)
            link(inside, fileTemp)
            rename(fileTemp, clip)
            unlink(linkTemp)
            symlink(outside, linkTemp)
            rename(linkTemp, clip)
        } restore: {
            unlink(clip)
            link(inside, clip)
        }
    }

    /// The same with the folder: `media/x/sub` is a real folder, then a
    /// symlink to a folder outside holding a `clip.mp4` of its own.
    func testSwappingAFolderForASymlinkNeverYieldsTheOutsideFile() throws {
        try FileManager.default.createDirectory(atPath: "\(media)/x/sub", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(dir!)/elsewhere/sub", withIntermediateDirectories: true)
        let inside = try makeVideo("media/x/sub/clip.mp4", seconds: 2)
        let outside = try makeVideo("elsewhere/sub/clip.mp4", seconds: 5)
        let sub = "\(media)/x/sub", parked = "\(media)/x/.sub-real", linkTemp = "\(media)/x/.sub-link"
        try race(clip: inside, inside: inside, outside: outside) { [dir] in
            rename(sub, parked)
            symlink("\(dir!)/elsewhere/sub", linkTemp)
            rename(linkTemp, sub)
            unlink(sub)
            rename(parked, sub)
        } restore: {
            if rename(parked, sub) != 0 { unlink(linkTemp) }
        }
    }

    /// Runs `swap` over and over on a thread for 6 s while analysing `clip`
    /// the daemon's way (clips and segments in turn), and checks each result.
    private func race(clip: String, inside: String, outside: String, swap: @escaping @Sendable () -> Void,
                      restore: @escaping @Sendable () -> Void) throws {
        let insideSHA = try Self.sha256(inside), outsideSHA = try Self.sha256(outside)
        let insideDuration = try XCTUnwrap(VideoAnalysis.segment(
            url: inside, source: "D-01", start: Instant(millis: 0), options: rootedOptions, srtUTCOffsetSeconds: 0).durationS)
        let until = Date().addingTimeInterval(6)
        let swapped = DispatchSemaphore(value: 0)
        let swapper = Thread {
            while Date() < until { swap() }
            restore()
            swapped.signal()
        }
        swapper.start()

        var runs = 0, refused = 0, insideOK = 0
        var wrong: [String] = []
        var reasons: [String: Int] = [:]
        while Date() < until {
            let a = runs % 2 == 0
                ? VideoAnalysis.clip(url: "file://\(clip)", offsetS: 0.5, eventTime: Instant(millis: 0), options: rootedOptions)
                : VideoAnalysis.segment(url: clip, source: "D-01", start: Instant(millis: 0), options: rootedOptions,
                                        srtUTCOffsetSeconds: 0)
            runs += 1
            if let reason = a.unreadable {
                refused += 1
                if reason.isEmpty { wrong.append("refused without a reason") }
                let kind = reason.contains("outside the media roots") ? "outside the media roots"
                    : reason.contains("changed while") ? "changed while being opened" : reason
                reasons[kind, default: 0] += 1
                continue
            }
            if a.status == "ok", a.fileSHA256 == insideSHA, let d = a.durationS, abs(d - insideDuration) < 1e-6 {
                insideOK += 1
                continue
            }
            let which = a.fileSHA256 == outsideSHA ? "the outside file's hash" : a.fileSHA256 == insideSHA ? "the inside hash" : "hash \(a.fileSHA256 ?? "none")"
            wrong.append("run \(runs): \(a.status), duration \(a.durationS.map { "\($0)" } ?? "?") s, \(which), \(a.partial ?? "")")
        }
        swapped.wait()
        print("race on \(clip): \(runs) analyses, \(insideOK) ok with the inside file, \(refused) refused \(reasons), \(wrong.count) wrong")
        XCTAssertGreaterThanOrEqual(runs, 200)
        XCTAssertGreaterThan(insideOK, 0, "the inside file was never read")
        XCTAssertGreaterThan(refused, 0, "the swap never caught an open")
        XCTAssertTrue(wrong.isEmpty, "\(wrong.count) of \(runs) analyses gave something else, e.g. \(wrong.prefix(5))")
    }

    // MARK: 2. The sidecar SRT

    /// `clip.SRT -> an SRT outside the roots` beside a segment inside them:
    /// not one position from it, and the analysis says why.
    func testASymlinkedSidecarOutsideTheRootsGivesNoPositions() throws {
        let clip = try makeVideo("media/x/clip.mp4", seconds: 2)
        let outsideSRT = "\(dir!)/elsewhere/positions.srt"
        try FileManager.default.copyItem(atPath: Self.srt, toPath: outsideSRT)
        XCTAssertEqual(symlink(outsideSRT, "\(media)/x/clip.SRT"), 0)

        let a = VideoAnalysis.segment(url: "file://\(clip)", source: "D-01", start: Instant(millis: 0),
                                      options: rootedOptions, srtUTCOffsetSeconds: 8 * 3600)
        XCTAssertNil(a.unreadable)
        XCTAssertEqual(a.track.count, 0, "positions from an SRT outside the roots")
        XCTAssertTrue((a.note ?? "").contains("clip.SRT"), a.note ?? "no note")
        XCTAssertTrue((a.note ?? "").contains("symbolic link"), a.note ?? "no note")

        try FileManager.default.removeItem(atPath: "\(media)/x/clip.SRT")
        // A real sidecar inside the root still gives its 150 positions.
        try FileManager.default.copyItem(atPath: Self.srt, toPath: "\(media)/x/clip.SRT")
        let b = VideoAnalysis.segment(url: "file://\(clip)", source: "D-01", start: Instant(millis: 0),
                                      options: rootedOptions, srtUTCOffsetSeconds: 8 * 3600)
        XCTAssertNil(b.unreadable)
        XCTAssertEqual(b.track.count, 150)
        XCTAssertTrue(b.track.allSatisfy { $0.origin == .djiSidecar })
    }

    /// A sidecar larger than the cap is refused with the reason, not read.
    func testAnOversizedSidecarIsRefused() throws {
        let clip = try makeVideo("media/x/big.mp4", seconds: 2)
        let sidecar = "\(media)/x/big.SRT"
        XCTAssertTrue(FileManager.default.createFile(atPath: sidecar, contents: nil))
        XCTAssertEqual(truncate(sidecar, 17 << 20), 0)
        let a = VideoAnalysis.segment(url: clip, source: "D-01", start: Instant(millis: 0), options: rootedOptions,
                                      srtUTCOffsetSeconds: 0)
        XCTAssertNil(a.unreadable)
        XCTAssertTrue((a.note ?? "").contains("big.SRT") && (a.note ?? "").contains("16 MiB"), a.note ?? "no note")
    }

    /// The daemon end to end: a segment message whose sidecar is a symlink
    /// to /etc/passwd-like outside data passes no position on, and the
    /// reason is in the store.
    func testTheDaemonPassesOnNoPositionFromASymlinkedSidecar() throws {
        let clip = try makeVideo("media/x/seg.mp4", seconds: 2)
        let outsideSRT = "\(dir!)/elsewhere/positions.srt"
        try FileManager.default.copyItem(atPath: Self.srt, toPath: outsideSRT)
        XCTAssertEqual(symlink(outsideSRT, "\(media)/x/seg.SRT"), 0)
        let (daemon, publisher) = try startDaemon()
        try publisher.publish("muckwatch/v1/video/D-01/segment",
                              #"{"source":"D-01","url":"file://\#(clip)","start":"2026-11-24T13:16:38Z"}"#)
        var row: Row?
        try eventually("the segment analysed (log: \(daemon.logPath))", timeout: 20) {
            row = try daemon.query { try Row.fetchOne($0, sql: "SELECT * FROM video_analyses") }
            return row != nil
        }
        XCTAssertEqual(row?["status"] as String?, "ok")
        XCTAssertEqual(row?["track_points"] as Int?, 0)
        XCTAssertTrue((row?["reason"] as String? ?? "").contains("seg.SRT"), "\(String(describing: row))")
        Thread.sleep(forTimeInterval: 1)
        XCTAssertEqual(try daemon.query { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM drone_telemetry") }, 0)
        XCTAssertEqual(daemon.stop(), 0)
    }

    // MARK: 3. A truncated MP4

    /// An MP4 with its index at the front (`+faststart`), cut to half: the
    /// index lists packets past the end. Never `ok`: `partial`, with why, in
    /// the analysis, the store row, `cases show` and `probe`.
    func testATruncatedMP4IsPartialNotOK() throws {
        let whole = try makeVideo("whole.mp4", extra: ["-movflags", "+faststart",
                                                       "-metadata", "creation_time=2026-11-24T13:16:38.000000Z"], seconds: 4)
        let cut = "\(media)/x/cut.mp4"
        try FileManager.default.copyItem(atPath: whole, toPath: cut)
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: whole)[.size] as? Int)
        XCTAssertEqual(truncate(cut, off_t(size / 2)), 0)

        let a = VideoAnalysis.clip(url: cut, offsetS: 0.5, eventTime: Instant(millis: 0), options: rootedOptions)
        XCTAssertNil(a.unreadable)
        XCTAssertEqual(a.status, "partial")
        XCTAssertTrue((a.partial ?? "").contains("cut short"), a.partial ?? "no reason")
        XCTAssertNotNil(a.frame, "what is there is still read")
        XCTAssertEqual(a.fileSHA256, try Self.sha256(cut))
        let s = VideoAnalysis.segment(url: cut, source: "D-01", start: Instant(millis: 0), options: rootedOptions,
                                      srtUTCOffsetSeconds: 0)
        XCTAssertEqual(s.status, "partial")
        let full = VideoAnalysis.clip(url: whole, offsetS: 0.5, eventTime: Instant(millis: 0), options: DemuxerOptions())
        XCTAssertEqual(full.status, "ok", full.partial ?? full.unreadable ?? "")

        let summary = try probe([cut])
        XCTAssertTrue(summary.out.contains("Partial:"), summary.out + summary.err)
        XCTAssertTrue(summary.out.contains("cut short"), summary.out)
        let wholeSummary = try probe([whole])
        XCTAssertFalse(wholeSummary.out.contains("Partial:"), wholeSummary.out)

        let (daemon, publisher) = try startDaemon()
        try publisher.publish("muckwatch/v1/camera/CAM-07/event",
                              #"{"camera":"CAM-07","event_id":"e-cut","ts":"2026-11-24T21:16:40+08:00","type":"spill","plate":"粤B12345","confidence":0.9,"lat":22.5431,"lon":114.058,"clip":{"url":"file://\#(cut)","offset_s":1.0}}"#)
        var row: Row?
        try eventually("the clip analysed (log: \(daemon.logPath))", timeout: 20) {
            row = try daemon.query { try Row.fetchOne($0, sql: "SELECT * FROM video_analyses") }
            return row != nil
        }
        XCTAssertEqual(row?["status"] as String?, "partial")
        XCTAssertTrue((row?["reason"] as String? ?? "").contains("cut short"), "\(String(describing: row))")
        var caseId: String?
        try eventually("a case opened", timeout: 10) {
            caseId = try daemon.query { try String.fetchOne($0, sql: "SELECT case_id FROM cases") }
            return caseId != nil
        }
        let show = try runCommand(try Tools.binary("muckwatch"), ["cases", "show", try XCTUnwrap(caseId),
                                                                 "--db", daemon.dbPath, "--config", daemon.configPath])
        XCTAssertEqual(show.status, 0, show.err)
        XCTAssertTrue(show.out.contains("partial: "), show.out)
        XCTAssertTrue(show.out.contains("cut short"), show.out)
        XCTAssertEqual(daemon.stop(), 0)
    }

    private func startDaemon() throws -> (TestDaemon, TestPublisher) {
        let broker = try TestBroker(dir: dir)
        self.broker = broker
        let daemon = try TestDaemon(dir: dir, brokerURL: broker.url, extraYAML: """
            media:
              roots: [\(media)]
              protocols: [file]
            """)
        try daemon.start()
        let publisher = try TestPublisher(port: broker.port, clientId: "integrity-pub-\(UUID().uuidString.prefix(6))")
        return (daemon, publisher)
    }
}
