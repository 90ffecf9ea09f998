import GRDB

extension SQLiteStore {
    /// Migrations run in order at every open; each runs once per file.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            // Whole-process record (§7.3): every message as received, kept as-is.
            try db.execute(sql: """
                CREATE TABLE inbox (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  topic TEXT NOT NULL,
                  payload BLOB NOT NULL,
                  sha256 TEXT NOT NULL,
                  arrived_at INTEGER NOT NULL,
                  qos INTEGER NOT NULL,
                  retain INTEGER NOT NULL,
                  UNIQUE (topic, sha256)
                );
                CREATE TABLE duplicates (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  kind TEXT NOT NULL,              -- 'redelivery' | 'event_id'
                  topic TEXT NOT NULL,
                  sha256 TEXT NOT NULL,
                  inbox_id INTEGER NOT NULL,
                  arrived_at INTEGER NOT NULL
                );
                CREATE TABLE pipeline_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);

                CREATE TABLE truck_telemetry (
                  inbox_id INTEGER PRIMARY KEY REFERENCES inbox(id),
                  device TEXT NOT NULL, ts INTEGER NOT NULL, plate TEXT,
                  lat REAL NOT NULL, lon REAL NOT NULL, speed_kmh REAL, heading_deg REAL,
                  cover TEXT NOT NULL, load TEXT NOT NULL, load_kg REAL, body TEXT NOT NULL, seq INTEGER
                );
                CREATE INDEX truck_telemetry_device_ts ON truck_telemetry (device, ts);
                CREATE TABLE fume_readings (
                  inbox_id INTEGER PRIMARY KEY REFERENCES inbox(id),
                  monitor TEXT NOT NULL, ts INTEGER NOT NULL, conc_mg_m3 REAL NOT NULL,
                  fan TEXT NOT NULL, purifier TEXT NOT NULL, flow_m3_h REAL
                );
                CREATE INDEX fume_readings_monitor_ts ON fume_readings (monitor, ts);
                CREATE TABLE site_events (
                  inbox_id INTEGER PRIMARY KEY REFERENCES inbox(id),
                  source_kind TEXT NOT NULL, source TEXT NOT NULL, event_id TEXT,
                  ts INTEGER NOT NULL, type TEXT NOT NULL, plate TEXT, confidence REAL,
                  lat REAL, lon REAL, clip_url TEXT, clip_offset_s REAL,
                  UNIQUE (source_kind, source, event_id)
                );
                CREATE TABLE drone_telemetry (
                  inbox_id INTEGER PRIMARY KEY REFERENCES inbox(id),
                  drone TEXT NOT NULL, ts INTEGER NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL,
                  alt_m REAL, heading_deg REAL
                );
                CREATE TABLE dead_letters (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  inbox_id INTEGER NOT NULL UNIQUE REFERENCES inbox(id),
                  topic TEXT NOT NULL,
                  payload BLOB NOT NULL,
                  arrived_at INTEGER NOT NULL,
                  reason TEXT NOT NULL,
                  detail TEXT NOT NULL
                );

                CREATE TABLE cases (
                  case_id TEXT PRIMARY KEY,
                  rule TEXT NOT NULL, severity TEXT NOT NULL, status TEXT NOT NULL,
                  legal_basis TEXT,
                  subject_kind TEXT NOT NULL, subject_id TEXT NOT NULL, plate TEXT, company TEXT,
                  lat REAL, lon REAL,
                  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
                  created_at INTEGER NOT NULL, verify_by INTEGER NOT NULL,
                  suggested_action TEXT NOT NULL, prior_incidents INTEGER NOT NULL,
                  summary TEXT NOT NULL
                );
                CREATE INDEX cases_subject ON cases (subject_kind, subject_id, rule);
                CREATE TABLE case_status_history (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  case_id TEXT NOT NULL REFERENCES cases(case_id),
                  status TEXT NOT NULL, actor TEXT NOT NULL, at INTEGER NOT NULL, note TEXT
                );
                -- Evidence rows form a hash chain: each chain_hash covers the row
                -- and the previous row's chain_hash.
                CREATE TABLE evidence (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  case_id TEXT NOT NULL REFERENCES cases(case_id),
                  kind TEXT NOT NULL, source TEXT NOT NULL, ts INTEGER NOT NULL,
                  sha256 TEXT NOT NULL, inbox_id INTEGER NOT NULL REFERENCES inbox(id),
                  clip_url TEXT, frame_offset_s REAL,
                  prev_hash TEXT NOT NULL, chain_hash TEXT NOT NULL
                );
                CREATE INDEX evidence_case ON evidence (case_id);
                CREATE TABLE alerts (
                  alert_id TEXT PRIMARY KEY,
                  case_id TEXT NOT NULL REFERENCES cases(case_id),
                  rule TEXT NOT NULL, severity TEXT NOT NULL, ts TEXT NOT NULL,
                  line TEXT NOT NULL,
                  logged INTEGER NOT NULL DEFAULT 0
                );
                """)
        }
        m.registerMigration("v2: inbox dedupe key") { db in
            // UNIQUE(topic, sha256) put ~100 random bytes per message into a
            // B-tree: a burst of 1000 messages dirtied ~1000 index pages (4 MB
            // of WAL). An 8-byte key indexes the same redelivery check in a
            // tenth of the pages; topic and sha256 are still compared.
            try db.execute(sql: """
                CREATE TABLE inbox_v2 (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  topic TEXT NOT NULL,
                  payload BLOB NOT NULL,
                  sha256 TEXT NOT NULL,
                  arrived_at INTEGER NOT NULL,
                  qos INTEGER NOT NULL,
                  retain INTEGER NOT NULL,
                  dedupe_key INTEGER NOT NULL   -- the first 8 bytes of sha256, signed
                );
                INSERT INTO inbox_v2 (id, topic, payload, sha256, arrived_at, qos, retain, dedupe_key)
                  SELECT id, topic, payload, sha256, arrived_at, qos, retain, 0 FROM inbox;
                DROP TABLE inbox;
                ALTER TABLE inbox_v2 RENAME TO inbox;
                """)
            let update = try db.makeStatement(sql: "UPDATE inbox SET dedupe_key = ? WHERE id = ?")
            for row in try Row.fetchAll(db, sql: "SELECT id, sha256 FROM inbox") {
                try update.execute(arguments: [SQLiteStore.dedupeKey(sha256Hex: row[1]), row[0] as Int64])
            }
            try db.execute(sql: "CREATE INDEX inbox_dedupe ON inbox (dedupe_key)")
        }
        m.registerMigration("v3: redelivery window in memory") { db in
            // See RecentArrivals: the index's random inserts made ingest slow
            // down as the store grew. The key column stays; the window is
            // loaded from it.
            try db.execute(sql: "DROP INDEX inbox_dedupe")
        }
        m.registerMigration("v4: video") { db in
            try db.execute(sql: """
                -- §4.5 announcements: a recorded segment or stream to demux.
                CREATE TABLE video_segments (
                  inbox_id INTEGER PRIMARY KEY REFERENCES inbox(id),
                  source TEXT NOT NULL, url TEXT NOT NULL, start INTEGER NOT NULL
                );
                -- What demuxing a clip (of a camera/drone event) or a segment
                -- found, one row per message; a row never changes once written.
                CREATE TABLE video_analyses (
                  inbox_id INTEGER PRIMARY KEY REFERENCES inbox(id),
                  url TEXT NOT NULL,
                  status TEXT NOT NULL,            -- 'ok' | 'partial' | 'unreadable'
                  reason TEXT,                     -- why unreadable, or why no frame could be placed
                  file_sha256 TEXT,
                  format_name TEXT, duration_s REAL, clock_source TEXT,
                  target_s REAL,
                  frame_pts INTEGER, frame_s REAL, frame_wall INTEGER,
                  keyframe_pts INTEGER, keyframe_s REAL, keyframe_wall INTEGER,
                  track_points INTEGER NOT NULL DEFAULT 0,   -- drone positions passed on to the pipeline
                  untrusted_samples INTEGER NOT NULL DEFAULT 0
                );
                """)
        }
        m.registerMigration("v5: track index") { db in
            // Attribution (§6): trucks whose tracks passed near a place and
            // time. One row per chunk of a truck's consecutive fixes (see
            // `TrackChunk`), boxed in space and time. Integer coordinates:
            // microdegrees, and seconds since `trackEpoch` (2020-01-01 UTC),
            // each box rounded outward.
            try db.execute(sql: """
                CREATE VIRTUAL TABLE track_chunks USING rtree_i32(
                  id, min_lat, max_lat, min_lon, max_lon, min_t, max_t,
                  +device TEXT, +fixes BLOB
                );
                """)
        }
        m.registerMigration("v6: case procedure") { db in
            try db.execute(sql: """
                ALTER TABLE cases ADD COLUMN penalty TEXT;
                -- The other trucks attribution found, nearest first; the
                -- suspected party is in cases itself.
                CREATE TABLE case_candidates (
                  case_id TEXT NOT NULL REFERENCES cases(case_id),
                  rank INTEGER NOT NULL,
                  device TEXT NOT NULL, plate TEXT, company TEXT,
                  distance_m REAL NOT NULL, passed_at INTEGER NOT NULL,
                  lat REAL NOT NULL, lon REAL NOT NULL,
                  PRIMARY KEY (case_id, rank)
                );
                -- Whole-process record (§1, §7.3): what was written stays written.
                CREATE TRIGGER case_status_history_no_update BEFORE UPDATE ON case_status_history
                  BEGIN SELECT RAISE(ABORT, 'case history is append-only'); END;
                CREATE TRIGGER case_status_history_no_delete BEFORE DELETE ON case_status_history
                  BEGIN SELECT RAISE(ABORT, 'case history is append-only'); END;
                CREATE TRIGGER evidence_no_update BEFORE UPDATE ON evidence
                  BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;
                CREATE TRIGGER evidence_no_delete BEFORE DELETE ON evidence
                  BEGIN SELECT RAISE(ABORT, 'evidence is append-only'); END;
                CREATE TRIGGER case_candidates_no_update BEFORE UPDATE ON case_candidates
                  BEGIN SELECT RAISE(ABORT, 'case candidates are append-only'); END;
                CREATE TRIGGER case_candidates_no_delete BEFORE DELETE ON case_candidates
                  BEGIN SELECT RAISE(ABORT, 'case candidates are append-only'); END;
                CREATE TRIGGER cases_no_delete BEFORE DELETE ON cases
                  BEGIN SELECT RAISE(ABORT, 'cases are never deleted'); END;
                -- Status moves forward only: draft → registered → dismissed, or
                -- draft → dismissed. A dismissed case stays dismissed.
                CREATE TRIGGER cases_status_forward BEFORE UPDATE OF status ON cases
                  WHEN NOT ((OLD.status = 'draft' AND NEW.status IN ('registered', 'dismissed'))
                         OR (OLD.status = 'registered' AND NEW.status = 'dismissed'))
                  BEGIN SELECT RAISE(ABORT, 'a case status moves forward only'); END;
                """)
        }
        m.registerMigration("v7: several records per message") { db in
            // A JT/T 808 payload may carry several frames, and a 0x0704 batch
            // many points: records are keyed by message and part. WITHOUT
            // ROWID keeps that key the table's own B-tree, as inbox_id was.
            try db.execute(sql: """
                CREATE TABLE truck_telemetry_v7 (
                  inbox_id INTEGER NOT NULL REFERENCES inbox(id),
                  part INTEGER NOT NULL,
                  device TEXT NOT NULL, ts INTEGER NOT NULL, plate TEXT,
                  lat REAL NOT NULL, lon REAL NOT NULL, speed_kmh REAL, heading_deg REAL,
                  cover TEXT NOT NULL, load TEXT NOT NULL, load_kg REAL, body TEXT NOT NULL, seq INTEGER,
                  late INTEGER NOT NULL DEFAULT 0,   -- a buffered point sent late (JT/T 808 0x0704 blind area)
                  marks TEXT,                        -- e.g. 'bad_checksum', kept for a lenient device
                  PRIMARY KEY (inbox_id, part)
                ) WITHOUT ROWID;
                INSERT INTO truck_telemetry_v7 (inbox_id, part, device, ts, plate, lat, lon, speed_kmh, heading_deg,
                  cover, load, load_kg, body, seq)
                  SELECT inbox_id, 0, device, ts, plate, lat, lon, speed_kmh, heading_deg, cover, load, load_kg, body, seq
                  FROM truck_telemetry;
                DROP TABLE truck_telemetry;
                ALTER TABLE truck_telemetry_v7 RENAME TO truck_telemetry;
                CREATE INDEX truck_telemetry_device_ts ON truck_telemetry (device, ts);

                CREATE TABLE fume_readings_v7 (
                  inbox_id INTEGER NOT NULL REFERENCES inbox(id),
                  part INTEGER NOT NULL,
                  monitor TEXT NOT NULL, ts INTEGER NOT NULL, conc_mg_m3 REAL NOT NULL,
                  fan TEXT NOT NULL, purifier TEXT NOT NULL, flow_m3_h REAL,
                  data_flag TEXT,                    -- HJ 212 data flag of the concentration (N, F, M, S, D, C, T, B)
                  marks TEXT,                        -- e.g. 'bad_crc', kept for a lenient device
                  PRIMARY KEY (inbox_id, part)
                ) WITHOUT ROWID;
                INSERT INTO fume_readings_v7 (inbox_id, part, monitor, ts, conc_mg_m3, fan, purifier, flow_m3_h)
                  SELECT inbox_id, 0, monitor, ts, conc_mg_m3, fan, purifier, flow_m3_h FROM fume_readings;
                DROP TABLE fume_readings;
                ALTER TABLE fume_readings_v7 RENAME TO fume_readings;
                CREATE INDEX fume_readings_monitor_ts ON fume_readings (monitor, ts);

                -- Messages (or parts) recognised and deliberately not made
                -- records: heartbeats, dock OSD, points without a fix. The
                -- raw bytes stay in the inbox.
                CREATE TABLE ignored_messages (
                  inbox_id INTEGER NOT NULL REFERENCES inbox(id),
                  what TEXT NOT NULL
                );
                CREATE INDEX ignored_messages_what ON ignored_messages (what);
                """)
        }
        m.registerMigration("v8: case ledger") { db in
            // One hash chain over every fact a case records (see
            // `CaseLedger`), instead of a chain over evidence rows alone.
            try db.execute(sql: """
                CREATE TABLE case_ledger (
                  seq INTEGER PRIMARY KEY,         -- 1, 2, 3, ... in the order facts were written
                  case_id TEXT NOT NULL,
                  fact TEXT NOT NULL,              -- 'opened' | 'candidate' | 'status' | 'evidence' | 'clip'
                  ref INTEGER NOT NULL,            -- the fact's row: its rowid (video_analyses: inbox_id)
                  fact_sha256 TEXT NOT NULL,       -- SHA-256 of the row's canonical text
                  head TEXT NOT NULL               -- SHA-256 of the previous head and fact_sha256
                );
                CREATE INDEX case_ledger_case ON case_ledger (case_id);
                CREATE INDEX case_ledger_fact ON case_ledger (fact, ref);
                CREATE TRIGGER case_ledger_no_update BEFORE UPDATE ON case_ledger
                  BEGIN SELECT RAISE(ABORT, 'the case ledger is append-only'); END;
                CREATE TRIGGER case_ledger_no_delete BEFORE DELETE ON case_ledger
                  BEGIN SELECT RAISE(ABORT, 'the case ledger is append-only'); END;

                -- Who ran `muckwatch case` (the OS user), beside the free-text --by.
                ALTER TABLE case_status_history ADD COLUMN os_user TEXT;
                -- The case's last_seen this evidence moved it to, so that the
                -- one fact of a case row that changes is covered by the chain.
                ALTER TABLE evidence ADD COLUMN last_seen INTEGER;
                ALTER TABLE evidence DROP COLUMN prev_hash;
                ALTER TABLE evidence DROP COLUMN chain_hash;

                -- A case's facts never change once written: only its status
                -- moves forward (cases_status_forward) and last_seen grows as
                -- evidence is added.
                CREATE TRIGGER cases_facts_fixed BEFORE UPDATE ON cases
                  WHEN NEW.rowid IS NOT OLD.rowid OR NEW.case_id IS NOT OLD.case_id OR NEW.rule IS NOT OLD.rule
                    OR NEW.severity IS NOT OLD.severity OR NEW.legal_basis IS NOT OLD.legal_basis
                    OR NEW.penalty IS NOT OLD.penalty OR NEW.subject_kind IS NOT OLD.subject_kind
                    OR NEW.subject_id IS NOT OLD.subject_id OR NEW.plate IS NOT OLD.plate
                    OR NEW.company IS NOT OLD.company OR NEW.lat IS NOT OLD.lat OR NEW.lon IS NOT OLD.lon
                    OR NEW.first_seen IS NOT OLD.first_seen OR NEW.created_at IS NOT OLD.created_at
                    OR NEW.verify_by IS NOT OLD.verify_by OR NEW.suggested_action IS NOT OLD.suggested_action
                    OR NEW.prior_incidents IS NOT OLD.prior_incidents OR NEW.summary IS NOT OLD.summary
                    OR NEW.last_seen < OLD.last_seen
                  BEGIN SELECT RAISE(ABORT, 'a case''s facts are never changed; only its status moves forward'); END;
                CREATE TRIGGER video_analyses_no_update BEFORE UPDATE ON video_analyses
                  BEGIN SELECT RAISE(ABORT, 'video analyses are append-only'); END;
                CREATE TRIGGER video_analyses_no_delete BEFORE DELETE ON video_analyses
                  BEGIN SELECT RAISE(ABORT, 'video analyses are append-only'); END;
                -- An alert is written once; only "logged" goes from 0 to 1.
                CREATE TRIGGER alerts_fixed BEFORE UPDATE ON alerts
                  WHEN NEW.rowid IS NOT OLD.rowid OR NEW.alert_id IS NOT OLD.alert_id OR NEW.case_id IS NOT OLD.case_id
                    OR NEW.rule IS NOT OLD.rule OR NEW.severity IS NOT OLD.severity OR NEW.ts IS NOT OLD.ts
                    OR NEW.line IS NOT OLD.line OR NEW.logged < OLD.logged
                  BEGIN SELECT RAISE(ABORT, 'alerts are append-only'); END;
                CREATE TRIGGER alerts_no_delete BEFORE DELETE ON alerts
                  BEGIN SELECT RAISE(ABORT, 'alerts are append-only'); END;
                -- The whole-process record: a message is kept as it came.
                CREATE TRIGGER inbox_no_update BEFORE UPDATE ON inbox
                  BEGIN SELECT RAISE(ABORT, 'the inbox keeps messages as they came'); END;
                CREATE TRIGGER dead_letters_no_update BEFORE UPDATE ON dead_letters
                  BEGIN SELECT RAISE(ABORT, 'dead letters keep messages as they came'); END;
                """)
            // What a store already held is chained as it is now, case by case.
            try CaseLedger.chainExisting(db)
        }
        m.registerMigration("v9: segment telemetry as values") { db in
            // A segment's drone positions come from the video workers as
            // values, with where they came from, instead of as JSON messages
            // under a made-up topic: several per segment message (`part`).
            try db.execute(sql: """
                CREATE TABLE drone_telemetry_v9 (
                  inbox_id INTEGER NOT NULL REFERENCES inbox(id),
                  part INTEGER NOT NULL DEFAULT 0,
                  drone TEXT NOT NULL, ts INTEGER NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL,
                  alt_m REAL, heading_deg REAL,
                  origin TEXT,                 -- a segment's telemetry (misb_st0601, dji_srt, ...); NULL: the drone's report
                  segment_inbox_id INTEGER REFERENCES inbox(id),   -- the segment it was read from
                  PRIMARY KEY (inbox_id, part)
                );
                -- Positions stored by earlier versions named their origin and segment in their payload.
                INSERT INTO drone_telemetry_v9 (inbox_id, part, drone, ts, lat, lon, alt_m, heading_deg, origin, segment_inbox_id)
                  SELECT d.inbox_id, 0, d.drone, d.ts, d.lat, d.lon, d.alt_m, d.heading_deg,
                    CASE WHEN json_valid(i.payload) THEN json_extract(i.payload, '$.origin') END,
                    CASE WHEN json_valid(i.payload) THEN json_extract(i.payload, '$.segment_inbox_id') END
                  FROM drone_telemetry d JOIN inbox i ON i.id = d.inbox_id;
                DROP TABLE drone_telemetry;
                ALTER TABLE drone_telemetry_v9 RENAME TO drone_telemetry;
                -- Positions a segment's analysis found, until the pipeline has processed them.
                CREATE TABLE segment_positions (
                  id INTEGER PRIMARY KEY,
                  segment_inbox_id INTEGER NOT NULL REFERENCES inbox(id),
                  part INTEGER NOT NULL,
                  drone TEXT NOT NULL, ts INTEGER NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL,
                  alt_m REAL, heading_deg REAL, origin TEXT NOT NULL
                );
                """)
        }
        m.registerMigration("v10: pipeline state snapshot") { db in
            // Every rule's in-progress state, committed with the position it
            // belongs to; a start takes it up and catches up from there.
            try db.execute(sql: """
                CREATE TABLE pipeline_snapshot (
                  id INTEGER PRIMARY KEY CHECK (id = 1),
                  inbox_id INTEGER NOT NULL,   -- the last message the state includes
                  state BLOB NOT NULL
                );
                """)
        }
        return m
    }

    /// The inbox's redelivery key: the first 8 bytes of the payload's
    /// SHA-256 as a signed integer.
    static func dedupeKey(sha256Hex: String) -> Int64 {
        Int64(bitPattern: UInt64(sha256Hex.prefix(16), radix: 16) ?? 0)
    }
}
