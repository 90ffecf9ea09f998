#!/usr/bin/env bash
# The demuxing benchmark (issue 4): `muckwatch probe --json` against
# `ffprobe -show_packets -of json` on the same 10-minute 720p25 H.264 file
# (made here with ffmpeg), in alternating rounds, medians compared. First
# checks that both list the same packets, field for field. Use a release
# build (`make bench-probe` builds one).
#
# Usage: bench/probe.sh [--rounds N] [--minutes M] [--keep]
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=9 minutes=10 keep=no
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --minutes) minutes=$2; shift 2 ;;
    --keep) keep=yes; shift ;;
    -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
    *) printf 'bench/probe.sh: unknown option %s (try --help)\n' "$1" >&2; exit 2 ;;
  esac
done

bin=.build/release/muckwatch
[[ -x $bin ]] || { echo "bench/probe.sh: no release build at $bin; run 'make release' first" >&2; exit 1; }
for tool in ffmpeg ffprobe python3; do
  command -v $tool >/dev/null || { echo "bench/probe.sh: $tool is missing; install the Debian package '${tool/ffprobe/ffmpeg}'" >&2; exit 1; }
done

work=$(mktemp -d /tmp/muckwatch-probe-bench.XXXXXX)
if [[ $keep == no ]]; then trap 'rm -rf "$work"' EXIT; else echo "working folder: $work"; fi

video=$work/720p25.mp4
echo "making a ${minutes}-minute 720p25 H.264 file (B-frames, GOP 50) ..."
ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc=size=1280x720:rate=25" -t $((minutes * 60)) \
  -c:v libx264 -preset ultrafast -crf 28 -bf 2 -g 50 "$video"
echo "file: $(du -h "$video" | cut -f1)"

ffprobe -v error -show_packets -of json "$video" > "$work/ffprobe.json"
"$bin" probe "$video" --json > "$work/probe.jsonl"
python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
expected = json.load(open(f"{w}/ffprobe.json"))["packets"]
actual = [r for r in map(json.loads, open(f"{w}/probe.jsonl")) if r["kind"] == "packet"]
fields = ["codec_type", "stream_index", "pts", "pts_time", "dts", "dts_time", "duration", "duration_time", "size", "pos", "flags"]
bad = sum(1 for e, a in zip(expected, actual) for f in fields if e.get(f) != a.get(f))
if len(expected) != len(actual) or bad:
    sys.exit(f"packet data differs: {len(expected)} vs {len(actual)} packets, {bad} field mismatches")
print(f"packets: {len(actual)}, identical to ffprobe's field for field")
open(f"{w}/packets", "w").write(str(len(actual)))
PY

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
now() { date +%s.%N; }
: > "$work/ffprobe.times"; : > "$work/probe.times"
for ((r = 1; r <= rounds; r++)); do
  t0=$(now); ffprobe -v error -show_packets -of json "$video" > /dev/null; t1=$(now)
  "$bin" probe "$video" --json > /dev/null; t2=$(now)
  python3 -c "print($t1 - $t0)" >> "$work/ffprobe.times"
  python3 -c "print($t2 - $t1)" >> "$work/probe.times"
  printf 'round %d: ffprobe %.3f s, muckwatch probe %.3f s\n' "$r" "$(tail -1 "$work/ffprobe.times")" "$(tail -1 "$work/probe.times")"
done
packets=$(cat "$work/packets")
f=$(median < "$work/ffprobe.times"); p=$(median < "$work/probe.times")
python3 -c "
f, p, n = $f, $p, $packets
print(f'ffprobe -show_packets -of json: {f:.3f} s  ({n / f:,.0f} packets/s, median of $rounds)')
print(f'muckwatch probe --json:         {p:.3f} s  ({n / p:,.0f} packets/s, median of $rounds)')
print(f'ratio:                          {f / p:.2f} x faster than ffprobe  (target >= 2)')
"
