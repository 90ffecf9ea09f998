#!/usr/bin/env bash
# The verify benchmark (issue 14: `muckwatch verify` at >= 50 000 evidence
# rows/s). Builds a store with many evidence rows through the real path — a
# feed of camera spill events, N per plate within each incident's window, so
# each becomes an evidence row of an open case — replayed by `muckwatch
# replay`; then times `muckwatch verify` over it, and, as the peer in the same
# run, the sqlite3 shell reading the same evidence rows with their original
# bytes (what any check must at least read). Prints evidence rows/s for both
# and the ratio. Use a release build (`make release`).
#
# Usage: bench/verify.sh [--events N] [--keep]
set -euo pipefail
cd "$(dirname "$0")/.."

events=200000 keep=no
while [[ $# -gt 0 ]]; do
  case $1 in
    --events) events=$2; shift 2 ;;
    --keep) keep=yes; shift ;;
    -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
    *) printf 'bench/verify.sh: unknown option %s (try --help)\n' "$1" >&2; exit 2 ;;
  esac
done

bin=${MUCKWATCH_BIN:-.build/release/muckwatch}
[[ -x $bin ]] || { echo "bench/verify.sh: no build at $bin; run 'make release' first" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "bench/verify.sh: sqlite3 is missing; install the Debian package 'sqlite3'" >&2; exit 1; }
command -v python3 >/dev/null || { echo "bench/verify.sh: python3 is missing; install the Debian package 'python3'" >&2; exit 1; }

work=$(mktemp -d /tmp/muckwatch-verify-bench.XXXXXX)
if [[ $keep == no ]]; then trap 'rm -rf "$work"' EXIT; else echo "working folder: $work"; fi

python3 - "$events" > "$work/feed.jsonl" <<'PY'
import json, sys
n = int(sys.argv[1])
base = 1795528800.0  # 2026-11-24T14:00:00Z
for i in range(n):
    t = base + i * 0.05
    stamp = lambda s: __import__("time").strftime("%Y-%m-%dT%H:%M:%S", __import__("time").gmtime(s)) + ".%03dZ" % int((s % 1) * 1000)
    payload = {"camera": "CAM-%02d" % (i % 20), "event_id": "e-%d" % i, "ts": stamp(t), "type": "spill",
               "plate": "粤B%05d" % (i % 50), "confidence": 0.9, "lat": 22.55 + (i % 50) * 1e-4, "lon": 114.05}
    print(json.dumps({"t": stamp(t), "topic": "muckwatch/v1/camera/CAM-%02d/event" % (i % 20),
                      "payload": json.dumps(payload, ensure_ascii=False)}, ensure_ascii=False))
PY
"$bin" replay "$work/feed.jsonl" --db "$work/mw.db" --alert-log "$work/alerts.jsonl" > "$work/replay.txt"
rows=$(sqlite3 -readonly "$work/mw.db" "SELECT COUNT(*) FROM evidence")

now() { date +%s.%N; }
start=$(now)
"$bin" verify --db "$work/mw.db" --alert-log "$work/alerts.jsonl" > "$work/verify.txt"
verify_s=$(echo "$(now) - $start" | bc -l)
start=$(now)
sqlite3 -readonly "$work/mw.db" "SELECT e.*, hex(i.payload) FROM evidence e JOIN inbox i ON i.id = e.inbox_id" > /dev/null
peer_s=$(echo "$(now) - $start" | bc -l)

python3 - "$rows" "$verify_s" "$peer_s" "$work/verify.txt" <<'PY'
import sys
rows, v, p = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print(open(sys.argv[4]).read().strip())
print(f"evidence rows:                  {rows}")
print(f"muckwatch verify:               {v:.2f} s, {rows / v:,.0f} evidence rows/s (target >= 50,000)")
print(f"sqlite3 reading the same rows:  {p:.2f} s, {rows / p:,.0f} rows/s")
print(f"ratio verify / sqlite3 read:    {p / v:.2f}")
PY
