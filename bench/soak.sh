#!/usr/bin/env bash
# The soak benchmark (issue 16): muckwatchd under 5 000 msg/s for 30 minutes
# through a loopback mosquitto, sampling its RSS, the WAL's size, the bytes on
# disk and publish→alert latency every 10 s; prints the samples, the growth
# rates and a one-line verdict (RSS growth < 5 %, WAL < 64 MB, p99 < 50 ms).
# Use a release build (`make bench-soak` builds one).
#
# Usage: bench/soak.sh [--minutes M] [--rate R] [--trucks N] [--keep]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release/muckwatch
[[ -x $bin ]] || { echo "bench/soak.sh: no release build at $bin; run 'make release' first" >&2; exit 1; }
exec "$bin" bench-soak "$@"
