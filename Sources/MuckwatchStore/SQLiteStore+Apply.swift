import Foundation
import GRDB
import GRDBSQLite
import MuckwatchCore

extension SQLiteStore {
    static let actor = "muckwatchd"

    /// Writes a batch's outcome; returns the stored alerts.
    static func apply(_ o: BatchOutcome, clock: Instant?, _ db: Database) throws -> (alerts: [StoredAlert], head: LedgerHead?) {
        for d in o.decoded { try insert(d, db) }
        try insertTrackChunks(o.trackChunks, db)
        for (m, failure) in o.deadLetters {
            try db.cachedStatement(sql: """
                INSERT INTO dead_letters (inbox_id, topic, payload, arrived_at, reason, detail) VALUES (?, ?, ?, ?, ?, ?)
                """).execute(arguments: [m.id, m.topic, Data(m.payload), m.arrivedAt.millis, failure.reason.rawValue, failure.detail])
        }
        for (m, what) in o.ignored {
            try db.cachedStatement(sql: "INSERT INTO ignored_messages (inbox_id, what) VALUES (?, ?)")
                .execute(arguments: [m.id, what])
        }
        for m in o.duplicateEvents {
            try db.execute(sql: """
                INSERT INTO duplicates (kind, topic, sha256, inbox_id, arrived_at) VALUES ('event_id', ?, ?, ?, ?)
                """, arguments: [m.topic, m.sha256, m.id, m.arrivedAt.millis])
        }
        var ledger = try CaseLedger.Writer(db)
        // The ledger's head once each case's facts of this batch are written,
        // for its alert line.
        var headAfter: [String: LedgerHead] = [:]
        for c in o.openedCases {
            try db.execute(sql: """
                INSERT INTO cases (case_id, rule, severity, status, legal_basis, penalty, subject_kind, subject_id, plate, company,
                  lat, lon, first_seen, last_seen, created_at, verify_by, suggested_action, prior_incidents, summary)
                VALUES (?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [c.id, c.rule, c.severity.rawValue, c.legalBasis, c.penalty, c.subject.kind, c.subject.id,
                                 c.subject.plate, c.subject.company, c.lat, c.lon, c.firstSeen.millis, c.lastSeen.millis,
                                 c.createdAt.millis, c.verifyBy.millis, c.suggestedAction.rawValue, c.priorIncidents, c.summary])
            try ledger.append(.opened, caseId: c.id, ref: db.lastInsertedRowID, db)
            for (rank, k) in c.candidates.enumerated() {
                try db.execute(sql: """
                    INSERT INTO case_candidates (case_id, rank, device, plate, company, distance_m, passed_at, lat, lon)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [c.id, rank + 1, k.device, k.plate, k.company, k.distanceM, k.passedAt.millis,
                                     k.point.lat, k.point.lon])
                try ledger.append(.candidate, caseId: c.id, ref: db.lastInsertedRowID, db)
            }
            try db.execute(sql: """
                INSERT INTO case_status_history (case_id, status, actor, at, note) VALUES (?, 'draft', ?, ?, 'opened by rule ' || ?)
                """, arguments: [c.id, actor, c.createdAt.millis, c.rule])
            headAfter[c.id] = try ledger.append(.status, caseId: c.id, ref: db.lastInsertedRowID, db)
        }
        for e in o.evidence {
            let r = e.evidence
            try db.cachedStatement(sql: """
                INSERT INTO evidence (case_id, kind, source, ts, sha256, inbox_id, clip_url, frame_offset_s, last_seen)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [e.caseId, r.kind, r.source, r.ts.millis, r.sha256, r.inboxId,
                                         r.clipURL, r.frameOffsetS, e.lastSeen.millis])
            try ledger.append(.evidence, caseId: e.caseId, ref: db.lastInsertedRowID, db)
            try db.cachedStatement(sql: "UPDATE cases SET last_seen = max(last_seen, ?) WHERE case_id = ?")
                .execute(arguments: [e.lastSeen.millis, e.caseId])
            // A clip demuxed before the case took it as evidence (only an
            // event with a clip has an analysis to chain).
            if r.clipURL != nil { try ledger.appendClip(inboxId: r.inboxId, db) }
            headAfter[e.caseId] = ledger.last
        }
        var stored: [StoredAlert] = []
        for var a in o.alerts {
            a.chain = headAfter[a.caseId]?.head
            let line = a.jsonLine
            try db.execute(sql: "INSERT INTO alerts (alert_id, case_id, rule, severity, ts, line) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [a.alertId, a.caseId, a.rule, a.severity.rawValue, a.ts, line])
            stored.append(StoredAlert(alertId: a.alertId, line: line))
        }
        if let last = o.lastInboxId {
            try setState("last_inbox_id", last, db)
        }
        if let through = o.segmentPositionsThrough {
            try db.execute(sql: "DELETE FROM segment_positions WHERE id <= ?", arguments: [through])
        }
        if let clock { try setState("clock_ms", clock.millis, db) }
        if let snapshot = o.snapshot {
            let position = try o.lastInboxId ?? lastProcessed(db)
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO pipeline_snapshot (id, inbox_id, state) VALUES (1, ?, ?)")
                .execute(arguments: [position, Data(snapshot)])
        }
        if let resume = o.trackResumeInboxId { try setState("track_resume_inbox_id", resume, db) }
        let appended = headAfter.isEmpty ? nil : ledger.last
        return (stored, appended)
    }

    private static func setState(_ key: String, _ value: Int64, _ db: Database) throws {
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO pipeline_state (key, value) VALUES (?, ?)")
            .execute(arguments: [key, value])
    }

    private static func insert(_ d: DecodedMessage, _ db: Database) throws {
        let id = d.message.id
        switch d.record {
        case .truck(let t):
            // The bulk of every store: bound directly (see `run`).
            try run(db.cachedStatement(sql: """
                INSERT OR IGNORE INTO truck_telemetry (inbox_id, part, device, ts, plate, lat, lon, speed_kmh, heading_deg,
                  cover, load, load_kg, body, seq, late, marks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """), db) { stmt in
                bind(stmt, 1, id)
                bind(stmt, 2, Int64(d.part))
                bind(stmt, 3, t.device)
                bind(stmt, 4, t.ts.millis)
                bind(stmt, 5, t.plate)
                bind(stmt, 6, t.lat)
                bind(stmt, 7, t.lon)
                bind(stmt, 8, t.speedKmh)
                bind(stmt, 9, t.headingDeg)
                bind(stmt, 10, t.cover.rawValue)
                bind(stmt, 11, t.load.rawValue)
                bind(stmt, 12, t.loadKg)
                bind(stmt, 13, t.body.rawValue)
                bind(stmt, 14, t.seq)
                bind(stmt, 15, Int64(t.late ? 1 : 0))
                bind(stmt, 16, t.marks)
            }
        case .fume(let f):
            try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO fume_readings (inbox_id, part, monitor, ts, conc_mg_m3, fan, purifier, flow_m3_h,
                  data_flag, marks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [id, d.part, f.monitor, f.ts.millis, f.concMgM3, f.fan.rawValue, f.purifier.rawValue,
                                         f.flowM3H, f.dataFlag, f.marks])
        case .event(let e):
            try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO site_events (inbox_id, source_kind, source, event_id, ts, type, plate, confidence,
                  lat, lon, clip_url, clip_offset_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [id, e.sourceKind.rawValue, e.source, e.eventId, e.ts.millis, e.type.rawValue,
                                         e.plate, e.confidence, e.lat, e.lon, e.clipURL, e.clipOffsetS])
        case .drone(let r):
            try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO drone_telemetry (inbox_id, part, drone, ts, lat, lon, alt_m, heading_deg, origin,
                  segment_inbox_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [id, d.part, r.drone, r.ts.millis, r.lat, r.lon, r.altM, r.headingDeg, r.origin,
                                         r.origin == nil ? nil : id])
        case .segment(let v):
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO video_segments (inbox_id, source, url, start) VALUES (?, ?, ?, ?)")
                .execute(arguments: [id, v.source, v.url, v.start.millis])
        }
    }

    /// Alerts committed but not yet written to the alert log (a crash between
    /// the two), oldest first.
    public func unloggedAlerts() throws -> [StoredAlert] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT alert_id, line FROM alerts WHERE logged = 0 ORDER BY rowid")
                .map { StoredAlert(alertId: $0[0], line: $0[1]) }
        }
    }

    public func markLogged(_ alerts: [StoredAlert]) throws {
        guard !alerts.isEmpty else { return }
        try pool.write { db in
            for a in alerts {
                try db.cachedStatement(sql: "UPDATE alerts SET logged = 1 WHERE alert_id = ?").execute(arguments: [a.alertId])
            }
        }
    }
}
