import Foundation
import GRDB
import MuckwatchCore

/// `muckwatch stats` (§7.4). Keys are part of the CLI's contract.
public struct StoreStats: Sendable, Codable, Equatable {
    public var messages: Int
    public var duplicates: Int
    public var records: [String: Int]
    public var deadLetters: [String: Int]
    /// Messages recognised and deliberately not made records, by what they were
    /// (`jt808_0x0002` heartbeats, `dji_dock_osd`, `jt808_no_fix`).
    public var ignored: [String: Int]
    public var alerts: [String: Int]
    public var cases: [String: Int]
    /// Inbox messages not yet through the pipeline.
    public var pending: Int
    /// Videos demuxed, by outcome (`ok`, `unreadable`).
    public var videos: [String: Int]
    /// Bytes on disk: the database file and its write-ahead log (which a
    /// long load grows and an idle daemon truncates; see `Checkpointer`).
    public var storeBytes: Int64 = 0
    public var walBytes: Int64 = 0
    /// Both files' bytes over the messages kept: what sizing a disk goes by
    /// (nil with no message).
    public var bytesPerMessage: Double?
    /// When the oldest message kept arrived (RFC 3339, UTC); nil with none.
    public var oldestMessageAt: String?

    enum CodingKeys: String, CodingKey {
        case messages, duplicates, records, deadLetters = "dead_letters", ignored, alerts, cases, pending, videos
        case storeBytes = "store_bytes", walBytes = "wal_bytes", bytesPerMessage = "bytes_per_message"
        case oldestMessageAt = "oldest_message_at"
    }
}

/// A case as the CLI shows it, times already rendered.
public struct CaseRecord: Sendable, Codable, Equatable {
    public struct Party: Sendable, Codable, Equatable {
        public var kind: String
        public var id: String
        public var plate: String?
        public var company: String?
        /// For a candidate: how near its track passed and when.
        public var distanceM: Double?
        public var passedAt: String?

        enum CodingKeys: String, CodingKey {
            case kind, id, plate, company, distanceM = "distance_m", passedAt = "passed_at"
        }
    }

    public struct Evidence: Sendable, Codable, Equatable {
        public var kind: String
        public var source: String
        public var ts: String
        public var sha256: String
        public var inboxId: Int64
        public var clipURL: String?
        public var frameOffsetS: Double?
        public var chainHash: String
        /// What demuxing the clip found, once it has been (see `video_analyses`).
        public var video: Video?

        enum CodingKeys: String, CodingKey {
            case kind, source, ts, sha256, inboxId = "inbox_id", clipURL = "clip_url"
            case frameOffsetS = "frame_offset_s", chainHash = "chain_hash", video
        }
    }

    /// The frame at the event's time and where a clip must be cut.
    public struct Video: Sendable, Codable, Equatable {
        public var status: String
        public var reason: String?
        public var fileSHA256: String?
        public var clockSource: String?
        public var framePts: Int64?
        public var frameTimeS: Double?
        public var frameWallTime: String?
        public var keyframePts: Int64?
        public var keyframeTimeS: Double?
        public var keyframeWallTime: String?

        enum CodingKeys: String, CodingKey {
            case status, reason, fileSHA256 = "file_sha256", clockSource = "clock_source", framePts = "frame_pts"
            case frameTimeS = "frame_time_s", frameWallTime = "frame_wall_time", keyframePts = "keyframe_pts"
            case keyframeTimeS = "keyframe_time_s", keyframeWallTime = "keyframe_wall_time"
        }
    }

    public struct StatusChange: Sendable, Codable, Equatable {
        public var status: String
        public var by: String
        /// The OS account that ran `muckwatch case` (nil for the daemon's own rows).
        public var osUser: String?
        public var at: String
        public var note: String?

        enum CodingKeys: String, CodingKey {
            case status, by, osUser = "os_user", at, note
        }
    }

    public var id: String
    public var status: String
    public var violation: String
    public var severity: String
    public var legalBasis: String?
    public var penalty: String?
    public var suspectedParty: Party
    public var candidates: [Party]
    public var lat: Double?
    public var lon: Double?
    public var firstSeen: String
    public var lastSeen: String
    public var createdAt: String
    public var verifyBy: String
    public var suggestedAction: String
    public var priorIncidents: Int
    public var summary: String
    public var evidenceCount: Int
    public var evidence: [Evidence]?
    public var history: [StatusChange]?

    enum CodingKeys: String, CodingKey {
        case id, status, violation, severity, legalBasis = "legal_basis", penalty, suspectedParty = "suspected_party"
        case candidates, lat, lon, firstSeen = "first_seen", lastSeen = "last_seen", createdAt = "created_at"
        case verifyBy = "verify_by", suggestedAction = "suggested_action", priorIncidents = "prior_incidents"
        case summary, evidenceCount = "evidence_count", evidence, history
    }
}

extension SQLiteStore {
    public func stats() throws -> StoreStats {
        try pool.read { db in
            func counts(_ sql: String) throws -> [String: Int] {
                var out: [String: Int] = [:]
                for row in try Row.fetchAll(db, sql: sql) { out[row[0]] = row[1] }
                return out
            }
            var records = try counts("""
                SELECT CASE source_kind WHEN 'camera' THEN 'camera_event' ELSE 'drone_event' END, COUNT(*)
                FROM site_events GROUP BY source_kind
                """)
            for (kind, table) in [("truck", "truck_telemetry"), ("fume", "fume_readings"), ("drone", "drone_telemetry"),
                                  ("video_segment", "video_segments")] {
                let n = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0
                if n > 0 { records[kind] = n }
            }
            let messages = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox") ?? 0
            let last = try Self.lastProcessed(db)
            let bytes = (store: Self.fileSize(path), wal: Self.fileSize(path + "-wal"))
            // The inbox's first row is its oldest: ids follow arrival.
            let oldest = try Int64.fetchOne(db, sql: "SELECT arrived_at FROM inbox ORDER BY id LIMIT 1")
            return StoreStats(
                messages: messages,
                duplicates: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM duplicates") ?? 0,
                records: records,
                deadLetters: try counts("SELECT reason, COUNT(*) FROM dead_letters GROUP BY reason"),
                ignored: try counts("SELECT what, COUNT(*) FROM ignored_messages GROUP BY what"),
                alerts: try counts("SELECT rule, COUNT(*) FROM alerts GROUP BY rule"),
                cases: try counts("SELECT status, COUNT(*) FROM cases GROUP BY status"),
                pending: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox WHERE id > ?", arguments: [last]) ?? 0,
                videos: try counts("SELECT status, COUNT(*) FROM video_analyses GROUP BY status"),
                storeBytes: bytes.store, walBytes: bytes.wal,
                bytesPerMessage: messages > 0 ? Double(bytes.store + bytes.wal) / Double(messages) : nil,
                oldestMessageAt: oldest.map { RFC3339.format(Instant(millis: $0), offsetSeconds: 0) })
        }
    }

    static func fileSize(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    /// Which cases `cases list` shows.
    public struct CaseFilter: Sendable {
        public var status: String?
        public var rule: String?
        /// Part of the suspected party's company (or restaurant) name; ASCII letters match either case.
        public var company: String?
        /// First seen at or after / before.
        public var from: Instant?
        public var until: Instant?

        public init(status: String? = nil, rule: String? = nil, company: String? = nil, from: Instant? = nil, until: Instant? = nil) {
            self.status = status
            self.rule = rule
            self.company = company
            self.from = from
            self.until = until
        }
    }

    /// Cases, newest first, without their evidence.
    public func cases(utcOffsetSeconds: Int, status: String? = nil) throws -> [CaseRecord] {
        try cases(utcOffsetSeconds: utcOffsetSeconds, filter: CaseFilter(status: status))
    }

    public func cases(utcOffsetSeconds: Int, filter f: CaseFilter) throws -> [CaseRecord] {
        try pool.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT c.*, (SELECT COUNT(*) FROM evidence e WHERE e.case_id = c.case_id) AS evidence_count
                FROM cases c
                WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR rule = ?2)
                  AND (?3 IS NULL OR instr(lower(company), lower(?3)) > 0)
                  AND (?4 IS NULL OR first_seen >= ?4) AND (?5 IS NULL OR first_seen < ?5)
                ORDER BY created_at DESC, case_id DESC
                """, arguments: [f.status, f.rule, f.company, f.from?.millis, f.until?.millis])
            return try rows.map { try Self.caseRecord($0, utcOffsetSeconds, db) }
        }
    }

    /// One case with its evidence and status history; nil if there is none.
    public func caseDetail(id: String, utcOffsetSeconds: Int) throws -> CaseRecord? {
        try pool.read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT c.*, (SELECT COUNT(*) FROM evidence e WHERE e.case_id = c.case_id) AS evidence_count
                FROM cases c WHERE case_id = ?
                """, arguments: [id]) else { return nil }
            var record = try Self.caseRecord(row, utcOffsetSeconds, db)
            let time = { (ms: Int64) in RFC3339.format(Instant(millis: ms), offsetSeconds: utcOffsetSeconds) }
            record.evidence = try Row.fetchAll(db, sql: """
                SELECT e.*, l.head AS chain_hash, v.status AS v_status, v.reason AS v_reason, v.file_sha256 AS v_sha, v.clock_source AS v_clock,
                  v.frame_pts AS v_fpts, v.frame_s AS v_fs, v.frame_wall AS v_fwall,
                  v.keyframe_pts AS v_kpts, v.keyframe_s AS v_ks, v.keyframe_wall AS v_kwall
                FROM evidence e LEFT JOIN video_analyses v ON v.inbox_id = e.inbox_id
                LEFT JOIN case_ledger l ON l.fact = 'evidence' AND l.ref = e.id
                WHERE e.case_id = ? ORDER BY e.id
                """, arguments: [id])
                .map { e in
                    let video: CaseRecord.Video? = (e["v_status"] as String?).map { status in
                        CaseRecord.Video(status: status, reason: e["v_reason"], fileSHA256: e["v_sha"], clockSource: e["v_clock"],
                                         framePts: e["v_fpts"], frameTimeS: e["v_fs"], frameWallTime: (e["v_fwall"] as Int64?).map(time),
                                         keyframePts: e["v_kpts"], keyframeTimeS: e["v_ks"],
                                         keyframeWallTime: (e["v_kwall"] as Int64?).map(time))
                    }
                    return CaseRecord.Evidence(kind: e["kind"], source: e["source"], ts: time(e["ts"]), sha256: e["sha256"],
                                               inboxId: e["inbox_id"], clipURL: e["clip_url"], frameOffsetS: e["frame_offset_s"],
                                               chainHash: e["chain_hash"], video: video)
                }
            record.history = try Row.fetchAll(db, sql: "SELECT * FROM case_status_history WHERE case_id = ? ORDER BY id",
                                              arguments: [id])
                .map { h in CaseRecord.StatusChange(status: h["status"], by: h["actor"], osUser: h["os_user"], at: time(h["at"]),
                                                        note: h["note"]) }
            return record
        }
    }

    private static func caseRecord(_ row: Row, _ offset: Int, _ db: Database) throws -> CaseRecord {
        let time = { (ms: Int64) in RFC3339.format(Instant(millis: ms), offsetSeconds: offset) }
        let candidates = try Row.fetchAll(db, sql: "SELECT * FROM case_candidates WHERE case_id = ? ORDER BY rank",
                                          arguments: [row["case_id"] as String])
            .map { k in
                CaseRecord.Party(kind: "truck", id: k["device"], plate: k["plate"], company: k["company"],
                                 distanceM: k["distance_m"], passedAt: time(k["passed_at"]))
            }
        return CaseRecord(
            id: row["case_id"], status: row["status"], violation: row["rule"], severity: row["severity"],
            legalBasis: row["legal_basis"], penalty: row["penalty"],
            suspectedParty: .init(kind: row["subject_kind"], id: row["subject_id"], plate: row["plate"], company: row["company"]),
            candidates: candidates, lat: row["lat"], lon: row["lon"],
            firstSeen: time(row["first_seen"]), lastSeen: time(row["last_seen"]), createdAt: time(row["created_at"]),
            verifyBy: time(row["verify_by"]), suggestedAction: row["suggested_action"],
            priorIncidents: row["prior_incidents"], summary: row["summary"], evidenceCount: row["evidence_count"],
            evidence: nil, history: nil)
    }
}

extension SQLiteStore {
    /// Messages kept and how many of them the pipeline has not processed yet:
    /// cheap enough to poll.
    public func progress() throws -> (messages: Int, pending: Int) {
        try pool.read { db in
            // Ids are never reused or skipped (AUTOINCREMENT; a redelivery is
            // looked up, not inserted), so the highest id is the count.
            let last = try Int.fetchOne(db, sql: "SELECT MAX(id) FROM inbox") ?? 0
            return (last, last - Int(try Self.lastProcessed(db)))
        }
    }
}
