#!/usr/bin/env bash
# Muckwatch one-command demo (run by `make demo` after the release build).
#
# Starts a private mosquitto broker and muckwatchd under ./var/demo/,
# publishes Deploy/sample-feed.tsv into the broker, waits for the alerts, then
# shows what a duty operator would look at: the alert log, the draft cases and
# the daemon's counters. Both processes are stopped on exit, even on failure;
# everything they wrote stays in ./var/demo/ for inspection
# (`make clean-demo` removes it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DEMO=var/demo
BIN=.build/release
EXAMPLE_CONFIG=Deploy/muckwatch.example.yaml
# The example config with the demo's media folder as its media root.
CONFIG=$DEMO/muckwatch.yaml
MEDIA=$PWD/$DEMO/media
FEED=Deploy/sample-feed.tsv
DB=$DEMO/muckwatch.db
ALERTS=$DEMO/alerts.jsonl
DAEMON_LOG=$DEMO/muckwatchd.log
BROKER_CONF=$DEMO/broker.conf
BROKER_LOG=$DEMO/broker.log
# The CLI reads the store; the config gives it the time zone for display.
STORE_ARGS=(--db "$DB" --config "$CONFIG")
# The feed yields two alerts: uncovered_load (T-0001, the CAM-07 event merges
# into it) and spill (CAM-03, attributed to T-0002).
EXPECTED_ALERTS=2
SUBSCRIBE_TIMEOUT_S=20
ALERT_TIMEOUT_S=20

say() { printf '%s\n' "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }
heading() { printf '\n==== %s ====\n' "$*"; }

# --- Preconditions -------------------------------------------------------------
for b in muckwatchd muckwatch; do
  [[ -x $BIN/$b ]] || die "$BIN/$b not found: build it first with 'swift build -c release' (or run 'make demo')"
done
[[ -f $EXAMPLE_CONFIG ]] || die "$EXAMPLE_CONFIG not found"
command -v ffmpeg >/dev/null || die "ffmpeg is not installed: apt-get install ffmpeg (or run 'make demo', which installs it)"
[[ -f $FEED ]] || die "$FEED not found"
# mosquitto lives in /usr/sbin, which a normal user's PATH may lack.
MOSQUITTO=$(command -v mosquitto || true)
[[ -n $MOSQUITTO ]] || { [[ -x /usr/sbin/mosquitto ]] && MOSQUITTO=/usr/sbin/mosquitto; } \
  || die "mosquitto not found: run Deploy/setup-deps.sh"
command -v mosquitto_pub >/dev/null || die "mosquitto_pub not found: run Deploy/setup-deps.sh"

# --- Processes, and stopping them on any exit ------------------------------------
BROKER_PID=
DAEMON_PID=

# stop PID NAME TIMEOUT_S: SIGTERM, wait up to TIMEOUT_S, then SIGKILL.
stop() {
  local pid=$1 name=$2 timeout_s=$3 i status
  [[ -n $pid ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout_s * 10; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "demo: $name did not stop within ${timeout_s} s of SIGTERM; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  status=0
  wait "$pid" 2>/dev/null || status=$?
  say "demo: $name (pid $pid) stopped, exit status $status"
}

stop_all() {
  stop "$DAEMON_PID" muckwatchd 30
  DAEMON_PID=
  stop "$BROKER_PID" mosquitto 10
  BROKER_PID=
}

# shellcheck disable=SC2317  # invoked by the EXIT trap
on_exit() {
  local rc=$?
  trap - EXIT
  stop_all
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Fresh demo directory ------------------------------------------------------------
# Wipe the previous demo: store, alert log, logs and the broker's persisted
# session (otherwise the broker would redeliver old messages to the daemon).
rm -rf "$DEMO"
mkdir -p "$DEMO/broker" "$MEDIA/cam07"
sed -e "/^media:/,/^[^ #]/ s|^\([[:space:]]*roots:\).*|\1 [$MEDIA]    # set by demo.sh|" "$EXAMPLE_CONFIG" >"$CONFIG"
cp Deploy/sites.geojson "$DEMO/sites.geojson"   # the config names it beside itself

# --- The camera's clip -------------------------------------------------------------
# CAM-07's event points at a 20 s recording that started at 21:16:28; the
# daemon finds the frame 12.4 s in and the keyframe to cut it from.
heading "Recording CAM-07's clip (ffmpeg)"
ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc=size=640x360:rate=25" -t 20 \
  -c:v libx264 -preset veryfast -bf 2 -g 50 -metadata creation_time=2026-11-24T13:16:28.000000Z \
  "$MEDIA/cam07/seg-2116.ts" || die "ffmpeg could not write the demo clip"
say "$MEDIA/cam07/seg-2116.ts"

# --- Broker --------------------------------------------------------------------------
# 18830 unless busy; then the next free port. A port is busy if something
# accepts a connection on it (bash's /dev/tcp, no extra tools needed).
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=18830
while port_busy "$PORT"; do
  PORT=$((PORT + 1))
  ((PORT < 18930)) || die "no free port in 18830-18929 on 127.0.0.1"
done

cat >"$BROKER_CONF" <<EOF
# Broker for the Muckwatch demo only, written by Deploy/demo.sh.
# DEMO ONLY: anonymous clients are allowed, on loopback. Never do this in
# production: Deploy/mosquitto.conf requires a password (allow_anonymous false).
listener $PORT 127.0.0.1
allow_anonymous true
# Run as the invoking user (when started as root, mosquitto would otherwise
# switch to the 'mosquitto' user, which may not be able to write here).
user $(id -un)
# Same queueing and persistence choices as Deploy/mosquitto.conf (see there).
persistence true
persistence_location $DEMO/broker/
autosave_interval 1
max_queued_messages 100000
max_queued_bytes 0
max_inflight_messages 1000
log_dest stdout
log_type error
log_type warning
log_type notice
log_type information
EOF

heading "Starting the demo broker (mosquitto on 127.0.0.1:$PORT)"
"$MOSQUITTO" -c "$BROKER_CONF" >"$BROKER_LOG" 2>&1 &
BROKER_PID=$!
for ((i = 0; i < 100; i++)); do
  port_busy "$PORT" && break
  kill -0 "$BROKER_PID" 2>/dev/null || { cat "$BROKER_LOG" >&2; die "mosquitto exited at start (log above)"; }
  sleep 0.1
done
port_busy "$PORT" || { cat "$BROKER_LOG" >&2; die "mosquitto does not accept connections on port $PORT after 10 s"; }
say "mosquitto pid $BROKER_PID, log $BROKER_LOG"

# --- Daemon --------------------------------------------------------------------------
heading "Starting muckwatchd"
"$BIN/muckwatchd" --config "$CONFIG" --broker "mqtt://127.0.0.1:$PORT" \
  --db "$DB" --alert-log "$ALERTS" >"$DAEMON_LOG" 2>&1 &
DAEMON_PID=$!
subscribed=no
for ((i = 0; i < SUBSCRIBE_TIMEOUT_S * 10; i++)); do
  if grep -q subscribed "$DAEMON_LOG" 2>/dev/null; then subscribed=yes; break; fi
  if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
    cat "$DAEMON_LOG" >&2
    die "muckwatchd exited before subscribing (log above)"
  fi
  sleep 0.1
done
if [[ $subscribed != yes ]]; then
  tail -n 30 "$DAEMON_LOG" >&2
  die "muckwatchd did not log 'subscribed' within ${SUBSCRIBE_TIMEOUT_S} s (last log lines above)"
fi
say "muckwatchd pid $DAEMON_PID is subscribed; log $DAEMON_LOG"

# --- Publish the feed ------------------------------------------------------------------
heading "Publishing $FEED (QoS 1)"
published=0
while IFS=$'\t' read -r topic payload || [[ -n $topic ]]; do
  [[ -z $topic || $topic == \#* ]] && continue
  payload=${payload%$'\r'}
  # The sample's clips live under the demo's media folder here.
  payload=${payload//file:\/\/\/var\/lib\/muckwatch\/media\//file:\/\/$MEDIA\/}
  if [[ $payload == hex:* ]]; then
    # A binary payload (a JT/T 808 frame): hex to bytes, published from a file.
    printf '%b' "$(sed 's/../\\x&/g' <<<"${payload#hex:}")" >"$DEMO/payload.bin"
    mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -t "$topic" -f "$DEMO/payload.bin" </dev/null \
      || die "mosquitto_pub failed for topic $topic"
  else
    mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -t "$topic" -m "$payload" </dev/null \
      || die "mosquitto_pub failed for topic $topic"
  fi
  published=$((published + 1))
done <"$FEED"
# Distinct messages: an exact repeat (same topic and bytes) is a redelivery.
distinct=$(grep -v -e '^#' -e '^[[:space:]]*$' "$FEED" | tr -d '\r' | LC_ALL=C sort -u | wc -l)
say "published $published messages ($distinct distinct, $((published - distinct)) exact repeat(s))"

# --- Wait for the pipeline ---------------------------------------------------------------
alert_lines() { if [[ -f $ALERTS ]]; then wc -l <"$ALERTS"; else echo 0; fi; }
status=0
for ((i = 0; i < ALERT_TIMEOUT_S * 10; i++)); do
  (($(alert_lines) >= EXPECTED_ALERTS)) && break
  kill -0 "$DAEMON_PID" 2>/dev/null || { tail -n 30 "$DAEMON_LOG" >&2; die "muckwatchd exited while processing the feed (last log lines above)"; }
  sleep 0.1
done
if (($(alert_lines) < EXPECTED_ALERTS)); then
  say "demo: WARNING: expected $EXPECTED_ALERTS alerts within ${ALERT_TIMEOUT_S} s, found $(alert_lines)" >&2
  status=1
fi
# Then until the store has every distinct message (bad ones included: they
# are kept as dead letters) and none is pending, at most 10 s more.
stats_settled() {
  local json
  json=$("$BIN/muckwatch" stats --db "$DB" --json 2>/dev/null) || return 1
  if command -v python3 >/dev/null; then
    python3 -c '
import json, sys
s = json.loads(sys.argv[1])
sys.exit(0 if s.get("messages", 0) >= int(sys.argv[2]) and s.get("pending", 0) == 0 else 1)
' "$json" "$distinct" 2>/dev/null
  else
    local n
    n=$(grep -o '"messages"[[:space:]]*:[[:space:]]*[0-9]*' <<<"$json" | grep -o '[0-9]*$' || true)
    [[ -n $n ]] && ((n >= distinct))
  fi
}
for ((i = 0; i < 100; i++)); do
  stats_settled && break
  sleep 0.1
done
# And until CAM-07's clip has been demuxed (the video workers poll the store
# twice a second), at most 15 s more, so that the case shows its frame.
videos_done() {
  "$BIN/muckwatch" stats --db "$DB" --json 2>/dev/null | python3 -c '
import json, sys
sys.exit(0 if sum(json.load(sys.stdin).get("videos", {}).values()) >= 1 else 1)' 2>/dev/null
}
for ((i = 0; i < 150; i++)); do
  videos_done && break
  sleep 0.1
done

failed=()
show() {
  local title=$1
  shift
  heading "$title"
  if ! "$@"; then
    say "(failed: $*)"
    failed+=("$*")
  fi
}

# --- What the duty operator sees ---------------------------------------------------------
show "ALERTS 告警 — $ALERTS (one JSON object per line)" cat "$ALERTS"
show "ALERTS FOR PEOPLE — muckwatch tail (add --follow to keep watching)" "$BIN/muckwatch" tail --alerts "$ALERTS" --config "$CONFIG"
show "DRAFT CASES 立案草稿 — muckwatch cases list" "$BIN/muckwatch" cases list "${STORE_ARGS[@]}"

# The first case opened (lowest id): the uncovered_load one, with the CAM-07
# event merged into it.
cases_json=$("$BIN/muckwatch" cases list "${STORE_ARGS[@]}" --json 2>/dev/null || true)
first_case=$(python3 -c '
import json, sys
d = json.load(sys.stdin)
if isinstance(d, dict):
    d = d.get("cases", [d])
ids = [c if isinstance(c, str) else (c.get("id") or c.get("case_id")) for c in d]
print(sorted(i for i in ids if i)[0])
' <<<"$cases_json" 2>/dev/null || true)
if [[ -z $first_case ]]; then
  first_case=$(grep -o 'MW-[0-9]\{8\}-[0-9]\{4,\}' <<<"$cases_json" | LC_ALL=C sort | head -n 1 || true)
fi
if [[ -n $first_case ]]; then
  show "FIRST CASE 案件详情 — muckwatch cases show $first_case" "$BIN/muckwatch" cases show "$first_case" "${STORE_ARGS[@]}"
else
  heading "FIRST CASE 案件详情"
  say "(no case id found in 'muckwatch cases list --json')"
  failed+=("find the first case id")
fi
show "COUNTERS 统计 — muckwatch stats" "$BIN/muckwatch" stats "${STORE_ARGS[@]}"

# --- Stop, then show how the daemon ended -------------------------------------------------
heading "Stopping muckwatchd (SIGTERM) and the broker"
stop_all
heading "DAEMON LOG — last 25 lines of $DAEMON_LOG"
tail -n 25 "$DAEMON_LOG"

# --- What the legal office relies on ----------------------------------------------------
show "PROOF 核验 — muckwatch verify (nothing in the cases changed since it was written)" \
  "$BIN/muckwatch" verify "${STORE_ARGS[@]}" --alert-log "$ALERTS"

heading "Where things are"
cat <<EOF
  alert log        $ALERTS
  store (SQLite)   $DB
  daemon log       $DAEMON_LOG
  broker config    $BROKER_CONF   (port $PORT)
  broker log       $BROKER_LOG
Explore:
  $BIN/muckwatch cases list --db $DB --config $CONFIG
  $BIN/muckwatch cases show ${first_case:-CASE_ID} --db $DB --config $CONFIG
  $BIN/muckwatch stats --db $DB --json
  $BIN/muckwatch verify --db $DB --alert-log $ALERTS
Remove it all with: make clean-demo
EOF

if ((${#failed[@]} > 0)); then
  say "demo: these steps failed: ${failed[*]}" >&2
  status=1
fi
exit "$status"
