import Foundation
import MuckwatchCore
import XCTest

/// The fuzzers' saved corpora (Fuzz/corpus/, kept by Fuzz/run.sh) as a
/// regression test: every input must decode without trapping and say at least
/// one thing (a record, an ignored part or a failure; a KLV packet or an SRT
/// record, or a problem).
final class FuzzCorpusTests: XCTestCase {
    func testJT808Corpus() throws { try runCorpus("jt808", kind: .jt808) }
    func testHJ212Corpus() throws { try runCorpus("hj212", kind: .hj212) }
    func testDJIOSDCorpus() throws { try runCorpus("dji-osd", kind: .djiOSD) }

    /// A native payload is one record or one failure, whichever kind its topic says it is.
    func testNativeJSONCorpus() throws {
        let native: [PayloadKind] = [.truckTelemetry, .fumeReading, .cameraEvent, .droneTelemetry, .droneEvent, .videoSegment]
        let decoder = PayloadDecoder()
        for (input, payload) in try corpus("native-json") {
            for kind in native {
                for device in ["dev", nil] {
                    let items = decoder.items(kind: kind, payload: payload, topicDevice: device, extra: false)
                    XCTAssertEqual(items.count, 1, "Fuzz/corpus/native-json/\(input) as \(kind), topic device \(device ?? "none")")
                    if case .ignored(let what, _)? = items.first {
                        XCTFail("Fuzz/corpus/native-json/\(input) as \(kind) was ignored as \(what)")
                    }
                }
            }
        }
    }

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

    private func runCorpus(_ name: String, kind: PayloadKind, file: StaticString = #filePath, line: UInt = #line) throws {
        let decoder = PayloadDecoder()
        for (input, payload) in try corpus(name, file: file, line: line) {
            let items = decoder.items(kind: kind, payload: payload, topicDevice: "dev", extra: true)
            XCTAssertFalse(items.isEmpty, "Fuzz/corpus/\(name)/\(input) (\(payload.count) bytes) decoded to no item",
                           file: file, line: line)
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
