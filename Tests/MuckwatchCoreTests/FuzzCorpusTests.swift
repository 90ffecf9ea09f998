import Foundation
import MuckwatchCore
import XCTest

/// The fuzzers' saved corpora (Fuzz/corpus/, kept by Fuzz/run.sh) as a
/// regression test: every input must decode without trapping and say at least
/// one thing (a record, an ignored part or a failure).
final class FuzzCorpusTests: XCTestCase {
    func testJT808Corpus() throws { try runCorpus("jt808", kind: .jt808) }
    func testHJ212Corpus() throws { try runCorpus("hj212", kind: .hj212) }
    func testDJIOSDCorpus() throws { try runCorpus("dji-osd", kind: .djiOSD) }

    private func runCorpus(_ name: String, kind: PayloadKind, file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/corpus/\(name)")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            XCTFail("corpus directory Fuzz/corpus/\(name) is missing (\(dir.path))", file: file, line: line)
            return
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix(".") }.sorted()
        XCTAssertFalse(names.isEmpty, "corpus directory Fuzz/corpus/\(name) is empty", file: file, line: line)
        let decoder = PayloadDecoder()
        for input in names {
            let payload = try [UInt8](Data(contentsOf: dir.appendingPathComponent(input)))
            let items = decoder.items(kind: kind, payload: payload, topicDevice: "dev", extra: true)
            XCTAssertFalse(items.isEmpty, "Fuzz/corpus/\(name)/\(input) (\(payload.count) bytes) decoded to no item",
                           file: file, line: line)
        }
    }
}
