#!/usr/bin/env bash
# The memory benchmark (issue 14, item 7): `muckwatch bench-memory` warms a
# fresh store with 200 000 messages from 100 trucks, floods the pipeline with
# 100 000 distinct device ids, then sends the fleet's messages 7 h later
# (pipeline time), all through the daemon's PipelineRunner and a store on
# disk. Prints RSS before the flood, after it, and 7 h later (the flooded
# ids' state has left memory), and the flood's growth per device id.
# Use a release build (`make release`); a debug build also works.
#
# Usage: bench/memory.sh [--warm N] [--devices N] [--flood N]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release/muckwatch
[[ -x $bin ]] || bin=.build/debug/muckwatch
[[ -x $bin ]] || { echo "bench/memory.sh: no build at .build/{release,debug}/muckwatch; run 'make release' first" >&2; exit 1; }
echo "binary: $bin"
exec "$bin" bench-memory "$@"
