/* The replay benchmark's floor: what SQLite alone costs for the rows a replay
 * of truck telemetry writes, with no parsing, hashing or rules at all. For N
 * messages it inserts, as muckwatch's store does, one inbox row (topic, a
 * payload blob of the feed's average size, a SHA-256 hex text, arrival, qos,
 * retain, dedupe key) and one truck_telemetry row (with the (device, ts)
 * index) each, from prepared statements with static binds, in transactions of
 * 16 384 messages, WAL, synchronous=NORMAL, a 64 MB page cache.
 *
 * usage: store_floor DB MESSAGES DEVICES PAYLOAD_BYTES   (prints: messages seconds msg/s)
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void must(int rc, sqlite3 *db, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "store_floor: %s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: store_floor DB MESSAGES DEVICES PAYLOAD_BYTES\n");
        return 2;
    }
    const char *path = argv[1];
    long n = atol(argv[2]), devices = atol(argv[3]), size = atol(argv[4]);
    if (n <= 0 || devices <= 0 || size <= 0 || size > 65536) {
        fprintf(stderr, "store_floor: MESSAGES, DEVICES and PAYLOAD_BYTES must be positive\n");
        return 2;
    }
    sqlite3 *db;
    must(sqlite3_open(path, &db), db, "open");
    must(sqlite3_exec(db,
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;"
        "CREATE TABLE inbox (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, payload BLOB NOT NULL,"
        " sha256 TEXT NOT NULL, arrived_at INTEGER NOT NULL, qos INTEGER NOT NULL, retain INTEGER NOT NULL,"
        " dedupe_key INTEGER NOT NULL);"
        "CREATE TABLE truck_telemetry (inbox_id INTEGER PRIMARY KEY REFERENCES inbox(id), device TEXT NOT NULL,"
        " ts INTEGER NOT NULL, plate TEXT, lat REAL NOT NULL, lon REAL NOT NULL, speed_kmh REAL, heading_deg REAL,"
        " cover TEXT NOT NULL, load TEXT NOT NULL, load_kg REAL, body TEXT NOT NULL, seq INTEGER);"
        "CREATE INDEX truck_telemetry_device_ts ON truck_telemetry (device, ts);", 0, 0, 0), db, "schema");
    sqlite3_stmt *inbox, *truck;
    must(sqlite3_prepare_v2(db, "INSERT INTO inbox (topic, payload, sha256, arrived_at, qos, retain, dedupe_key)"
                                " VALUES (?, ?, ?, ?, ?, ?, ?)", -1, &inbox, 0), db, "prepare inbox");
    must(sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO truck_telemetry (inbox_id, device, ts, plate, lat, lon,"
                                " speed_kmh, heading_deg, cover, load, load_kg, body, seq)"
                                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &truck, 0), db, "prepare truck");
    char *payload = malloc(size);
    memset(payload, 'x', size);
    const char *hash = "5a8a1e3ec4eed650e8ad4ee71ca19ce12914aad16b17c7463f7101cd72dea814";
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        if (i % 16384 == 0) {
            if (i) must(sqlite3_exec(db, "COMMIT", 0, 0, 0), db, "commit");
            must(sqlite3_exec(db, "BEGIN", 0, 0, 0), db, "begin");
        }
        char device[24], topic[64];
        int dl = snprintf(device, sizeof device, "T-%04ld", i % devices);
        int tl = snprintf(topic, sizeof topic, "muckwatch/v1/truck/%s/telemetry", device);
        long long ts = 1795525200000LL + (i / devices) * 2000 + (i % devices);
        sqlite3_bind_text(inbox, 1, topic, tl, SQLITE_TRANSIENT);
        sqlite3_bind_blob(inbox, 2, payload, (int)size, SQLITE_STATIC);
        sqlite3_bind_text(inbox, 3, hash, 64, SQLITE_STATIC);
        sqlite3_bind_int64(inbox, 4, ts + 300);
        sqlite3_bind_int(inbox, 5, 1);
        sqlite3_bind_int(inbox, 6, 0);
        sqlite3_bind_int64(inbox, 7, i * 7919LL);
        must(sqlite3_step(inbox), db, "insert inbox");
        sqlite3_reset(inbox);
        sqlite3_bind_int64(truck, 1, sqlite3_last_insert_rowid(db));
        sqlite3_bind_text(truck, 2, device, dl, SQLITE_TRANSIENT);
        sqlite3_bind_int64(truck, 3, ts);
        sqlite3_bind_text(truck, 4, "粤B12345", -1, SQLITE_STATIC);
        sqlite3_bind_double(truck, 5, 22.5 + (i % 1000) * 1e-5);
        sqlite3_bind_double(truck, 6, 114.0 + (i % 997) * 1e-5);
        sqlite3_bind_double(truck, 7, 30.2);
        sqlite3_bind_double(truck, 8, 90);
        sqlite3_bind_text(truck, 9, "closed", -1, SQLITE_STATIC);
        sqlite3_bind_text(truck, 10, "full", -1, SQLITE_STATIC);
        sqlite3_bind_double(truck, 11, 18000);
        sqlite3_bind_text(truck, 12, "down", -1, SQLITE_STATIC);
        sqlite3_bind_int64(truck, 13, i);
        must(sqlite3_step(truck), db, "insert truck");
        sqlite3_reset(truck);
    }
    must(sqlite3_exec(db, "COMMIT", 0, 0, 0), db, "commit");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%ld %.3f %.0f\n", n, s, n / s);
    sqlite3_finalize(inbox);
    sqlite3_finalize(truck);
    sqlite3_close(db);
    free(payload);
    return 0;
}
