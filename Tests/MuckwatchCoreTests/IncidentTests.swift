import MuckwatchCore
import XCTest

/// Incidents (§6): signals on one subject and rule within 10 minutes are one
/// alert and one draft case; "721" suggestions; repeated event ids.
final class IncidentTests: XCTestCase {
    let start = instant("2026-11-24T21:16:40+08:00")

    func run(_ messages: [InboxMessage], settings: PipelineSettings = testSettings(),
             ledger: SetLedger = SetLedger()) -> BatchOutcome {
        Pipeline(settings: settings).process(messages, ledger: ledger)
    }

    func testSameSubjectAndRuleWithinTenMinutesIsOneIncident() {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "uncovered_load", camera: "CAM-07")
        feed.event(after: 300, type: "uncovered_load", camera: "CAM-08")
        let out = run(feed.messages)
        XCTAssertEqual(out.alerts.count, 1)
        XCTAssertEqual(out.openedCases.map(\.id), ["MW-20261124-0001"])
        XCTAssertEqual(out.evidence.map(\.caseId), ["MW-20261124-0001", "MW-20261124-0001"])
        XCTAssertEqual(out.evidence.map(\.evidence.source), ["CAM-07", "CAM-08"])
        XCTAssertEqual(out.evidence.map(\.evidence.sha256), feed.messages.map(\.sha256))
        XCTAssertEqual(out.evidence.last?.lastSeen, start.adding(seconds: 300))
    }

    func testTrackerAndCameraOnTheSameTruckMerge() {
        var feed = Feed(start: start)
        feed.truck(after: 0)
        feed.truck(after: 30)
        feed.event(after: 90, type: "uncovered_load", camera: "CAM-07")
        let out = run(feed.messages)
        XCTAssertEqual(out.alerts.count, 1)
        XCTAssertEqual(out.alerts.first?.summary, "粤B12345 moving uncovered at 36 km/h for 30 s")
        XCTAssertEqual(out.evidence.map(\.caseId), ["MW-20261124-0001", "MW-20261124-0001"])
        XCTAssertEqual(out.evidence.map(\.evidence.kind), ["truck_telemetry", "camera_event"])
    }

    func testLongUncoveredDriveAddsEvidenceToOneCase() {
        var feed = Feed(start: start)
        for s in stride(from: 0.0, through: 120, by: 10) { feed.truck(after: s) }
        let out = run(feed.messages)
        XCTAssertEqual(out.alerts.count, 1)
        XCTAssertEqual(out.openedCases.count, 1)
        XCTAssertEqual(out.evidence.count, 4, "a signal every 30 s: at 30, 60, 90 and 120 s")
        XCTAssertEqual(Set(out.evidence.map(\.caseId)), ["MW-20261124-0001"])
    }

    func testExactlyTenMinutesLaterStillMerges() {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "spill")
        feed.event(after: 600, type: "spill")
        let out = run(feed.messages)
        XCTAssertEqual(out.alerts.count, 1)
        XCTAssertEqual(out.evidence.map(\.caseId), ["MW-20261124-0001", "MW-20261124-0001"])
    }

    func testMoreThanTenMinutesLaterIsASecondCase() {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "uncovered_load")
        feed.event(after: 601, type: "uncovered_load")
        let out = run(feed.messages)
        XCTAssertEqual(out.alerts.map(\.caseId), ["MW-20261124-0001", "MW-20261124-0002"])
        XCTAssertEqual(out.alerts.map(\.alertId), ["A-20261124-0001", "A-20261124-0002"])
        XCTAssertEqual(out.evidence.map(\.caseId), ["MW-20261124-0001", "MW-20261124-0002"])
    }

    func testWindowCountsFromTheLatestSignal() {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "uncovered_load")
        feed.event(after: 500, type: "uncovered_load")
        feed.event(after: 1000, type: "uncovered_load")
        let out = run(feed.messages)
        XCTAssertEqual(out.alerts.count, 1)
        XCTAssertEqual(Set(out.evidence.map(\.caseId)), ["MW-20261124-0001"])
        XCTAssertEqual(out.evidence.count, 3)
    }

    func testLateSignalFromHoursEarlierIsNotMergedIntoTheCurrentIncident() {
        // A camera that was offline uploads its buffered detections late: the
        // 18:16 spill is not within 10 minutes of the 21:16 one.
        var feed = Feed(start: start)
        feed.event(after: 0, type: "spill", camera: "CAM-07")
        feed.event(after: -3 * 3600, type: "spill", camera: "CAM-08")
        let out = run(feed.messages)
        XCTAssertEqual(out.alerts.count, 2, "cases: \(out.evidence.map(\.caseId))")
        XCTAssertEqual(Set(out.evidence.map(\.caseId)).count, 2)
    }

    func testLateSignalWithinTheWindowMerges() {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "spill", camera: "CAM-07")
        feed.event(after: -120, type: "spill", camera: "CAM-08")
        let out = run(feed.messages)
        XCTAssertEqual(out.alerts.count, 1)
        XCTAssertEqual(out.evidence.map(\.caseId), ["MW-20261124-0001", "MW-20261124-0001"])
    }

    func testDifferentRuleIsASeparateCase() {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "uncovered_load")
        feed.event(after: 60, type: "spill")
        let out = run(feed.messages)
        XCTAssertEqual(out.alerts.map(\.rule), ["uncovered_load", "spill"])
        XCTAssertEqual(out.alerts.map(\.caseId), ["MW-20261124-0001", "MW-20261124-0002"])
    }

    func testDifferentSubjectIsASeparateCase() {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "uncovered_load", plate: plate)
        feed.event(after: 60, type: "uncovered_load", plate: "粤B67890")
        feed.event(after: 120, type: "uncovered_load", plate: nil)
        let out = run(feed.messages)
        XCTAssertEqual(out.alerts.map(\.subject.id), ["T-0001", "粤B67890", "CAM-07"])
        XCTAssertEqual(out.alerts.map(\.caseId), ["MW-20261124-0001", "MW-20261124-0002", "MW-20261124-0003"])
    }

    func testDraftCaseContents() throws {
        var settings = testSettings()
        settings.incidents.legalBasis["uncovered_load"] = "《城市建筑垃圾管理规定》第十四条"
        var feed = Feed(start: start)
        feed.event(after: 0, type: "uncovered_load", confidence: 0.91)
        feed.event(after: 120, type: "uncovered_load", camera: "CAM-08")
        let out = run(feed.messages, settings: settings)
        let draft = try XCTUnwrap(out.openedCases.first)
        XCTAssertEqual(out.openedCases.count, 1)
        XCTAssertEqual(draft.id, "MW-20261124-0001")
        XCTAssertEqual(draft.rule, "uncovered_load")
        XCTAssertEqual(draft.severity, .major)
        XCTAssertEqual(draft.legalBasis, "《城市建筑垃圾管理规定》第十四条")
        XCTAssertEqual(draft.subject, Subject(kind: "truck", id: "T-0001", plate: plate, company: company))
        XCTAssertEqual(draft.lat, 22.5431)
        XCTAssertEqual(draft.lon, 114.058)
        XCTAssertEqual(draft.firstSeen, start)
        XCTAssertEqual(draft.createdAt, start)
        XCTAssertEqual(draft.verifyBy, start.adding(seconds: 72 * 3600))
        XCTAssertEqual(draft.suggestedAction, .advise)
        XCTAssertEqual(draft.priorIncidents, 0)
        XCTAssertEqual(draft.summary, "CAM-07 saw 粤B12345 carrying an uncovered load (confidence 0.91)")
        XCTAssertEqual(out.evidence.last?.lastSeen, start.adding(seconds: 120))
    }

    func testShippedLegalBasisAndPenaltyWhenNoneConfigured() throws {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "spill")
        let draft = try XCTUnwrap(run(feed.messages).openedCases.first)
        XCTAssertTrue(draft.legalBasis?.hasPrefix("《中华人民共和国大气污染防治法》第七十条") == true, draft.legalBasis ?? "nil")
        XCTAssertTrue(draft.penalty?.contains("第一百一十六条") == true, draft.penalty ?? "nil")
    }

    // MARK: 721

    func testRepeatedIncidentsOfOnePartyEscalate() {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "uncovered_load")
        feed.event(after: 86_400, type: "uncovered_load")
        feed.event(after: 2 * 86_400, type: "uncovered_load")
        feed.event(after: 3 * 86_400, type: "uncovered_load")
        let out = run(feed.messages)
        XCTAssertEqual(out.alerts.map(\.suggestedAction), [.advise, .manage, .enforce, .enforce])
        XCTAssertEqual(out.openedCases.map(\.priorIncidents), [0, 1, 2, 3])
        XCTAssertEqual(out.alerts.map(\.caseId), ["MW-20261124-0001", "MW-20261125-0001", "MW-20261126-0001", "MW-20261127-0001"])
    }

    func testSecondIncidentSameDayIsManage() {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "uncovered_load")
        feed.event(after: 11 * 60, type: "uncovered_load")
        let out = run(feed.messages)
        XCTAssertEqual(out.alerts.map(\.suggestedAction), [.advise, .manage])
    }

    func testCriticalIsEnforcedAtOnce() {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "spill")
        let out = run(feed.messages)
        XCTAssertEqual(out.alerts.map(\.suggestedAction), [.enforce])
        XCTAssertEqual(out.openedCases.map(\.priorIncidents), [0])
    }

    func testIncidentsOfOtherRulesCountForTheSameParty() {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "spill")
        feed.truck(after: 86_400)
        feed.truck(after: 86_430)
        let out = run(feed.messages)
        XCTAssertEqual(out.alerts.map(\.rule), ["spill", "uncovered_load"])
        XCTAssertEqual(out.alerts.map(\.suggestedAction), [.enforce, .manage])
    }

    func testOtherPartiesDoNotCount() {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "uncovered_load", plate: "粤B67890")
        feed.event(after: 60, type: "uncovered_load", plate: "粤B99999")
        feed.event(after: 120, type: "uncovered_load", plate: plate)
        let out = run(feed.messages)
        XCTAssertEqual(out.alerts.map(\.suggestedAction), [.advise, .advise, .advise])
    }

    func testIncidentsOlderThan30DaysDoNotCount() {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "uncovered_load")
        feed.event(after: 31 * 86_400, type: "uncovered_load")
        XCTAssertEqual(run(feed.messages).alerts.map(\.suggestedAction), [.advise, .advise])

        var recent = Feed(start: start)
        recent.event(after: 0, type: "uncovered_load")
        recent.event(after: 29 * 86_400, type: "uncovered_load")
        XCTAssertEqual(run(recent.messages).alerts.map(\.suggestedAction), [.advise, .manage])
    }

    func testMergedSignalsAreNotExtraIncidents() {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "uncovered_load")
        feed.event(after: 60, type: "uncovered_load")
        feed.event(after: 120, type: "uncovered_load")
        feed.event(after: 86_400, type: "uncovered_load")
        let out = run(feed.messages)
        XCTAssertEqual(out.alerts.map(\.suggestedAction), [.advise, .manage])
    }

    // MARK: Event ids

    func testRepeatedEventIdInOneBatchIsADuplicate() {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "spill", confidence: 0.9, eventId: "e-8812")
        let again = feed.event(after: 1, type: "spill", confidence: 0.91, eventId: "e-8812")
        let out = run(feed.messages)
        XCTAssertEqual(out.duplicateEvents, [again])
        XCTAssertEqual(out.decoded.count, 1)
        XCTAssertEqual(out.alerts.count, 1)
        XCTAssertEqual(out.evidence.count, 1, "the repeat adds no evidence")
        XCTAssertEqual(out.lastInboxId, again.id)
    }

    func testEventIdTheLedgerKnowsIsADuplicate() {
        var feed = Feed(start: start)
        let m = feed.event(after: 0, type: "spill", confidence: 0.9, eventId: "e-8812")
        let out = run(feed.messages, ledger: SetLedger(known: ["camera|CAM-07|e-8812"]))
        XCTAssertEqual(out.duplicateEvents, [m])
        XCTAssertEqual(out.decoded, [])
        XCTAssertEqual(out.alerts, [])
        XCTAssertEqual(out.evidence, [])
    }

    func testEventIdsAreUniquePerSource() {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "spill", confidence: 0.9, camera: "CAM-07", eventId: "e-1")
        feed.event(after: 1, type: "spill", confidence: 0.9, camera: "CAM-08", eventId: "e-1")
        feed.event(after: 2, type: "spill", confidence: 0.9, camera: "CAM-07", drone: true, eventId: "e-1")
        let out = run(feed.messages, ledger: SetLedger(known: ["camera|CAM-09|e-1"]))
        XCTAssertEqual(out.duplicateEvents, [])
        XCTAssertEqual(out.decoded.count, 3)
    }

    func testEventsWithoutIdAreNeverDuplicates() {
        var feed = Feed(start: start)
        feed.event(after: 0, type: "spill", confidence: 0.9)
        feed.event(after: 0, type: "spill", confidence: 0.9, camera: "CAM-07", lat: 22.5432)
        let out = run(feed.messages)
        XCTAssertEqual(out.duplicateEvents, [])
        XCTAssertEqual(out.evidence.count, 2)
    }
}
