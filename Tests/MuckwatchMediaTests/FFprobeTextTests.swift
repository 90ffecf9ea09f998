@testable import MuckwatchMedia
import MuckwatchScenario
import XCTest

/// Times written as ffprobe writes them: the integer "%f" against the C
/// library's printf, on the values probe meets and on awkward ones.
final class FFprobeTextTests: XCTestCase {
    private func assertSameAsPrintf(_ v: Double, file: StaticString = #filePath, line: UInt = #line) {
        var ours: [UInt8] = [], printf: [UInt8] = []
        FFprobeText.appendFixed(v, to: &ours)
        FFprobeText.appendFixedWithPrintf(v, to: &printf)
        XCTAssertEqual(String(decoding: ours, as: UTF8.self), String(decoding: printf, as: UTF8.self), "\(v)", file: file, line: line)
    }

    func testTimestampsTimesTimeBases() {
        var rng = SplitMix64(state: 7)
        let bases: [(Int64, Int64)] = [(1, 90_000), (1, 12_800), (1, 1000), (1, 25), (1001, 30_000), (1, 48_000), (1, 44_100), (1, 1)]
        for _ in 0..<200_000 {
            let (num, den) = bases[Int(rng.next() % UInt64(bases.count))]
            let ts = Int64(bitPattern: rng.next()) % 10_000_000_000 - 100_000
            assertSameAsPrintf(Double(ts) * (Double(num) / Double(den)))
        }
    }

    func testHalfwayAndEdgeValues() {
        for v in [0.0, -0.0, 0.0000005, 0.0000015, 0.0000025, 1.0000005, -0.0000004, -0.0000005, 0.5e-6, 2.5e-6,
                  1e-300, -1e-300, Double.leastNonzeroMagnitude, 123_456_789.123_456_5, 9.0e15, 9.2e18, 1e19, 1e300,
                  -1e300, .infinity, -.infinity, 4503599627370495.5, 0.1, 0.2, 0.3, 1.0 / 3.0, 2.0 / 3.0] {
            assertSameAsPrintf(v)
        }
    }

    func testRandomBitPatterns() {
        var rng = SplitMix64(state: 11)
        for _ in 0..<200_000 {
            let v = Double(bitPattern: rng.next())
            if v.isNaN { continue }
            assertSameAsPrintf(v)
        }
    }
}

