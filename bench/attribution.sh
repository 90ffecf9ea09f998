#!/usr/bin/env bash
# The attribution benchmark (issue 5): builds a day of tracks for 5 000 trucks
# reporting every 10 s (43.2 M fixes) into the R*Tree track index and into a
# plain B-tree table, then times attribution queries (50 m, 10 minutes back)
# against both. Use a release build (`make release`).
#
# Usage: bench/attribution.sh [muckwatch bench-attribution options, e.g. --trucks 1000 --hours 2]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release/muckwatch
[[ -x $bin ]] || { echo "bench/attribution.sh: no release build at $bin; run 'make release' first" >&2; exit 1; }
exec "$bin" bench-attribution "$@"
