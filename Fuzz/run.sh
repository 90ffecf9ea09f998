#!/usr/bin/env bash
# Fuzzes the payload and media telemetry decoders and the media-location
# resolver with libFuzzer for a bounded time and keeps what it learns: builds
# fuzz-<target> for each target
# (MUCKWATCH_FUZZ=1, ASan + libFuzzer, scratch path .build-fuzz), runs each on
# a copy of its corpus (with Fuzz/dict/<target>.dict if there is one), merges
# inputs with new coverage back into Fuzz/corpus/<target>/, copies crash files
# to Fuzz/crashes/<target>/ and prints, per target, executions, exec/s,
# coverage and crashes; the fuzzer's log is kept in .build-fuzz/fuzz-<target>.log.
# Exits 1 if any target crashed (or timed out or ran out of memory), 2 on a
# usage or build error.
#
# Usage: Fuzz/run.sh [SECONDS_PER_TARGET]    (default 60)
#   FUZZ_CONFIG=debug|release   build configuration (default debug)
#   FUZZ_TARGETS="jt808 hj212"  only these targets (default all seven:
#                               jt808 hj212 dji-osd native-json misb0601 dji-srt media-location)
#   FUZZ_JOBS=N                 swift build -j
#
# Installs nothing beyond Deploy/setup-deps.sh. See Fuzz/README.md.
set -euo pipefail

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }
seconds=60
case ${1:-} in
  -h | --help) usage; exit 0 ;;
  "") ;;
  *[!0-9]* | 0) printf 'run.sh: SECONDS_PER_TARGET must be a positive integer, not %s\n' "$1" >&2; exit 2 ;;
  *) seconds=$1 ;;
esac
(($# <= 1)) || { usage >&2; exit 2; }

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
config=${FUZZ_CONFIG:-debug}
all_targets=(jt808 hj212 dji-osd native-json misb0601 dji-srt media-location)
targets=(${FUZZ_TARGETS:-${all_targets[*]}})
# A merged corpus over these limits is reported (the repo keeps it small).
max_files=400
max_kb=1024
# libFuzzer never makes inputs longer than this.
max_len=4096

log() { printf 'fuzz: %s\n' "$*" >&2; }

Deploy/setup-deps.sh

# libFuzzer and ASan come with the Swift toolchain's clang (usr/lib/clang/N/lib/linux).
swift_bin=$(dirname "$(readlink -f "$(command -v swift)")")
rt_dir=$(ls -d "$swift_bin"/../lib/clang/*/lib/linux 2>/dev/null | head -n1 || true)
for lib in libclang_rt.fuzzer-x86_64.a libclang_rt.asan-x86_64.a; do
  if [[ -z "$rt_dir" || ! -f "$rt_dir/$lib" ]]; then
    log "error: $lib is not in the Swift toolchain's clang runtime (${rt_dir:-$swift_bin/../lib/clang/*/lib/linux})."
    log "It ships with the swift.org toolchain: reinstall the full toolchain. Debian's package for the clang"
    log "runtime is libclang-rt-dev (libclang-rt-14-dev on Debian 12), but it is built for Debian's clang 14"
    log "and swiftc does not look there; copying its files into the toolchain is not supported."
    exit 2
  fi
done

# Both sanitizers again as one -sanitize= value: swiftc forwards only the last
# -sanitize= option to the frontend, and swift build passes its two in no fixed
# order, so without this a build gets either no coverage or no ASan.
build_flags=(--scratch-path .build-fuzz -c "$config" --sanitize=fuzzer --sanitize=address
             -Xswiftc -sanitize=fuzzer,address)
[[ -n ${FUZZ_JOBS:-} ]] && build_flags+=(-j "$FUZZ_JOBS")
bin_dir=$root/.build-fuzz/$config
mkdir -p "$root/.build-fuzz"
for name in "${targets[@]}"; do
  case " ${all_targets[*]} " in *" $name "*) ;; *) log "unknown target '$name' (${all_targets[*]})"; exit 2 ;; esac
  log "building fuzz-$name ($config)"
  if ! MUCKWATCH_FUZZ=1 swift build "${build_flags[@]}" --product "fuzz-$name" >"$root/.build-fuzz/build-$name.log" 2>&1; then
    grep -v -e 'Cannot export local symbol' "$root/.build-fuzz/build-$name.log" | tail -n 40 >&2
    log "error: building fuzz-$name failed (full log: .build-fuzz/build-$name.log)"
    exit 2
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/muckwatch-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
# libFuzzer's own crash report (symbolised by ASan) instead of Swift's backtracer.
export SWIFT_BACKTRACE=enable=no

final_stat() { sed -n "s/^stat::$1: *\([0-9]*\).*/\1/p" "$2" | tail -n1; }
summary=()
failed=0
for name in "${targets[@]}"; do
  corpus=$root/Fuzz/corpus/$name
  crashes=$root/Fuzz/crashes/$name
  mkdir -p "$corpus" "$work/$name/corpus" "$work/$name/artifacts"
  cp -a "$corpus"/. "$work/$name/corpus/"
  before=$(find "$corpus" -type f | wc -l)
  out=$work/$name/fuzz.log
  log "fuzzing $name for ${seconds}s ($before corpus inputs)"
  dict=()
  [[ -f $root/Fuzz/dict/$name.dict ]] && dict=(-dict="$root/Fuzz/dict/$name.dict")
  rc=0
  timeout --kill-after=30 $((seconds * 2 + 300)) "$bin_dir/fuzz-$name" \
    -max_total_time="$seconds" -max_len=$max_len -timeout=10 -print_final_stats=1 "${dict[@]}" \
    -artifact_prefix="$work/$name/artifacts/" "$work/$name/corpus" >"$out" 2>&1 || rc=$?
  cp "$out" "$root/.build-fuzz/fuzz-$name.log"
  # Coverage as libFuzzer's last status line gives it (edges, features).
  cov=$(grep -E '^#[0-9]+' "$out" | tail -n1 | sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\).*/\1\/\2/p' || true)

  execs=$(final_stat number_of_executed_units "$out")
  speed=$(final_stat average_exec_per_sec "$out")
  if [[ -z $execs ]]; then # a crash report has no final stats: the last status line
    last=$(grep -E '^#[0-9]+' "$out" | tail -n1 || true)
    execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")
    speed=$(sed -n 's/.*exec\/s: \([0-9]*\).*/\1/p' <<<"$last")
  fi

  artifacts=("$work/$name/artifacts"/*)
  [[ -e ${artifacts[0]} ]] || artifacts=()
  if ((${#artifacts[@]} > 0)); then
    mkdir -p "$crashes"
    cp -p "${artifacts[@]}" "$crashes/"
    cp -p "$out" "$crashes/$(basename "${artifacts[0]}").log"
  fi
  ncrash=${#artifacts[@]}
  if ((ncrash > 0)); then
    failed=1
    log "$name: ${artifacts[*]##*/} saved in Fuzz/crashes/$name/; the report:"
    # From the first error line to libFuzzer's summary, demangled when possible.
    sed -n '/Fatal error\|==ERROR\|ERROR: libFuzzer\|^SUMMARY/,/^SUMMARY\|^MS: /p' "$out" | head -n 60 |
      { if command -v swift-demangle >/dev/null; then swift-demangle --simplified; else cat; fi; } >&2
  elif ((rc != 0)); then
    failed=1
    tail -n 30 "$out" >&2
    log "$name: the fuzzer exited with $rc and left no crash file (log above)"
  fi

  # New coverage back into the corpus: only inputs that add features are copied.
  if [[ -x $bin_dir/fuzz-$name ]]; then
    "$bin_dir/fuzz-$name" -merge=1 -max_len=$max_len -timeout=10 \
      -artifact_prefix="$work/$name/artifacts/merge-" "$corpus" "$work/$name/corpus" >"$work/$name/merge.log" 2>&1 ||
      { tail -n 20 "$work/$name/merge.log" >&2; log "$name: merge failed"; failed=1; }
  fi
  after=$(find "$corpus" -type f | wc -l)
  kb=$(du -sk --apparent-size "$corpus" | cut -f1)
  if ((after > max_files || kb > max_kb)); then
    log "$name: the corpus has $after files, ${kb} KB (keep it under $max_files files and $max_kb KB; see Fuzz/README.md)"
  fi
  summary+=("$(printf '%-14s executions %10s   exec/s %7s   cov/ft %11s   crashes %d   corpus %d -> %d files (%d KB)' \
    "$name" "${execs:-?}" "${speed:-?}" "${cov:-?}" "$ncrash" "$before" "$after" "$kb")")
done

printf '%s\n' "${summary[@]}"
exit $failed
