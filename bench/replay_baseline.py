#!/usr/bin/env python3
"""The replay benchmark's peer: a straightforward Python replay of a feed.

Reads the feed with json, and for each line inserts the rows muckwatch's store
gets for it -- the inbox row (topic, payload, SHA-256, arrival, qos, retain),
then the decoded record (truck telemetry, fume reading, site event, drone
telemetry) or a dead letter -- into SQLite (WAL, synchronous=NORMAL, one
transaction per 4096 lines, the same tables and indexes). No rules, no
alerts, no cases: it is the floor of "json + sqlite3", not a second Muckwatch.

usage: replay_baseline.py FEED DB   (prints one line: messages, seconds, msg/s)
"""
import base64
import hashlib
import json
import sqlite3
import sys
import time
from datetime import datetime

SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL,
  payload BLOB NOT NULL, sha256 TEXT NOT NULL, arrived_at INTEGER NOT NULL, qos INTEGER NOT NULL,
  retain INTEGER NOT NULL, dedupe_key INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS truck_telemetry (inbox_id INTEGER PRIMARY KEY, device TEXT NOT NULL,
  ts INTEGER NOT NULL, plate TEXT, lat REAL NOT NULL, lon REAL NOT NULL, speed_kmh REAL,
  heading_deg REAL, cover TEXT NOT NULL, load TEXT NOT NULL, load_kg REAL, body TEXT NOT NULL, seq INTEGER);
CREATE INDEX IF NOT EXISTS truck_telemetry_device_ts ON truck_telemetry (device, ts);
CREATE TABLE IF NOT EXISTS fume_readings (inbox_id INTEGER PRIMARY KEY, monitor TEXT NOT NULL,
  ts INTEGER NOT NULL, conc_mg_m3 REAL NOT NULL, fan TEXT NOT NULL, purifier TEXT NOT NULL, flow_m3_h REAL);
CREATE INDEX IF NOT EXISTS fume_readings_monitor_ts ON fume_readings (monitor, ts);
CREATE TABLE IF NOT EXISTS site_events (inbox_id INTEGER PRIMARY KEY, source_kind TEXT NOT NULL,
  source TEXT NOT NULL, event_id TEXT, ts INTEGER NOT NULL, type TEXT NOT NULL, plate TEXT,
  confidence REAL, lat REAL, lon REAL, clip_url TEXT, clip_offset_s REAL);
CREATE TABLE IF NOT EXISTS drone_telemetry (inbox_id INTEGER PRIMARY KEY, drone TEXT NOT NULL,
  ts INTEGER NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL, alt_m REAL, heading_deg REAL);
CREATE TABLE IF NOT EXISTS dead_letters (id INTEGER PRIMARY KEY AUTOINCREMENT, inbox_id INTEGER NOT NULL,
  topic TEXT NOT NULL, payload BLOB NOT NULL, arrived_at INTEGER NOT NULL, reason TEXT NOT NULL);
"""


def millis(text):
    if isinstance(text, (int, float)):
        return int(text)
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def main():
    feed, db_path = sys.argv[1], sys.argv[2]
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(SCHEMA)
    count = 0
    start = time.monotonic()
    db.execute("BEGIN")
    with open(feed, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            m = json.loads(line)
            payload = m["payload"].encode() if "payload" in m else base64.b64decode(m["payload_b64"])
            digest = hashlib.sha256(payload).hexdigest()
            arrived = millis(m["t"])
            cur = db.execute(
                "INSERT INTO inbox (topic, payload, sha256, arrived_at, qos, retain, dedupe_key) VALUES (?,?,?,?,?,?,?)",
                (m["topic"], payload, digest, arrived, m.get("qos", 1), int(m.get("retain", False)),
                 int.from_bytes(bytes.fromhex(digest[:16]), "big", signed=True)))
            inbox_id = cur.lastrowid
            parts = m["topic"].split("/")
            try:
                p = json.loads(payload)
                kind = parts[2] + "/" + parts[4]
                ts = millis(p["ts"])
                device = p.get("device", parts[3])
                if kind == "truck/telemetry":
                    db.execute("INSERT INTO truck_telemetry VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                               (inbox_id, device, ts, p.get("plate"), float(p["lat"]), float(p["lon"]),
                                p.get("speed_kmh"), p.get("heading_deg"), p["cover"], p["load"],
                                p.get("load_kg"), p.get("body", "unknown"), p.get("seq")))
                elif kind == "fume/reading":
                    db.execute("INSERT INTO fume_readings VALUES (?,?,?,?,?,?,?)",
                               (inbox_id, device, ts, float(p["conc_mg_m3"]), p["fan"], p["purifier"],
                                p.get("flow_m3_h")))
                elif kind in ("camera/event", "drone/event"):
                    db.execute("INSERT INTO site_events VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                               (inbox_id, parts[2], device, p.get("event_id"), ts, p["type"], p.get("plate"),
                                p.get("confidence"), p.get("lat"), p.get("lon"), p.get("clip"), None))
                elif kind == "drone/telemetry":
                    db.execute("INSERT INTO drone_telemetry VALUES (?,?,?,?,?,?,?)",
                               (inbox_id, device, ts, float(p["lat"]), float(p["lon"]), p.get("alt_m"),
                                p.get("heading_deg")))
                else:
                    raise ValueError("unknown topic")
            except Exception as e:  # noqa: BLE001 -- every failure is a dead letter, as in muckwatch
                db.execute("INSERT INTO dead_letters (inbox_id, topic, payload, arrived_at, reason) VALUES (?,?,?,?,?)",
                           (inbox_id, m["topic"], payload, arrived, type(e).__name__))
            count += 1
            if count % 4096 == 0:
                db.execute("COMMIT")
                db.execute("BEGIN")
    db.execute("COMMIT")
    seconds = time.monotonic() - start
    print(f"{count} {seconds:.3f} {count / seconds:.0f}")


if __name__ == "__main__":
    main()
