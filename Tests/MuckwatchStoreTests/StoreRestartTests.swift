import Foundation
import MuckwatchCore
import MuckwatchStore
import XCTest

/// A second run on the same store file: migrations on an existing file,
/// continued case numbering, open incidents and "721" history.
final class StoreRestartTests: StoreTestCase {
    /// The first run: the §4.3 spill on 粤B12345 opens MW-20261124-0001.
    func firstRun() throws -> StoreStats {
        let store = try SQLiteStore(path: path)
        let pipeline = try restoredPipeline(from: store, settings: testSettings())
        try accept(store, Topic.camera(), spillPayload, at: "2026-11-24T21:16:41+08:00")
        try accept(store, Topic.camera(), "garbage", at: "2026-11-24T21:16:42+08:00")
        let batch = try XCTUnwrap(processNext(in: store, with: pipeline))
        XCTAssertEqual(batch.alerts.map(\.alertId), ["A-20261124-0001"])
        return try store.stats()
    }

    func testReopeningKeepsEverything() throws {
        let before = try firstRun()
        let store = try SQLiteStore(path: path)
        var after = try store.stats()
        // A checkpoint moves pages, not facts.
        (after.storeBytes, after.walBytes, after.bytesPerMessage) = (before.storeBytes, before.walBytes, before.bytesPerMessage)
        XCTAssertEqual(after, before)
        XCTAssertEqual(before.messages, 2)
        XCTAssertEqual(before.deadLetters, ["invalid_json": 1])
        XCTAssertEqual(before.cases, ["draft": 1])
        XCTAssertEqual(try store.cases(utcOffsetSeconds: chinaOffset).map(\.id), ["MW-20261124-0001"])
        XCTAssertEqual(try store.caseDetail(id: "MW-20261124-0001", utcOffsetSeconds: chinaOffset)?.evidence?.first?.sha256,
                       spillPayloadSHA256)
        XCTAssertNil(try processNext(in: store, with: restoredPipeline(from: store, settings: testSettings())))
        XCTAssertEqual(try accept(store, Topic.camera(), spillPayload, at: "2026-11-24T21:30:00+08:00"), .duplicate(of: 1))
    }

    func testSignalWithinTenMinutesMergesIntoThePreviousRunsCase() throws {
        _ = try firstRun()
        let store = try SQLiteStore(path: path)
        let pipeline = try restoredPipeline(from: store, settings: testSettings())
        try accept(store, Topic.camera("CAM-08"),
                   eventPayload("2026-11-24T21:20:00+08:00", type: "spill", eventId: "e-9001", camera: "CAM-08"),
                   at: "2026-11-24T21:20:00+08:00")
        let batch = try XCTUnwrap(processNext(in: store, with: pipeline))
        XCTAssertEqual(batch.alerts, [], "the incident is already alerted")
        let detail = try XCTUnwrap(store.caseDetail(id: "MW-20261124-0001", utcOffsetSeconds: chinaOffset))
        XCTAssertEqual(detail.evidenceCount, 2)
        XCTAssertEqual(detail.evidence?.map(\.source), ["CAM-07", "CAM-08"])
        XCTAssertEqual(detail.lastSeen, "2026-11-24T21:20:00.000+08:00")
        XCTAssertEqual(try store.stats().cases, ["draft": 1])
    }

    func testCaseNumberingContinues() throws {
        _ = try firstRun()
        let store = try SQLiteStore(path: path)
        let pipeline = try restoredPipeline(from: store, settings: testSettings())
        try accept(store, Topic.camera("CAM-09"),
                   eventPayload("2026-11-24T21:40:00+08:00", type: "spill", eventId: "e-1", plate: nil, camera: "CAM-09"),
                   at: "2026-11-24T21:40:00+08:00")
        let batch = try XCTUnwrap(processNext(in: store, with: pipeline))
        XCTAssertEqual(batch.alerts.map(\.alertId), ["A-20261124-0002"])
        XCTAssertEqual(try store.cases(utcOffsetSeconds: chinaOffset).map(\.id), ["MW-20261124-0002", "MW-20261124-0001"])
    }

    func testSameSubjectAfterTheWindowIsANewCaseWithHistory() throws {
        _ = try firstRun()
        let store = try SQLiteStore(path: path)
        let pipeline = try restoredPipeline(from: store, settings: testSettings())
        for s in ["00", "10", "20", "30"] {
            try accept(store, Topic.truck(), truckPayload("2026-11-24T21:45:\(s)+08:00"), at: "2026-11-24T21:45:\(s)+08:00")
        }
        let batch = try XCTUnwrap(processNext(in: store, with: pipeline))
        XCTAssertEqual(batch.alerts.map(\.alertId), ["A-20261124-0002"])
        let detail = try XCTUnwrap(store.caseDetail(id: "MW-20261124-0002", utcOffsetSeconds: chinaOffset))
        XCTAssertEqual(detail.violation, "uncovered_load")
        XCTAssertEqual(detail.priorIncidents, 1, "the spill of the first run counts for the same truck")
        XCTAssertEqual(detail.suggestedAction, "manage")
    }

    func testEventIdFromThePreviousRunIsADuplicate() throws {
        _ = try firstRun()
        let store = try SQLiteStore(path: path)
        let pipeline = try restoredPipeline(from: store, settings: testSettings())
        let resent = spillPayload.replacingOccurrences(of: "21:16:40", with: "21:16:45")
        XCTAssertEqual(try accept(store, Topic.camera(), resent, at: "2026-11-24T21:17:00+08:00"), .new(3))
        let batch = try XCTUnwrap(processNext(in: store, with: pipeline))
        XCTAssertEqual(batch.messages, 1)
        XCTAssertEqual(batch.alerts, [])
        let stats = try store.stats()
        XCTAssertEqual(stats.duplicates, 1)
        XCTAssertEqual(stats.records, ["camera_event": 1])
        XCTAssertEqual(try store.caseDetail(id: "MW-20261124-0001", utcOffsetSeconds: chinaOffset)?.evidenceCount, 1)
    }

    func testThirdRunStillContinues() throws {
        _ = try firstRun()
        do {
            let store = try SQLiteStore(path: path)
            try accept(store, Topic.camera("CAM-09"),
                       eventPayload("2026-11-24T22:00:00+08:00", type: "spill", eventId: "e-1", plate: nil, camera: "CAM-09"),
                       at: "2026-11-24T22:00:00+08:00")
            _ = try processNext(in: store, with: restoredPipeline(from: store, settings: testSettings()))
        }
        let store = try SQLiteStore(path: path)
        try accept(store, Topic.camera("CAM-09"),
                   eventPayload("2026-11-24T22:05:00+08:00", type: "spill", eventId: "e-2", plate: nil, camera: "CAM-09"),
                   at: "2026-11-24T22:05:00+08:00")
        try accept(store, Topic.camera("CAM-10"),
                   eventPayload("2026-11-24T22:06:00+08:00", type: "spill", eventId: "e-1", plate: nil, camera: "CAM-10"),
                   at: "2026-11-24T22:06:00+08:00")
        let batch = try XCTUnwrap(processNext(in: store, with: restoredPipeline(from: store, settings: testSettings())))
        XCTAssertEqual(batch.alerts.map(\.alertId), ["A-20261124-0003"], "CAM-09's second spill joins MW-20261124-0002")
        XCTAssertEqual(try store.caseDetail(id: "MW-20261124-0002", utcOffsetSeconds: chinaOffset)?.evidenceCount, 2)
        XCTAssertEqual(try store.stats().cases, ["draft": 3])
    }

    func testNewDayStartsAtOneAfterARestart() throws {
        _ = try firstRun()
        let store = try SQLiteStore(path: path)
        try accept(store, Topic.camera("CAM-09"),
                   eventPayload("2026-11-25T00:01:00+08:00", type: "spill", eventId: "e-1", plate: nil, camera: "CAM-09"),
                   at: "2026-11-25T00:01:00+08:00")
        let batch = try XCTUnwrap(processNext(in: store, with: restoredPipeline(from: store, settings: testSettings())))
        XCTAssertEqual(batch.alerts.map(\.alertId), ["A-20261125-0001"])
    }
}
