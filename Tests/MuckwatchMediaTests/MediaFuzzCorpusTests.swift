import Foundation
import MuckwatchMedia
import XCTest

/// The media fuzzers' saved corpora (Fuzz/corpus/misb0601 and dji-srt, kept by
/// Fuzz/run.sh) as a regression test: every input must be read without
/// trapping and say something (a packet or record, or a problem).
final class MediaFuzzCorpusTests: XCTestCase {
    func testMISB0601Corpus() throws {
        for (input, bytes) in try corpus("misb0601") {
            let items = MISB0601.scan(bytes)
            XCTAssertTrue(bytes.isEmpty || !items.isEmpty,
                          "Fuzz/corpus/misb0601/\(input) (\(bytes.count) bytes) gave neither a packet nor a problem")
            for case .bad(let problem) in items {
                XCTAssertLessThanOrEqual(problem.offset + problem.length, bytes.count,
                                         "Fuzz/corpus/misb0601/\(input): \(problem) runs past the input")
            }
        }
    }

    func testDJISRTCorpus() throws {
        for (input, bytes) in try corpus("dji-srt") {
            let (records, problems) = DJISRT.parse(bytes)
            XCTAssertFalse(records.isEmpty && problems.isEmpty,
                           "Fuzz/corpus/dji-srt/\(input) (\(bytes.count) bytes) gave neither a record nor a problem")
            let one = DJISRT.parseText(String(decoding: bytes, as: UTF8.self), startMillis: 0, endMillis: 40, index: 1)
            XCTAssertEqual(one.lat == nil, one.lon == nil, "Fuzz/corpus/dji-srt/\(input): half a position from parseText")
        }
    }

    /// Every file of Fuzz/corpus/<name>, by name; fails if the directory is missing or empty.
    private func corpus(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> [(String, [UInt8])] {
        let dir = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/corpus/\(name)")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            XCTFail("corpus directory Fuzz/corpus/\(name) is missing (\(dir.path))", file: file, line: line)
            return []
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix(".") }.sorted()
        XCTAssertFalse(names.isEmpty, "corpus directory Fuzz/corpus/\(name) is empty", file: file, line: line)
        return try names.map { ($0, try [UInt8](Data(contentsOf: dir.appendingPathComponent($0)))) }
    }
}
