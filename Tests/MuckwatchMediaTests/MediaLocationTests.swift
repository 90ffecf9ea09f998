import Foundation
@testable import MuckwatchMedia
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// What the resolver opens for a path or URL under a media root laid out
/// with links inside and out, and what a sidecar beside it may be.
final class MediaLocationTests: XCTestCase {
    private var base: String!
    private var root: String { "\(base!)/root" }
    private var options: DemuxerOptions {
        var o = DemuxerOptions()
        o.mediaRoots = [root]
        return o
    }

    override func setUpWithError() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("muckwatch-location-\(UUID().uuidString.prefix(8))").path
        for dir in ["\(base!)/root/dir", "\(base!)/outside"] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        XCTAssertTrue(FileManager.default.createFile(atPath: "\(root)/a.mp4", contents: Data("inside".utf8)))
        XCTAssertTrue(FileManager.default.createFile(atPath: "\(base!)/outside/secret.mp4", contents: Data("outside".utf8)))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: base)
    }

    private func opened(_ input: String, file: StaticString = #filePath, line: UInt = #line) throws -> MediaFile {
        do {
            guard case .file(let f) = try MediaLocation.open(input, options: options) else {
                XCTFail("\(input) was not opened as a file", file: file, line: line)
                throw CocoaError(.fileReadUnknown)
            }
            return f
        } catch let error as MediaError {
            XCTFail("\(input) refused: \(error.reason)", file: file, line: line)
            throw error
        }
    }

    private func refusal(_ input: String) -> String? {
        do {
            _ = try MediaLocation.open(input, options: options)
            return nil
        } catch {
            return error.reason
        }
    }

    func testALinkInsideTheRootIsOpenedAsTheFileItNames() throws {
        XCTAssertEqual(symlink("../a.mp4", "\(root)/dir/link"), 0)
        let viaLink = try opened("\(root)/dir/link")
        let direct = try opened("file://\(root)/a.mp4")
        XCTAssertEqual(viaLink.path, direct.path)
        XCTAssertEqual(viaLink.name, "a.mp4")
        XCTAssertEqual(viaLink.identity.inode, direct.identity.inode)
        XCTAssertEqual(viaLink.size, 6)
    }

    func testEveryWayOutOfTheRootIsRefused() throws {
        XCTAssertEqual(symlink("../outside/secret.mp4", "\(root)/out"), 0)
        XCTAssertEqual(symlink("\(base!)/outside", "\(root)/dir/away"), 0)
        for input in ["\(root)/out", "\(root)/dir/away/secret.mp4", "\(root)/../outside/secret.mp4",
                      "file://\(root)/%2e%2e/outside/secret.mp4", "/proc/self/fd/0"] {
            let reason = refusal(input)
            XCTAssertTrue(reason?.contains("outside the media roots") == true || reason?.contains("cannot open") == true,
                          "\(input): \(reason ?? "opened")")
        }
        XCTAssertEqual(refusal("file://elsewhere\(root)/a.mp4"), "names another host (elsewhere); only local files are opened")
        XCTAssertNotNil(refusal("subfile,,start,0,end,0,,:\(root)/a.mp4"))
        XCTAssertEqual(refusal("\(root)/a.mp4\u{0}x"), "contains a NUL byte")
    }

    /// A FIFO would block an open for reading, a folder is no video: neither is opened.
    func testOnlyRegularFilesAreOpened() throws {
        XCTAssertEqual(mkfifo("\(root)/fifo", 0o600), 0)
        XCTAssertEqual(refusal("\(root)/fifo"), "is not a regular file")
        XCTAssertEqual(refusal("\(root)/dir"), "is not a regular file")
    }

    func testASidecarIsAPlainFileBesideTheVideoAndNoLarger() throws {
        let video = try opened("\(root)/a.mp4")
        XCTAssertNil(video.sidecar(extensions: ["SRT", "srt"]), "none there")

        XCTAssertEqual(symlink("../outside/secret.mp4", "\(root)/a.SRT"), 0)
        let linked = try XCTUnwrap(video.sidecar(extensions: ["SRT", "srt"]))
        XCTAssertEqual(linked.name, "a.SRT")
        XCTAssertNil(linked.bytes)
        XCTAssertTrue(linked.problem?.contains("symbolic link") == true, linked.problem ?? "")
        unlink("\(root)/a.SRT")

        XCTAssertEqual(mkfifo("\(root)/a.srt", 0o600), 0)
        XCTAssertEqual(video.sidecar(extensions: ["SRT", "srt"])?.problem, "is not a regular file")
        unlink("\(root)/a.srt")

        XCTAssertTrue(FileManager.default.createFile(atPath: "\(root)/a.srt", contents: Data("1\n".utf8)))
        XCTAssertEqual(video.sidecar(extensions: ["SRT", "srt"])?.bytes, Array("1\n".utf8))
        XCTAssertEqual(truncate("\(root)/a.srt", off_t(MediaFile.maxSidecarBytes + 1)), 0)
        let big = try XCTUnwrap(video.sidecar(extensions: ["SRT", "srt"]))
        XCTAssertNil(big.bytes)
        XCTAssertTrue(big.problem?.contains("over the 16 MiB") == true, big.problem ?? "")
    }

    /// Bytes written to the file while it is demuxed: no hash is given, since
    /// none could be said to be that of the bytes demuxed.
    func testAFileWrittenToWhileReadGivesNoHash() throws {
        let path = "\(root)/klv.ts"
        try FileManager.default.copyItem(atPath: mediaFixturePath("klv/osh_sample-stream.ts"), toPath: path)
        let whole = try Demuxer(path, options: options)
        while try whole.nextPacket() != nil {}
        XCTAssertEqual(try whole.fileSHA256()?.count, 64)

        let demuxer = try Demuxer(path, options: options)
        _ = try demuxer.nextPacket()
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(count: 188))
        try handle.close()
        XCTAssertThrowsError(try demuxer.fileSHA256()) { error in
            XCTAssertTrue((error as? MediaError)?.reason.contains("changed while it was read") == true, "\(error)")
        }
    }
}
