import Foundation
import GRDB
import MuckwatchCore

/// A video still to be demuxed: the clip of a camera/drone event, or an
/// announced segment. Work is found in the store, not kept in memory, so
/// that what a crash interrupted is simply found again.
public struct VideoJob: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case clip(offsetS: Double?, eventTime: Instant)
        case segment(source: String, start: Instant)
    }

    public var inboxId: Int64
    public var url: String
    public var kind: Kind
    /// When the message that named the video arrived (for what its analysis
    /// passes on to the pipeline, so that a replay gives the same times).
    public var arrivedAt: Instant
}

/// What demuxing a clip or segment found, as `video_analyses` keeps it: the
/// store's own shape, so that it links no FFmpeg (the daemon's video workers
/// turn the media module's `VideoAnalysis` into it).
public struct VideoAnalysisRecord: Sendable, Equatable {
    public enum Status: String, Sendable {
        /// Read to the end (or to what was needed).
        case ok
        /// Cut short, or a read error before the end: what was read is kept.
        case partial
        case unreadable
    }

    public struct Frame: Sendable, Equatable {
        public var pts: Int64
        public var seconds: Double
        public var wallTime: Instant?

        public init(pts: Int64, seconds: Double, wallTime: Instant?) {
            self.pts = pts
            self.seconds = seconds
            self.wallTime = wallTime
        }
    }

    public var url: String
    public var status: Status
    /// Why unreadable or partial, or a note on the frame.
    public var reason: String?
    public var fileSHA256: String?
    public var formatName: String?
    public var durationS: Double?
    public var clockSource: String?
    public var targetSeconds: Double?
    public var frame: Frame?
    public var keyframe: Frame?
    /// Drone positions passed on to the pipeline.
    public var trackPoints = 0
    public var untrustedSamples = 0

    public init(url: String, status: Status, reason: String? = nil) {
        self.url = url
        self.status = status
        self.reason = reason
    }
}

extension SQLiteStore {
    /// Videos the pipeline has recorded but nobody has analysed yet, oldest
    /// first, with inbox ids above `after`, leaving out those in `excluding`
    /// (under way). `after` lets a caller that polls skip the history it has
    /// seen, so that a poll costs a range seek, not a scan of every event.
    public func pendingVideoJobs(after: Int64 = 0, excluding: Set<Int64>, limit: Int) throws -> [VideoJob] {
        guard limit > 0 else { return [] }
        return try pool.read { db in
            let fetch = limit + excluding.count
            let clips = try Row.fetchAll(db, sql: """
                SELECT e.inbox_id, e.clip_url, e.clip_offset_s, e.ts, i.arrived_at FROM site_events e
                JOIN inbox i ON i.id = e.inbox_id
                LEFT JOIN video_analyses a ON a.inbox_id = e.inbox_id
                WHERE e.inbox_id > ? AND e.clip_url IS NOT NULL AND e.clip_url != '' AND a.inbox_id IS NULL
                ORDER BY e.inbox_id LIMIT ?
                """, arguments: [after, fetch]).map {
                VideoJob(inboxId: $0[0], url: $0[1], kind: .clip(offsetS: $0[2], eventTime: Instant(millis: $0[3])),
                         arrivedAt: Instant(millis: $0[4]))
            }
            let segments = try Row.fetchAll(db, sql: """
                SELECT s.inbox_id, s.url, s.source, s.start, i.arrived_at FROM video_segments s
                JOIN inbox i ON i.id = s.inbox_id
                LEFT JOIN video_analyses a ON a.inbox_id = s.inbox_id
                WHERE s.inbox_id > ? AND a.inbox_id IS NULL ORDER BY s.inbox_id LIMIT ?
                """, arguments: [after, fetch]).map {
                VideoJob(inboxId: $0[0], url: $0[1], kind: .segment(source: $0[2], start: Instant(millis: $0[3])),
                         arrivedAt: Instant(millis: $0[4]))
            }
            return Array((clips + segments).filter { !excluding.contains($0.inboxId) }
                .sorted { $0.inboxId < $1.inboxId }.prefix(limit))
        }
    }

    /// Writes what demuxing found and chains it to the cases that hold the
    /// message as evidence; returns the case ledger's head if it moved. A
    /// second result for the same message is ignored: the first stands.
    @discardableResult
    public func record(_ a: VideoAnalysisRecord, for inboxId: Int64) throws -> LedgerHead? {
        return try pool.write { db -> LedgerHead? in
            try db.execute(sql: """
                INSERT OR IGNORE INTO video_analyses (inbox_id, url, status, reason, file_sha256, format_name, duration_s,
                  clock_source, target_s, frame_pts, frame_s, frame_wall, keyframe_pts, keyframe_s, keyframe_wall,
                  track_points, untrusted_samples)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [inboxId, a.url, a.status.rawValue, a.reason, a.fileSHA256, a.formatName, a.durationS,
                                 a.clockSource, a.targetSeconds, a.frame?.pts, a.frame?.seconds, a.frame?.wallTime?.millis,
                                 a.keyframe?.pts, a.keyframe?.seconds, a.keyframe?.wallTime?.millis,
                                 a.trackPoints, a.untrustedSamples])
            guard db.changesCount > 0 else { return nil }
            var ledger = try CaseLedger.Writer(db)
            let before = ledger.last
            try ledger.appendClip(inboxId: inboxId, db)
            return ledger.last == before ? nil : ledger.last
        }
    }
}
