import Foundation
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

        try store.record(VideoAnalysisRecord(url: jobs[0].url, status: .unreadable, reason: "cannot open: No such file or directory"),
                         for: jobs[0].inboxId)
        var second = VideoAnalysisRecord(url: jobs[0].url, status: .ok)
        second.fileSHA256 = String(repeating: "0", count: 64)
        try store.record(second, for: jobs[0].inboxId)   // ignored: the first stands
        XCTAssertEqual(try store.pendingVideoJobs(excluding: [], limit: 10).map(\.url), ["file:///media/b.mp4", "file:///media/d.ts"])
        XCTAssertEqual(try store.stats().videos, ["unreadable": 1])
        XCTAssertEqual(try store.stats().records["video_segment"], 1)
    }
}
