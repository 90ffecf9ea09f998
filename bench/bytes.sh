#!/usr/bin/env bash
# What the store costs on disk per message (issue 16, item 4): generates a
# truck-heavy scenario (500 trucks reporting every 2 s for an hour: 621 607
# messages, 99 % truck reports), replays it into a fresh store, checkpoints the WAL into the
# database, and prints each table's and each index's bytes (SQLite's dbstat)
# and bytes per message, then the file's size per message and per truck
# message. Also prints the replay's msg/s. Use a release build
# (`swift build -c release --static-swift-stdlib`).
#
# Usage: bench/bytes.sh [--trucks N] [--hours H] [--interval S] [--runs R] [--feed DIR] [--keep]
#   --runs R    replay R times into fresh stores (msg/s of each; sizes of the last)
#   --feed DIR  reuse a scenario folder made by an earlier --keep run
set -euo pipefail
cd "$(dirname "$0")/.."

trucks=500 hours=1 interval=2 runs=1 feed_dir="" keep=no
while [[ $# -gt 0 ]]; do
  case $1 in
    --trucks) trucks=$2; shift 2 ;;
    --hours) hours=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --feed) feed_dir=$2; shift 2 ;;
    --keep) keep=yes; shift ;;
    -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
    *) printf 'bench/bytes.sh: unknown option %s (try --help)\n' "$1" >&2; exit 2 ;;
  esac
done

bin=${MUCKWATCH:-.build/release/muckwatch}
[[ -x $bin ]] || { echo "bench/bytes.sh: no release build at $bin; run 'swift build -c release --static-swift-stdlib' first" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "bench/bytes.sh: sqlite3 is missing; install the Debian package 'sqlite3'" >&2; exit 1; }
command -v python3 >/dev/null || { echo "bench/bytes.sh: python3 is missing; install the Debian package 'python3'" >&2; exit 1; }
sqlite3 :memory: 'SELECT count(*) FROM dbstat' >/dev/null 2>&1 \
  || { echo "bench/bytes.sh: this sqlite3 has no dbstat table; use Debian's package 'sqlite3'" >&2; exit 1; }

work=$(mktemp -d /tmp/muckwatch-bytes-bench.XXXXXX)
if [[ $keep == no ]]; then trap 'rm -rf "$work"' EXIT; else echo "working folder: $work"; fi

if [[ -z $feed_dir ]]; then
  feed_dir=$work/scenario
  echo "generating: $trucks trucks, $hours h, one report per $interval s ..."
  "$bin" scenario --out "$feed_dir" --trucks "$trucks" --hours "$hours" --report-interval-s "$interval" --seed 7 >/dev/null 2>&1
fi
feed=$feed_dir/feed.jsonl
echo "feed: $(wc -l < "$feed") lines, $(du -h "$feed" | cut -f1)"

for ((run = 1; run <= runs; run++)); do
  rm -f "$work"/store.db* "$work/alerts.jsonl"
  "$bin" replay "$feed" --config "$feed_dir/config.yaml" --db "$work/store.db" --alert-log "$work/alerts.jsonl" --json \
    > "$work/replay.json"
  python3 - "$work/replay.json" "$run" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"replay {sys.argv[2]}: {r['messages']} messages in {r['seconds']:.1f} s = {r['messages_per_second']:,.0f} msg/s")
PY
done

# Everything into the database file, so that its size is the whole cost.
sqlite3 "$work/store.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
sqlite3 -separator ' ' "$work/store.db" "
  SELECT 'messages', COUNT(*) FROM inbox;
  SELECT 'truck_messages', COUNT(DISTINCT inbox_id) FROM truck_telemetry;
  SELECT 'page_size', page_size FROM pragma_page_size;
  SELECT 'pages', page_count FROM pragma_page_count;
  SELECT 'free_pages', freelist_count FROM pragma_freelist_count;
  SELECT 'object', s.name, COALESCE(m.type, 'internal'), COALESCE(m.tbl_name, s.name), SUM(s.pgsize), SUM(s.payload), COUNT(*)
    FROM dbstat s LEFT JOIN sqlite_schema m ON m.name = s.name GROUP BY s.name;
" > "$work/sizes.txt"
file_bytes=$(stat -c %s "$work/store.db")
wal_bytes=$(stat -c %s "$work/store.db-wal" 2>/dev/null || echo 0)

python3 - "$work/sizes.txt" "$file_bytes" "$wal_bytes" <<'PY'
import sys
facts, objects = {}, []
for line in open(sys.argv[1]):
    f = line.split()
    if f[0] == "object":
        objects.append((f[1], f[2], f[3], int(f[4]), int(f[5]), int(f[6])))
    else:
        facts[f[0]] = int(f[1])
file_bytes, wal_bytes = int(sys.argv[2]), int(sys.argv[3])
n, trucks = facts["messages"], facts["truck_messages"]
print(f"\n{n} messages ({trucks} truck messages), {facts['page_size']}-byte pages, {facts['free_pages']} free\n")
print(f"{'table / index':<56} {'kind':<9} {'bytes':>12} {'payload':>12} {'B/msg':>8}")
for name, kind, table, size, payload, pages in sorted(objects, key=lambda o: -o[3]):
    label = name if kind != "index" else f"  {name} (on {table})"
    print(f"{label:<56} {kind:<9} {size:>12,} {payload:>12,} {size / n:>8.1f}")
total = file_bytes + wal_bytes
print(f"{'database file + WAL':<56} {'':<9} {total:>12,} {'':>12} {total / n:>8.1f}")
print(f"\nbytes per message: {total / n:.1f}   bytes per truck message: {total / trucks:.1f}   (goal <= 250)")
PY
