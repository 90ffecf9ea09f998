import Foundation
import MuckwatchCore
import MuckwatchStore
import XCTest

/// A scripted feed through the store: records, dead letters, alerts, draft
/// cases with evidence and history, stats.
final class StoreProcessingTests: StoreTestCase {
    /// Accepts a small feed: an uncovered truck (fires at 21:15:30), the §4.3
    /// spill event, a fume reading, drone telemetry and a drone event, four
    /// bad messages, a redelivery and a repeated event id.
    func acceptScriptedFeed(_ store: SQLiteStore) throws {
        for s in ["00", "10", "20", "30"] {
            try accept(store, Topic.truck(), truckPayload("2026-11-24T21:15:\(s)+08:00"), at: "2026-11-24T21:15:\(s).200+08:00")
        }
        try accept(store, Topic.camera(), spillPayload, at: "2026-11-24T21:16:41+08:00")  // 5
        try accept(store, Topic.fume(), #"{"monitor":"F-0101","ts":1795526200000,"conc_mg_m3":1.35,"fan":"on","purifier":"on"}"#,
                   at: "2026-11-24T21:16:41+08:00")  // 6
        try accept(store, Topic.drone(), #"{"drone":"D-01","ts":"2026-11-24T21:16:42+08:00","lat":22.55,"lon":114.06,"alt_m":120.5}"#,
                   at: "2026-11-24T21:16:42+08:00")  // 7
        try accept(store, Topic.droneEvent(), #"{"drone":"D-01","event_id":"d-1","ts":"2026-11-24T21:16:43+08:00","type":"bare_soil","confidence":0.8}"#,
                   at: "2026-11-24T21:16:43+08:00")  // 8
        try accept(store, Topic.camera(), "not json", at: "2026-11-24T21:16:44+08:00")  // 9
        try accept(store, Topic.truck(), #"{"ts":"2026-11-24T21:16:45+08:00","lon":114.0}"#, at: "2026-11-24T21:16:45+08:00")  // 10
        try accept(store, Topic.truck(), #"{"ts":"2026-11-24T21:16:46+08:00","lat":123.4,"lon":114.0}"#,
                   at: "2026-11-24T21:16:46+08:00")  // 11
        try accept(store, "muckwatch/v1/boat/B-1/telemetry", "{}", at: "2026-11-24T21:16:47+08:00")  // 12
        XCTAssertEqual(try accept(store, Topic.camera(), spillPayload, at: "2026-11-24T21:16:48+08:00"), .duplicate(of: 5))
        try accept(store, Topic.camera(), spillPayload.replacingOccurrences(of: "0.91", with: "0.92"),
                   at: "2026-11-24T21:16:49+08:00")  // 13: e-8812 again
    }

    func testScriptedFeed() throws {
        let store = try SQLiteStore(path: path)
        try acceptScriptedFeed(store)
        XCTAssertEqual(try store.stats().pending, 13)
        let pipeline = try restoredPipeline(from: store, settings: testSettings())
        let batch = try XCTUnwrap(processNext(in: store, with: pipeline))
        XCTAssertEqual(batch.messages, 13)
        XCTAssertEqual(batch.alerts.map(\.alertId), ["A-20261124-0001", "A-20261124-0002"])
        XCTAssertNil(try processNext(in: store, with: pipeline), "nothing is pending any more")

        let stats = try store.stats()
        XCTAssertEqual(stats.messages, 13)
        XCTAssertEqual(stats.duplicates, 2, "one redelivery and one repeated event id")
        XCTAssertEqual(stats.records, ["truck": 4, "fume": 1, "camera_event": 1, "drone": 1, "drone_event": 1])
        XCTAssertEqual(stats.deadLetters, ["invalid_json": 1, "missing_field": 1, "out_of_range": 1, "unknown_topic": 1])
        XCTAssertEqual(stats.alerts, ["uncovered_load": 1, "spill": 1])
        XCTAssertEqual(stats.cases, ["draft": 2])
        XCTAssertEqual(stats.pending, 0)
    }

    func testStatsJSONKeys() throws {
        let store = try SQLiteStore(path: path)
        try acceptScriptedFeed(store)
        _ = try processNext(in: store, with: restoredPipeline(from: store, settings: testSettings()))
        let data = try JSONEncoder().encode(try store.stats())
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(object["messages"] as? Int, 13)
        XCTAssertEqual(object["duplicates"] as? Int, 2)
        XCTAssertEqual((object["dead_letters"] as? [String: Int])?["invalid_json"], 1)
        XCTAssertEqual((object["records"] as? [String: Int])?["camera_event"], 1)
        XCTAssertEqual((object["alerts"] as? [String: Int])?["spill"], 1)
        XCTAssertEqual((object["cases"] as? [String: Int])?["draft"], 2)
    }

    func testDeadLettersKeepReasonDetailAndRawPayload() throws {
        let store = try SQLiteStore(path: path)
        try acceptScriptedFeed(store)
        _ = try processNext(in: store, with: restoredPipeline(from: store, settings: testSettings()))
        let letters = try rows("SELECT inbox_id, topic, reason, detail, payload, arrived_at FROM dead_letters ORDER BY inbox_id")
        XCTAssertEqual(letters.map { $0["inbox_id"] as Int64 }, [9, 10, 11, 12])
        XCTAssertEqual(letters.map { $0["reason"] as String }, ["invalid_json", "missing_field", "out_of_range", "unknown_topic"])
        let details = letters.map { $0["detail"] as String }
        XCTAssertTrue(details[1].contains("'lat'"), details[1])
        XCTAssertTrue(details[2].contains("'lat'") && details[2].contains("123.4"), details[2])
        XCTAssertTrue(details[3].contains("muckwatch/v1/boat/B-1/telemetry"), details[3])
        XCTAssertEqual(letters.map { String(decoding: $0["payload"] as Data, as: UTF8.self) },
                       ["not json", #"{"ts":"2026-11-24T21:16:45+08:00","lon":114.0}"#,
                        #"{"ts":"2026-11-24T21:16:46+08:00","lat":123.4,"lon":114.0}"#, "{}"])
        XCTAssertEqual(letters.first?["topic"] as String?, Topic.camera())
        XCTAssertEqual(letters.first?["arrived_at"] as Int64?, instant("2026-11-24T21:16:44+08:00").millis)
        // The raw message stays in the whole-process record too.
        XCTAssertEqual(try rows("SELECT payload FROM inbox WHERE id = 9").first.map { $0["payload"] as Data }, Data("not json".utf8))
    }

    func testCasesList() throws {
        let store = try SQLiteStore(path: path)
        try acceptScriptedFeed(store)
        _ = try processNext(in: store, with: restoredPipeline(from: store, settings: testSettings()))
        let cases = try store.cases(utcOffsetSeconds: chinaOffset)
        XCTAssertEqual(cases.map(\.id), ["MW-20261124-0002", "MW-20261124-0001"], "newest first")
        XCTAssertEqual(cases.map(\.violation), ["spill", "uncovered_load"])
        XCTAssertEqual(cases.map(\.status), ["draft", "draft"])
        XCTAssertEqual(cases.map(\.evidenceCount), [1, 1])
        XCTAssertEqual(cases.map(\.evidence), [nil, nil])

        let uncovered = try XCTUnwrap(cases.last)
        XCTAssertEqual(uncovered.severity, "major")
        XCTAssertEqual(uncovered.suggestedAction, "advise")
        XCTAssertEqual(uncovered.priorIncidents, 0)
        XCTAssertEqual(uncovered.summary, "粤B12345 moving uncovered at 36 km/h for 30 s")
        XCTAssertEqual(describe(uncovered.suspectedParty), "truck T-0001 粤B12345 \(company)")
        XCTAssertEqual(uncovered.firstSeen, "2026-11-24T21:15:30.000+08:00")
        XCTAssertEqual(uncovered.createdAt, "2026-11-24T21:15:30.000+08:00")
        XCTAssertEqual(uncovered.verifyBy, "2026-11-27T21:15:30.000+08:00")
        XCTAssertEqual(uncovered.legalBasis?.hasPrefix("《中华人民共和国大气污染防治法》第七十条"), true, "the shipped default")
        XCTAssertEqual(uncovered.lat, 22.54321)
        XCTAssertEqual(uncovered.lon, 114.05786)

        XCTAssertEqual(try store.cases(utcOffsetSeconds: chinaOffset, status: "draft").count, 2)
        XCTAssertEqual(try store.cases(utcOffsetSeconds: chinaOffset, status: "closed"), [])
        XCTAssertEqual(try store.cases(utcOffsetSeconds: 0).last?.firstSeen, "2026-11-24T13:15:30.000Z")
    }

    func testCaseDetailWithEvidenceAndHistory() throws {
        let store = try SQLiteStore(path: path)
        try acceptScriptedFeed(store)
        _ = try processNext(in: store, with: restoredPipeline(from: store, settings: testSettings()))
        let spill = try XCTUnwrap(store.caseDetail(id: "MW-20261124-0002", utcOffsetSeconds: chinaOffset))
        XCTAssertEqual(spill.id, "MW-20261124-0002")
        XCTAssertEqual(spill.status, "draft")
        XCTAssertEqual(spill.violation, "spill")
        XCTAssertEqual(spill.severity, "critical")
        XCTAssertEqual(spill.legalBasis, "《城市市容和环境卫生管理条例》第十五条")
        XCTAssertEqual(describe(spill.suspectedParty), "truck T-0001 粤B12345 \(company)")
        XCTAssertEqual(spill.summary, "CAM-07 saw a spill from 粤B12345 (confidence 0.91)")
        XCTAssertEqual(spill.suggestedAction, "enforce")
        XCTAssertEqual(spill.priorIncidents, 1, "the uncovered load a minute earlier was the same truck")
        XCTAssertEqual(spill.firstSeen, "2026-11-24T21:16:40.000+08:00")
        XCTAssertEqual(spill.lastSeen, "2026-11-24T21:16:40.000+08:00")
        XCTAssertEqual(spill.verifyBy, "2026-11-27T21:16:40.000+08:00")
        XCTAssertEqual(spill.evidenceCount, 1, "the repeated event id added nothing")

        let evidence = try XCTUnwrap(spill.evidence)
        XCTAssertEqual(evidence.count, 1)
        XCTAssertEqual(evidence.first?.sha256, spillPayloadSHA256)
        XCTAssertEqual(evidence.first?.kind, "camera_event")
        XCTAssertEqual(evidence.first?.source, "CAM-07")
        XCTAssertEqual(evidence.first?.ts, "2026-11-24T21:16:40.000+08:00")
        XCTAssertEqual(evidence.first?.inboxId, 5)
        XCTAssertEqual(evidence.first?.clipURL, "file:///var/lib/muckwatch/media/cam07/seg-2116.ts")
        XCTAssertEqual(evidence.first?.frameOffsetS, 12.4)
        XCTAssertEqual(evidence.first?.chainHash.count, 64)

        XCTAssertEqual(spill.history?.count, 1)
        let opened = try XCTUnwrap(spill.history?.first)
        XCTAssertEqual(opened.status, "draft")
        XCTAssertEqual(opened.by, "muckwatchd")
        XCTAssertEqual(opened.at, "2026-11-24T21:16:40.000+08:00")
        XCTAssertEqual(opened.note, "opened by rule spill")

        let uncovered = try XCTUnwrap(store.caseDetail(id: "MW-20261124-0001", utcOffsetSeconds: chinaOffset))
        XCTAssertEqual(uncovered.evidence?.map(\.inboxId), [4])
        XCTAssertEqual(uncovered.evidence?.first?.kind, "truck_telemetry")
        XCTAssertEqual(uncovered.evidence?.first?.sha256, Digest.sha256Hex(truckPayload("2026-11-24T21:15:30+08:00")))
        XCTAssertNil(uncovered.evidence?.first?.clipURL)
        XCTAssertEqual(uncovered.history?.map(\.status), ["draft"])

        XCTAssertNil(try store.caseDetail(id: "MW-20261124-0099", utcOffsetSeconds: chinaOffset))
    }

    func testEvidenceAppendedToAnOpenCase() throws {
        let store = try SQLiteStore(path: path)
        try accept(store, Topic.camera(), eventPayload("2026-11-24T21:16:40+08:00", type: "spill", eventId: "e-1"),
                   at: "2026-11-24T21:16:40+08:00")
        try accept(store, Topic.camera("CAM-08"),
                   eventPayload("2026-11-24T21:20:00+08:00", type: "spill", eventId: "e-1", camera: "CAM-08"),
                   at: "2026-11-24T21:20:00+08:00")
        let batch = try XCTUnwrap(processNext(in: store, with: restoredPipeline(from: store, settings: testSettings())))
        XCTAssertEqual(batch.alerts.count, 1)
        let detail = try XCTUnwrap(store.caseDetail(id: "MW-20261124-0001", utcOffsetSeconds: chinaOffset))
        XCTAssertEqual(detail.evidenceCount, 2)
        XCTAssertEqual(detail.evidence?.map(\.source), ["CAM-07", "CAM-08"])
        XCTAssertEqual(detail.firstSeen, "2026-11-24T21:16:40.000+08:00")
        XCTAssertEqual(detail.lastSeen, "2026-11-24T21:20:00.000+08:00")
        XCTAssertEqual(detail.history?.count, 1, "appending evidence is not a status move")
        let chain = try XCTUnwrap(detail.evidence?.map(\.chainHash))
        XCTAssertEqual(Set(chain).count, 2)
    }

    func testEventIdStoredInAnEarlierBatchIsADuplicate() throws {
        let store = try SQLiteStore(path: path)
        let pipeline = try restoredPipeline(from: store, settings: testSettings())
        try accept(store, Topic.camera(), spillPayload, at: "2026-11-24T21:16:41+08:00")
        XCTAssertEqual(try processNext(in: store, with: pipeline)?.alerts.count, 1)
        // The camera sends the same event again with other bytes (a re-encoded retry).
        let resent = spillPayload.replacingOccurrences(of: #""confidence":0.91"#, with: #""confidence":0.91,"retry":1"#)
        XCTAssertEqual(try accept(store, Topic.camera(), resent, at: "2026-11-24T21:17:00+08:00"), .new(2))
        let batch = try XCTUnwrap(processNext(in: store, with: pipeline))
        XCTAssertEqual(batch.messages, 1)
        XCTAssertEqual(batch.alerts, [])
        let stats = try store.stats()
        XCTAssertEqual(stats.duplicates, 1)
        XCTAssertEqual(stats.records, ["camera_event": 1])
        XCTAssertEqual(stats.messages, 2)
        XCTAssertEqual(try store.caseDetail(id: "MW-20261124-0001", utcOffsetSeconds: chinaOffset)?.evidenceCount, 1)
    }

    func testBatchLimit() throws {
        let store = try SQLiteStore(path: path)
        for s in ["00", "10", "20", "30", "40"] {
            try accept(store, Topic.truck(), truckPayload("2026-11-24T21:15:\(s)+08:00"), at: "2026-11-24T21:15:\(s)+08:00")
        }
        let pipeline = try restoredPipeline(from: store, settings: testSettings())
        XCTAssertEqual(try processNext(in: store, with: pipeline, limit: 3)?.messages, 3)
        XCTAssertEqual(try store.stats().pending, 2)
        let rest = try XCTUnwrap(processNext(in: store, with: pipeline, limit: 3))
        XCTAssertEqual(rest.messages, 2)
        XCTAssertEqual(rest.alerts.count, 1, "the stretch spans both batches")
        XCTAssertNil(try processNext(in: store, with: pipeline, limit: 3))
    }

    // MARK: Alert lines

    func testStoredAlertLinesAreThePipelinesJSONLines() throws {
        let store = try SQLiteStore(path: path)
        try acceptScriptedFeed(store)
        let pending = try store.unprocessed(limit: 100)
        let expected = Pipeline(settings: testSettings()).process(pending, ledger: NoEvents()).alerts
        let batch = try XCTUnwrap(processNext(in: store, with: restoredPipeline(from: store, settings: testSettings())))
        // The store adds the case ledger's head as the line's last field.
        let chains = batch.alerts.filter { $0.line.contains(/,"chain":"[0-9a-f]{64}"}$/) }
        XCTAssertEqual(chains.count, expected.count)
        XCTAssertEqual(batch.alerts.map { $0.line.replacing(#/,"chain":"[0-9a-f]{64}"/#, with: "") }, expected.map(\.jsonLine))
        XCTAssertEqual(batch.ledgerHead?.head, try store.ledgerHead()?.head)
        XCTAssertEqual(batch.alerts.map(\.alertId), expected.map(\.alertId))

        let line = try XCTUnwrap(batch.alerts.last?.line)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(object["rule"] as? String, "spill")
        XCTAssertEqual(object["case_id"] as? String, "MW-20261124-0002")
        XCTAssertEqual(object["ts"] as? String, "2026-11-24T21:16:40.000+08:00")
        XCTAssertEqual(object["evidence"] as? [String], ["sha256:" + spillPayloadSHA256])
    }

    func testUnloggedAlertsUntilMarkedLogged() throws {
        let store = try SQLiteStore(path: path)
        try acceptScriptedFeed(store)
        XCTAssertEqual(try store.unloggedAlerts(), [])
        let batch = try XCTUnwrap(processNext(in: store, with: restoredPipeline(from: store, settings: testSettings())))
        XCTAssertEqual(try store.unloggedAlerts(), batch.alerts)
        try store.markLogged([batch.alerts[0]])
        XCTAssertEqual(try store.unloggedAlerts(), [batch.alerts[1]])
        try store.markLogged(batch.alerts)
        XCTAssertEqual(try store.unloggedAlerts(), [])
        XCTAssertEqual(try SQLiteStore(path: path).unloggedAlerts(), [], "logged stays logged after a reopen")
    }

    func testUnloggedAlertsSurviveAReopen() throws {
        var lines: [StoredAlert] = []
        do {
            let store = try SQLiteStore(path: path)
            try acceptScriptedFeed(store)
            lines = try XCTUnwrap(processNext(in: store, with: restoredPipeline(from: store, settings: testSettings()))).alerts
        }
        XCTAssertEqual(try SQLiteStore(path: path).unloggedAlerts(), lines)
    }
}
