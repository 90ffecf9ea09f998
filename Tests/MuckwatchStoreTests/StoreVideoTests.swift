import Foundation
import GRDB
import MuckwatchCore
import MuckwatchStore
import XCTest

/// The store is the video workers' list of work: a clip or segment is
/// pending until its analysis is recorded, across restarts, and a first
/// result is never replaced.
final class StoreVideoTests: StoreTestCase {
    private func acceptClipEvent(_ store: SQLiteStore, id: String, url: String, at time: String) throws {
        let payload = #"{"camera":"CAM-07","event_id":"\#(id)","ts":"\#(time)","type":"bare_soil","clip":{"url":"\#(url)","offset_s":2.5}}"#
        try accept(store, Topic.camera(), payload, at: time)
    }

    func testAClipIsPendingUntilItsAnalysisIsRecordedEvenAcrossARestart() throws {
        do {
            let store = try SQLiteStore(path: path)
            try acceptClipEvent(store, id: "c-1", url: "file:///media/a.mp4", at: "2026-11-24T21:16:40+08:00")
            try acceptClipEvent(store, id: "c-2", url: "file:///media/b.mp4", at: "2026-11-24T21:16:41+08:00")
            try accept(store, "muckwatch/v1/video/D-01/segment", #"{"url":"file:///media/d.ts","start":"2026-11-24T21:10:00+08:00"}"#,
                       at: "2026-11-24T21:16:42+08:00")
            XCTAssertEqual(try store.pendingVideoJobs(excluding: [], limit: 10), [], "nothing before the rules have run")
            _ = try processNext(in: store, with: restoredPipeline(from: store, settings: testSettings()))
        }
        let store = try SQLiteStore(path: path)
        let jobs = try store.pendingVideoJobs(excluding: [], limit: 10)
        XCTAssertEqual(jobs.map(\.url), ["file:///media/a.mp4", "file:///media/b.mp4", "file:///media/d.ts"])
        XCTAssertEqual(jobs[0].kind, .clip(offsetS: 2.5, eventTime: instant("2026-11-24T21:16:40+08:00")))
        XCTAssertEqual(jobs[2].kind, .segment(source: "D-01", start: instant("2026-11-24T21:10:00+08:00")))
        XCTAssertEqual(try store.pendingVideoJobs(excluding: [jobs[0].inboxId], limit: 10).count, 2)
        XCTAssertEqual(try store.pendingVideoJobs(after: jobs[0].inboxId, excluding: [], limit: 10).count, 2)
        XCTAssertEqual(try store.pendingVideoJobs(excluding: [], limit: 1).map(\.url), ["file:///media/a.mp4"])

        try store.record(VideoResult(url: jobs[0].url, status: .unreadable, reason: "cannot open: No such file or directory"),
                         for: jobs[0])
        var second = VideoResult(url: jobs[0].url, status: .ok)
        second.fileSHA256 = String(repeating: "0", count: 64)
        try store.record(second, for: jobs[0])   // ignored: the first stands
        XCTAssertEqual(try store.pendingVideoJobs(excluding: [], limit: 10).map(\.url), ["file:///media/b.mp4", "file:///media/d.ts"])
        XCTAssertEqual(try store.stats().videos, ["unreadable": 1])
        XCTAssertEqual(try store.stats().records["video_segment"], 1)
    }

    func testASegmentsPositionsReachThePipelineAsValuesWithTheirOriginAndSegment() throws {
        let store = try SQLiteStore(path: path)
        try accept(store, "muckwatch/v1/video/D-01/segment", #"{"url":"file:///media/d.ts","start":"2026-11-24T21:10:00+08:00"}"#,
                   at: "2026-11-24T21:16:42+08:00")
        let pipeline = try restoredPipeline(from: store, settings: testSettings())
        _ = try processNext(in: store, with: pipeline)
        let job = try XCTUnwrap(store.pendingVideoJobs(excluding: [], limit: 1).first)
        var result = VideoResult(url: job.url, status: .ok)
        result.track = (0..<3).map {
            DroneTelemetry(drone: "D-01", ts: instant("2026-11-24T21:10:0\($0)+08:00"), lat: 22.5 + Double($0) * 0.001,
                           lon: 114.05, altM: 120, headingDeg: 90, origin: "misb_st0601")
        }
        try store.record(result, for: job)
        try store.record(result, for: job)   // a second analysis of the same segment adds nothing
        let pending = try XCTUnwrap(store.pendingSegmentTelemetry(segments: 10))
        XCTAssertEqual(pending.messages.map(\.id), [job.inboxId], "the segment's own message, with its positions as records")
        XCTAssertEqual(pending.messages[0].decoded?.records.count, 3)

        var outcome = pipeline.process(pending.messages, ledger: store, history: store, fixes: store)
        outcome.lastInboxId = nil
        outcome.segmentPositionsThrough = pending.through
        _ = try store.commit(outcome, clock: pipeline.now)
        XCTAssertNil(try store.pendingSegmentTelemetry(segments: 10), "processed positions leave the list")
        let rows = try DatabaseQueue(path: path).read { db in
            try Row.fetchAll(db, sql: "SELECT inbox_id, part, drone, lat, origin, segment_inbox_id FROM drone_telemetry ORDER BY part")
        }
        XCTAssertEqual(rows.map { $0["part"] as Int }, [0, 1, 2])
        XCTAssertEqual(rows.map { $0["origin"] as String? }, ["misb_st0601", "misb_st0601", "misb_st0601"])
        XCTAssertEqual(rows.map { $0["segment_inbox_id"] as Int64? }, [job.inboxId, job.inboxId, job.inboxId])
        XCTAssertEqual(rows[2]["lat"] as Double, 22.502, accuracy: 1e-9)
        XCTAssertEqual(try store.stats().messages, 1, "no made-up messages in the inbox")
        XCTAssertEqual(try store.pendingVideoJobs(excluding: [], limit: 10), [])
    }
}
