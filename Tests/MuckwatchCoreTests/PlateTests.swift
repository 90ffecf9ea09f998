import MuckwatchCore
import XCTest

/// Plates as cameras, trackers and clerks write them, to one spelling.
final class PlateTests: XCTestCase {
    func testCanonicalPlatesAreUnchanged() {
        XCTAssertEqual(Plate.normalize("粤B12345"), "粤B12345")
        XCTAssertEqual(Plate.normalize("粤BD12345"), "粤BD12345")
        XCTAssertEqual(Plate.normalize("粤B1234学"), "粤B1234学")
        XCTAssertEqual(Plate.normalize(""), "")
    }

    func testSeparatorsAndCase() {
        XCTAssertEqual(Plate.normalize("粤b·12345"), "粤B12345")
        XCTAssertEqual(Plate.normalize("粤B-12345"), "粤B12345")
        XCTAssertEqual(Plate.normalize("粤B•12345"), "粤B12345")
        XCTAssertEqual(Plate.normalize("粤B・12345"), "粤B12345")
        XCTAssertEqual(Plate.normalize("粤B_123.45"), "粤B12345")
        XCTAssertEqual(Plate.normalize("粤B－１２３．４５"), "粤B12345")
    }

    func testFullWidthAndWhitespace() {
        XCTAssertEqual(Plate.normalize("粤Ｂ　１２３４５"), "粤B12345")
        XCTAssertEqual(Plate.normalize("粤ｂ１２３４５"), "粤B12345")
        XCTAssertEqual(Plate.normalize(" 粤B 1234 5 "), "粤B12345")
        XCTAssertEqual(Plate.normalize("\t粤B12345\n"), "粤B12345")
        XCTAssertEqual(Plate.normalize("粤B\u{00A0}12345\u{200B}"), "粤B12345")
    }

    func testIdempotent() {
        for text in ["粤b·12345", "粤Ｂ　１２３４５", " 粤B 1234 5 ", "京a-ｆ0001"] {
            let once = Plate.normalize(text)
            XCTAssertEqual(Plate.normalize(once), once)
        }
    }

    func testMixedSpellings() {
        XCTAssertEqual(Plate.normalize("京a-ｆ0001"), "京AF0001")
    }
}
