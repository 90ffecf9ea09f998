#!/usr/bin/env bash
# The replay benchmark (issue 3): generates a scenario feed of ~2 000 000
# messages (trucks mostly), replays it through `muckwatch replay` into a fresh
# store, and replays the same feed with bench/replay_baseline.py (json +
# sqlite3 inserting the same rows) in the same run. Prints messages/s, peak
# RSS and the ratio. Then the store's floor: bench/store_floor.c, SQLite from
# C writing only the inbox and telemetry rows of as many messages, with no
# parsing, hashing or rules — what the schema costs on this machine. Last,
# the same feed replayed with only the foundation's two rules (uncovered_load,
# spill; `replay --rules`), to show what the full rule set costs (issue 5:
# under 30 %). Use a release build (`make bench-replay` builds one).
#
# Usage: bench/replay.sh [--trucks N] [--hours H] [--interval S] [--keep]
set -euo pipefail
cd "$(dirname "$0")/.."

trucks=2000 hours=1 interval=2 keep=no
while [[ $# -gt 0 ]]; do
  case $1 in
    --trucks) trucks=$2; shift 2 ;;
    --hours) hours=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --keep) keep=yes; shift ;;
    -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
    *) printf 'bench/replay.sh: unknown option %s (try --help)\n' "$1" >&2; exit 2 ;;
  esac
done

bin=.build/release/muckwatch
[[ -x $bin ]] || { echo "bench/replay.sh: no release build at $bin; run 'make release' first" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "bench/replay.sh: /usr/bin/time is missing; install the Debian package 'time'" >&2; exit 1; }
command -v python3 >/dev/null || { echo "bench/replay.sh: python3 is missing; install the Debian package 'python3'" >&2; exit 1; }

work=$(mktemp -d /tmp/muckwatch-replay-bench.XXXXXX)
if [[ $keep == no ]]; then trap 'rm -rf "$work"' EXIT; else echo "working folder: $work"; fi

echo "generating: $trucks trucks, $hours h, one report per $interval s ..."
"$bin" scenario --out "$work/scenario" --trucks "$trucks" --hours "$hours" --report-interval-s "$interval" --seed 7 2>/dev/null
feed=$work/scenario/feed.jsonl
lines=$(wc -l < "$feed")
echo "feed: $lines lines, $(du -h "$feed" | cut -f1)"

/usr/bin/time -f '%M %e' -o "$work/mw.time" \
  "$bin" replay "$feed" --config "$work/scenario/config.yaml" --db "$work/mw.db" --alert-log "$work/alerts.jsonl" --json > "$work/mw.json"
"$bin" replay "$feed" --config "$work/scenario/config.yaml" --db "$work/mw2.db" --alert-log "$work/alerts2.jsonl" --json \
  --rules uncovered_load,spill > "$work/mw2.json"
/usr/bin/time -f '%M %e' -o "$work/py.time" python3 bench/replay_baseline.py "$feed" "$work/py.db" > "$work/py.txt"

cc=${CC:-$(command -v cc || command -v gcc || command -v clang || true)}
if [[ -n $cc ]]; then
  "$cc" -O2 -o "$work/store_floor" bench/store_floor.c -lsqlite3
  payload_bytes=$(python3 -c 'import json,sys; n=s=0
for line in open(sys.argv[1], "rb"):
    m = json.loads(line)
    if "/truck/" in m["topic"] and "payload" in m: n += 1; s += len(m["payload"].encode())
print(round(s / max(n, 1)))' "$feed")
  "$work/store_floor" "$work/floor.db" "$lines" "$trucks" "$payload_bytes" > "$work/floor.txt"
else
  echo "no C compiler (cc, gcc or clang) on PATH: the store floor is not measured" > "$work/floor.txt"
fi

python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
mw = json.load(open(f"{w}/mw.json"))
mw_rss, mw_wall = open(f"{w}/mw.time").read().split()
py_n, py_s, py_rate = open(f"{w}/py.txt").read().split()
py_rss, py_wall = open(f"{w}/py.time").read().split()
rate = mw["messages_per_second"]
print(f"muckwatch replay: {mw['messages']} messages in {mw['seconds']:.1f} s = {rate:,.0f} msg/s, peak RSS {int(mw_rss)/1024:.0f} MB"
      f"  (alerts {sum(mw['alerts'].values())}, cases opened {mw['cases_opened']}, dead letters {sum(mw['dead_letters'].values())})")
print(f"python baseline:  {py_n} messages in {float(py_s):.1f} s = {float(py_rate):,.0f} msg/s, peak RSS {int(py_rss)/1024:.0f} MB")
print(f"ratio:            {rate / float(py_rate):.2f} x the Python baseline  (target >= 20)")
print(f"throughput:       {rate:,.0f} msg/s  (target >= 200 000)")
two = json.load(open(f"{w}/mw2.json"))
two_rate = two["messages_per_second"]
print(f"two rules only:   {two_rate:,.0f} msg/s with uncovered_load and spill (alerts {sum(two['alerts'].values())});"
      f" all rules cost {(1 - rate / two_rate) * 100:.1f} % of it  (target < 30 %)")
floor = open(f"{w}/floor.txt").read().split()
if len(floor) == 3:
    print(f"store floor:      {int(floor[0])} messages' inbox + telemetry rows from C in {float(floor[1]):.1f} s = {float(floor[2]):,.0f} msg/s"
          f"  (replay reaches {rate / float(floor[2]):.2f} x of it)")
else:
    print("store floor:      " + " ".join(floor))
PY
