import Foundation
import MuckwatchCore
import XCTest

/// The alert-log line (§7.1) and the ids it carries.
final class AlertOutputTests: XCTestCase {
    func run(_ feed: Feed) -> BatchOutcome {
        Pipeline(settings: testSettings()).process(feed.messages, ledger: SetLedger())
    }

    func testCaseIdsUseTheLocalDate() {
        var feed = Feed(start: instant("2026-11-24T23:59:00+08:00"))
        feed.event(after: 0, type: "spill", confidence: 0.9, plate: nil, camera: "CAM-01")
        feed.event(after: 120, type: "spill", confidence: 0.9, plate: nil, camera: "CAM-02")  // 2026-11-25T00:01+08:00
        let out = run(feed)
        XCTAssertEqual(out.alerts.map(\.caseId), ["MW-20261124-0001", "MW-20261125-0001"])
        XCTAssertEqual(out.alerts.map(\.alertId), ["A-20261124-0001", "A-20261125-0001"])
        XCTAssertEqual(out.alerts.map(\.ts), ["2026-11-24T23:59:00.000+08:00", "2026-11-25T00:01:00.000+08:00"])
        XCTAssertEqual(out.openedCases.map(\.id), ["MW-20261124-0001", "MW-20261125-0001"])
    }

    func testSeparatePipelinesAcrossMidnight() {
        var before = Feed(start: instant("2026-11-24T23:59:00+08:00"))
        before.event(after: 0, type: "spill", confidence: 0.9)
        var after = Feed(start: instant("2026-11-25T00:01:00+08:00"))
        after.event(after: 0, type: "spill", confidence: 0.9)
        XCTAssertEqual(run(before).alerts.first?.caseId, "MW-20261124-0001")
        XCTAssertEqual(run(after).alerts.first?.caseId, "MW-20261125-0001")
    }

    /// A plate with controls, a C1 CSI and a bidi override: the alert line is
    /// valid JSON that gives the plate back exactly, one line, and shows none
    /// of them raw to a terminal that `tail -f`s the log.
    func testAlertLineEscapesWhatATerminalWouldActOn() throws {
        let plate = "\u{1B}]0;PWNED\u{07}\u{9B}2J粤B\u{202E}0001\u{2028}\nFORGED LINE\u{7F}"
        var feed = Feed(start: instant("2026-11-24T09:00:00+08:00"))
        feed.event(after: 0, type: "spill", confidence: 0.9, plate: plate, camera: "CAM-01")
        let line = try XCTUnwrap(run(feed).alerts.first?.jsonLine)
        XCTAssertFalse(line.unicodeScalars.contains { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) || $0.value == 0x202E || $0.value == 0x2028 },
                       line.debugDescription)
        XCTAssertTrue(line.contains(#""plate":"\u001b]0;PWNED\u0007\u009b2J粤B\u202e0001\u2028\nFORGED LINE\u007f""#), line)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual((object["subject"] as? [String: Any])?["plate"] as? String, plate)
    }

    func testCaseNumbersCountUpWithinADay() {
        var feed = Feed(start: instant("2026-11-24T09:00:00+08:00"))
        for (i, camera) in ["CAM-01", "CAM-02", "CAM-03"].enumerated() {
            feed.event(after: Double(i) * 60, type: "spill", confidence: 0.9, plate: nil, camera: camera)
        }
        let out = run(feed)
        XCTAssertEqual(out.alerts.map(\.caseId), ["MW-20261124-0001", "MW-20261124-0002", "MW-20261124-0003"])
        XCTAssertEqual(out.alerts.map(\.alertId), ["A-20261124-0001", "A-20261124-0002", "A-20261124-0003"])
    }

    func testJSONLineKeyOrder() throws {
        var feed = Feed(start: instant("2026-11-24T21:16:40+08:00"))
        feed.event(after: 0, type: "uncovered_load", confidence: 0.91)
        let alert = try XCTUnwrap(run(feed).alerts.first)
        let line = alert.jsonLine
        XCTAssertFalse(line.contains("\n"))
        XCTAssertTrue(line.hasPrefix(#"{"ts":"#), line)
        let keys = ["ts", "alert_id", "rule", "severity", "subject", "lat", "lon", "summary", "case_id",
                    "suggested_action", "evidence"]
        var previous = line.startIndex
        for key in keys {
            guard let range = line.range(of: "\"\(key)\":") else {
                XCTFail("no key \(key) in \(line)")
                continue
            }
            XCTAssertGreaterThanOrEqual(range.lowerBound, previous, "'\(key)' out of order in \(line)")
            previous = range.upperBound
        }
        XCTAssertTrue(line.contains(#""subject":{"kind":"truck","id":"T-0001","plate":"粤B12345","company":"深圳市示例渣土运输有限公司"}"#), line)
    }

    func testJSONLineParses() throws {
        var feed = Feed(start: instant("2026-11-24T21:16:40+08:00"))
        let m = feed.event(after: 0, type: "uncovered_load", confidence: 0.91)
        let alert = try XCTUnwrap(run(feed).alerts.first)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(alert.jsonLine.utf8)) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["ts", "alert_id", "rule", "severity", "subject", "lat", "lon", "summary", "case_id",
                                          "suggested_action", "evidence"])
        XCTAssertEqual(object["ts"] as? String, "2026-11-24T21:16:40.000+08:00")
        XCTAssertEqual(object["alert_id"] as? String, "A-20261124-0001")
        XCTAssertEqual(object["rule"] as? String, "uncovered_load")
        XCTAssertEqual(object["severity"] as? String, "major")
        let subject = try XCTUnwrap(object["subject"] as? [String: Any])
        XCTAssertEqual(subject["kind"] as? String, "truck")
        XCTAssertEqual(subject["id"] as? String, "T-0001")
        XCTAssertEqual(subject["plate"] as? String, plate)
        XCTAssertEqual(subject["company"] as? String, company)
        XCTAssertEqual((object["lat"] as? NSNumber)?.doubleValue, 22.5431)
        XCTAssertEqual((object["lon"] as? NSNumber)?.doubleValue, 114.058)
        XCTAssertEqual(object["summary"] as? String, "CAM-07 saw 粤B12345 carrying an uncovered load (confidence 0.91)")
        XCTAssertEqual(object["case_id"] as? String, "MW-20261124-0001")
        XCTAssertEqual(object["suggested_action"] as? String, "advise")
        XCTAssertEqual(object["evidence"] as? [String], ["sha256:" + m.sha256])
    }

    func testUnknownValuesAreLeftOutNotZero() throws {
        var feed = Feed(start: instant("2026-11-24T21:16:40+08:00"))
        feed.event(after: 0, type: "spill", confidence: 0.9, plate: "粤B99999", lat: nil, lon: nil)
        let alert = try XCTUnwrap(run(feed).alerts.first)
        XCTAssertNil(alert.lat)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(alert.jsonLine.utf8)) as? [String: Any])
        XCTAssertNil(object["lat"])
        XCTAssertNil(object["lon"])
        let subject = try XCTUnwrap(object["subject"] as? [String: Any])
        XCTAssertNil(subject["company"])
        XCTAssertEqual(subject["id"] as? String, "粤B99999")
    }

    func testSpecialCharactersAreEscaped() throws {
        let odd = "粤B\"1\\2\n3\t\u{1}"
        var feed = Feed(start: instant("2026-11-24T21:16:40+08:00"))
        feed.event(after: 0, type: "spill", confidence: 0.9, plate: odd)
        let alert = try XCTUnwrap(run(feed).alerts.first)
        XCTAssertFalse(alert.jsonLine.contains("\n"))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(alert.jsonLine.utf8)) as? [String: Any])
        let subject = try XCTUnwrap(object["subject"] as? [String: Any])
        XCTAssertEqual(subject["plate"] as? String, odd)
        XCTAssertEqual(object["summary"] as? String, "CAM-07 saw a spill from \(odd) (confidence 0.9); no truck's track passed within 50 m in the 10 min before")
    }

    func testWholeNumberCoordinatesStayNumbers() throws {
        var feed = Feed(start: instant("2026-11-24T21:16:40+08:00"))
        feed.event(after: 0, type: "spill", confidence: 0.9, lat: 22, lon: 114)
        let line = try XCTUnwrap(run(feed).alerts.first).jsonLine
        XCTAssertTrue(line.contains(#""lat":22,"lon":114,"#), line)
    }
}
