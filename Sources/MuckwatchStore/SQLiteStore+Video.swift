import Foundation
import GRDB
import MuckwatchCore

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
                SELECT \(Self.inboxColumns("i")), e.clip_url, e.clip_offset_s, e.ts FROM site_events e
                JOIN inbox i ON i.id = e.inbox_id
                LEFT JOIN video_analyses a ON a.inbox_id = e.inbox_id
                WHERE e.inbox_id > ? AND e.clip_url IS NOT NULL AND e.clip_url != '' AND a.inbox_id IS NULL
                ORDER BY e.inbox_id LIMIT ?
                """, arguments: [after, fetch]).map {
                VideoJob(message: Self.inboxMessage($0), url: $0[5],
                         kind: .clip(offsetS: $0[6], eventTime: Instant(millis: $0[7])))
            }
            let segments = try Row.fetchAll(db, sql: """
                SELECT \(Self.inboxColumns("i")), s.url, s.source, s.start FROM video_segments s
                JOIN inbox i ON i.id = s.inbox_id
                LEFT JOIN video_analyses a ON a.inbox_id = s.inbox_id
                WHERE s.inbox_id > ? AND a.inbox_id IS NULL ORDER BY s.inbox_id LIMIT ?
                """, arguments: [after, fetch]).map {
                VideoJob(message: Self.inboxMessage($0), url: $0[5],
                         kind: .segment(source: $0[6], start: Instant(millis: $0[7])))
            }
            return Array((clips + segments).filter { !excluding.contains($0.inboxId) }
                .sorted { $0.inboxId < $1.inboxId }.prefix(limit))
        }
    }

    /// Writes what demuxing found, and the drone positions a segment held
    /// for the pipeline (`pendingSegmentTelemetry`), and chains the analysis
    /// to the cases that hold the message as evidence; returns the case
    /// ledger's head if it moved. A second result for the same message is
    /// ignored: the first stands.
    @discardableResult
    public func record(_ a: VideoResult, for job: VideoJob) throws -> LedgerHead? {
        return try pool.write { db -> LedgerHead? in
            try db.execute(sql: """
                INSERT OR IGNORE INTO video_analyses (inbox_id, url, status, reason, file_sha256, format_name, duration_s,
                  clock_source, target_s, frame_pts, frame_s, frame_wall, keyframe_pts, keyframe_s, keyframe_wall,
                  track_points, untrusted_samples)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [job.inboxId, a.url, a.status.rawValue, a.reason, a.fileSHA256, a.formatName, a.durationS,
                                 a.clockSource, a.targetSeconds, a.frame?.pts, a.frame?.seconds, a.frame?.wallTime?.millis,
                                 a.keyframe?.pts, a.keyframe?.seconds, a.keyframe?.wallTime?.millis,
                                 a.track.count, a.untrustedSamples])
            guard db.changesCount > 0 else { return nil }
            let insert = try db.cachedStatement(sql: """
                INSERT INTO segment_positions (segment_inbox_id, part, drone, ts, lat, lon, alt_m, heading_deg, origin)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for (part, p) in a.track.enumerated() {
                try insert.execute(arguments: [job.inboxId, part, p.drone, p.ts.millis, p.lat, p.lon, p.altM, p.headingDeg,
                                               p.origin ?? "video"])
            }
            var ledger = try CaseLedger.Writer(db)
            let before = ledger.last
            try ledger.appendClip(inboxId: job.inboxId, db)
            return ledger.last == before ? nil : ledger.last
        }
    }

    /// Drone positions from analysed segments that the pipeline has not
    /// processed yet, as their segment messages with the positions as
    /// records, in order (of at most `segments` segments, each whole, so
    /// that a position's record number is its place in the segment's track),
    /// and the last position's id, for `commit` to take off the list.
    public func pendingSegmentTelemetry(segments: Int) throws -> SegmentTelemetryBatch? {
        try pool.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT p.id, p.drone, p.ts, p.lat, p.lon, p.alt_m, p.heading_deg, p.origin, \(Self.inboxColumns("i"))
                FROM segment_positions p JOIN inbox i ON i.id = p.segment_inbox_id
                WHERE p.segment_inbox_id IN (
                  SELECT segment_inbox_id FROM segment_positions GROUP BY segment_inbox_id ORDER BY MIN(id) LIMIT ?)
                ORDER BY p.segment_inbox_id, p.part
                """, arguments: [segments])
            guard let last = rows.map({ $0[0] as Int64 }).max() else { return nil }
            var messages: [InboxMessage] = []
            for row in rows {
                let position = DroneTelemetry(drone: row[1], ts: Instant(millis: row[2]), lat: row[3], lon: row[4],
                                              altM: row[5], headingDeg: row[6], origin: row[7])
                if messages.last?.id != row[8] {
                    var message = Self.inboxMessage(row, from: 8)
                    message.arrival.decoded = Decoded(records: [])
                    messages.append(message)
                }
                messages[messages.count - 1].arrival.decoded!.records.append(.drone(position))
            }
            return SegmentTelemetryBatch(messages: messages, through: last)
        }
    }
}

/// Positions from analysed segments, for the pipeline: each segment's
/// message with its positions as decoded records.
public struct SegmentTelemetryBatch: Sendable {
    public var messages: [InboxMessage]
    /// The last position's id in `segment_positions`.
    public var through: Int64
}
