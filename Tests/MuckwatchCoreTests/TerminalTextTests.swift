import Foundation
import MuckwatchCore
import XCTest

/// Device-chosen text as people see it: escapes shown, never interpreted.
final class TerminalTextTests: XCTestCase {
    static let hostilePlate = "\u{1B}]0;PWNED\u{07}\u{1B}[2J粤B0001\nFORGED LINE"

    func testTheAttackPlateIsShownEscapedOnOneLine() {
        let shown = TerminalText.escaped(Self.hostilePlate)
        XCTAssertEqual(shown, #"\x1b]0;PWNED\x07\x1b[2J粤B0001\nFORGED LINE"#)
        XCTAssertFalse(shown.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
    }

    func testPlainASCIIAndCJKAreUnchanged() {
        for text in ["", "T-0001", "粤BJ7883", "深圳市德信渣土运输有限公司", "川菜馆（展示一） fume 3.5 mg/m³ over 10 min",
                     "draft → registered — 李明", "file:///var/lib/muckwatch/media/cam-cs01/seg.ts", "¡ÿ Ā ‐ ‰ ⁅ ⁰ ⅓ ─ ☃ 😀",
                     "\u{00A0}\u{00AD}\u{2014}\u{2060}\u{2070}"] {
            XCTAssertEqual(TerminalText.escaped(text), text, text)
        }
    }

    func testEveryC0ControlAndDEL() {
        let named: [UInt32: String] = [0x09: #"\t"#, 0x0A: #"\n"#, 0x0D: #"\r"#]
        for v in Array(UInt32(0)..<0x20) + [0x7F] {
            let expected = named[v] ?? "\\x" + (v < 0x10 ? "0" : "") + String(v, radix: 16)
            XCTAssertEqual(TerminalText.escaped("a" + String(Unicode.Scalar(v)!) + "b"), "a\(expected)b", "U+\(String(v, radix: 16))")
        }
        XCTAssertEqual(TerminalText.escaped("\u{1B}"), #"\x1b"#)
        XCTAssertEqual(TerminalText.escaped("\u{00}"), #"\x00"#)
        XCTAssertEqual(TerminalText.escaped("\r\n"), #"\r\n"#, "CR LF is one Character in Swift, still two escapes")
    }

    func testEveryC1Control() {
        for v in UInt32(0x80)..<0xA0 {
            XCTAssertEqual(TerminalText.escaped("粤" + String(Unicode.Scalar(v)!) + "B"), "粤\\u00\(String(v, radix: 16))B")
        }
        XCTAssertEqual(TerminalText.escaped("\u{9B}31m"), #"\u009b31m"#, "CSI as one code point")
        XCTAssertEqual(TerminalText.escaped("\u{85}"), #"\u0085"#, "NEL, a line break to some software")
        XCTAssertEqual(TerminalText.escaped("\u{A0}"), "\u{A0}", "the first code point after C1 is text")
    }

    func testBidiControlsAndLineSeparators() {
        for v: UInt32 in [0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069,
                          0x200E, 0x200F, 0x061C, 0x2028, 0x2029] {
            XCTAssertEqual(TerminalText.escaped("x" + String(Unicode.Scalar(v)!) + "y"), "x\\u" + String(format: "%04x", v) + "y")
        }
        XCTAssertEqual(TerminalText.escaped("粤B\u{202E}1000"), #"粤B\u202e1000"#)
        for v: UInt32 in [0x2027, 0x202F, 0x2065, 0x206A, 0x200D, 0x061B, 0x061D] {
            let text = "x" + String(Unicode.Scalar(v)!) + "y"
            XCTAssertEqual(TerminalText.escaped(text), text, "U+\(String(v, radix: 16)) is shown as it is")
        }
    }

    func testBackslashIsEscapedSoEscapesAreUnambiguous() {
        XCTAssertEqual(TerminalText.escaped(#"C:\clips"#), #"C:\\clips"#)
        XCTAssertEqual(TerminalText.escaped(#"\x1b"#), #"\\x1b"#, "the four characters a device sent")
        XCTAssertNotEqual(TerminalText.escaped(#"\x1b"#), TerminalText.escaped("\u{1B}"))
    }

    func testInvalidUTF8IsShownAsReplacementCharacters() {
        let text = String(decoding: [0x41, 0xFF, 0xC2, 0x1B, 0xE2, 0x80, 0x42, 0xC2], as: UTF8.self)
        XCTAssertEqual(TerminalText.escaped(text), "A\u{FFFD}\u{FFFD}\\x1b\u{FFFD}B\u{FFFD}")
    }

    func testLeadBytesAtTheEndOfTheText() {
        XCTAssertEqual(TerminalText.escaped("a\u{80}"), #"a\u0080"#)
        XCTAssertEqual(TerminalText.escaped("a\u{202E}"), #"a\u202e"#)
        XCTAssertEqual(TerminalText.escaped("a\u{2014}"), "a\u{2014}")
        XCTAssertEqual(TerminalText.escaped("\u{061C}"), #"\u061c"#)
    }

    func testJSONKeepsItsValueAndShowsNothingRaw() throws {
        let value = ["plate": "粤B\u{202E}0001\u{9B}2J\u{7F}\u{2028}", "note": "plain 深圳"]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]), as: UTF8.self)
        let shown = TerminalText.escapedJSON(json)
        XCTAssertEqual(shown, #"{"note":"plain 深圳","plate":"粤B\u202e0001\u009b2J\u007f\u2028"}"#)
        XCTAssertEqual(try JSONSerialization.jsonObject(with: Data(shown.utf8)) as? [String: String], value)
        let plain = #"{"plate":"粤B0001"}"#
        XCTAssertEqual(TerminalText.escapedJSON(plain), plain)
    }

    func testBridgedAndSubstringText() {
        let text = String(Self.hostilePlate.dropFirst(0))
        XCTAssertEqual(text.terminalEscaped, TerminalText.escaped(Self.hostilePlate))
    }

    /// Plain text is returned as it is: no copy on the path every field takes.
    func testPlainTextIsFast() {
        let fields = (0..<10_000).map { "粤B\($0) 深圳市德信渣土运输有限公司 T-\($0) spill at 22.59,114.06" }
        let start = DispatchTime.now().uptimeNanoseconds
        var total = 0
        for _ in 0..<10 { for f in fields { total &+= TerminalText.escaped(f).utf8.count } }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        XCTAssertGreaterThan(total, 0)
        XCTAssertLessThan(seconds, 2, "100 000 plain fields took \(seconds) s")
    }
}
