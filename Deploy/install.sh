#!/usr/bin/env bash
# Installs Muckwatch on a Debian 12 server, next to a local mosquitto broker.
#
# Usage: Deploy/install.sh [--no-build] [--dry-run] [--destdir DIR]
#   --no-build     use the binaries already in .build/release (e.g. built on
#                  another machine); no Swift toolchain needed here
#   --dry-run      print what would be done, change nothing (no root needed)
#   --destdir DIR  stage every file under DIR instead of / (packaging, tests):
#                  no groupadd, no systemctl, no broker restart
#
# What it does (each step only if needed, so it is safe to run again):
#   1. Deploy/setup-deps.sh (Debian packages), and logrotate
#   2. swift build -c release --static-swift-stdlib   (unless --no-build)
#   3. muckwatchd and muckwatch -> /usr/local/bin
#   4. system group `muckwatch` (lets the service read the broker password)
#   5. broker user `muckwatchd` with a random password in /etc/mosquitto/passwd,
#      the password in /etc/muckwatch/broker-password (root:muckwatch 0640)
#   6. Deploy/muckwatch.example.yaml -> /etc/muckwatch/muckwatch.yaml if absent,
#      with the store, alert log and broker credentials set for systemd
#   7. Deploy/mosquitto.conf -> /etc/mosquitto/conf.d/muckwatch.conf if absent
#   8. systemd unit and logrotate file; systemctl daemon-reload
# It never starts or enables muckwatchd: the last lines say how.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD=yes
DRY=no
DESTDIR=
while (($#)); do
  case $1 in
    --no-build) BUILD=no ;;
    --dry-run) DRY=yes ;;
    --destdir)
      [[ $# -ge 2 && -n $2 ]] || { echo "install: --destdir needs a directory" >&2; exit 2; }
      DESTDIR=$(realpath -m "$2")
      shift
      ;;
    -h | --help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "install: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

BIN_DIR=$DESTDIR/usr/local/bin
ETC_DIR=$DESTDIR/etc/muckwatch
CONFIG=$ETC_DIR/muckwatch.yaml
PW_FILE=$ETC_DIR/broker-password
UNIT=$DESTDIR/etc/systemd/system/muckwatchd.service
LOGROTATE=$DESTDIR/etc/logrotate.d/muckwatch
MOSQ_DIR=$DESTDIR/etc/mosquitto
MOSQ_CONF=$MOSQ_DIR/conf.d/muckwatch.conf
MOSQ_PASSWD=$MOSQ_DIR/passwd
BROKER_USER=muckwatchd
GROUP=muckwatch
# Paths as the running system sees them (written into config files).
PW_FILE_LIVE=/etc/muckwatch/broker-password
DB_LIVE=/var/lib/muckwatch/muckwatch.db
MEDIA_LIVE=/var/lib/muckwatch/media
ALERTS_LIVE=/var/log/muckwatch/alerts.jsonl

say() { printf 'install: %s\n' "$*"; }
die() { printf 'install: error: %s\n' "$*" >&2; exit 1; }
# run CMD...: runs it, or prints it under --dry-run.
run() {
  if [[ $DRY == yes ]]; then
    local a out=
    for a in "$@"; do
      if [[ $a =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then out+=" $a"; else out+=" '${a//\'/\'\\\'\'}'"; fi
    done
    printf '[dry-run]%s\n' "$out"
  else
    "$@"
  fi
}
dry_note() { printf '[dry-run] %s\n' "$*"; }
systemd_running() { [[ -z $DESTDIR && -d /run/systemd/system ]]; }

if [[ $DRY != yes && $(id -u) -ne 0 ]]; then
  die "run as root (or try --dry-run)"
fi
[[ $DRY == yes ]] && say "dry run: nothing will be changed"
[[ -n $DESTDIR ]] && say "staging into $DESTDIR"

# --- 1. Packages ------------------------------------------------------------------
if [[ $BUILD == yes ]]; then deps_args=(); else deps_args=(--no-swift); fi
run Deploy/setup-deps.sh "${deps_args[@]}"
if ! command -v logrotate >/dev/null 2>&1 && [[ ! -x /usr/sbin/logrotate ]]; then
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q logrotate
fi

# --- 2. Build ---------------------------------------------------------------------
if [[ $BUILD == yes ]]; then
  run swift build -c release --static-swift-stdlib
fi
for b in muckwatchd muckwatch; do
  if [[ ! -x .build/release/$b ]]; then
    if [[ $DRY == yes ]]; then
      if [[ $BUILD == yes ]]; then
        dry_note ".build/release/$b does not exist yet (the build above makes it)"
      else
        dry_note "would stop here: .build/release/$b not found (drop --no-build)"
      fi
    else
      die ".build/release/$b not found: build it (drop --no-build) first"
    fi
  elif ldd ".build/release/$b" 2>/dev/null | grep -q 'not found'; then
    die ".build/release/$b needs shared libraries this machine lacks (ldd says 'not found'); build with --static-swift-stdlib"
  fi
done

# --- 3. Binaries --------------------------------------------------------------------
run install -d -m 0755 "$BIN_DIR"
for b in muckwatchd muckwatch; do
  if [[ -f $BIN_DIR/$b ]] && cmp -s ".build/release/$b" "$BIN_DIR/$b"; then
    say "$BIN_DIR/$b is up to date"
  else
    # install(1) unlinks the old file first, so a running daemon is unaffected
    # until it is restarted.
    run install -m 0755 ".build/release/$b" "$BIN_DIR/$b"
    binaries_changed=yes
  fi
done

# --- 4. Group -------------------------------------------------------------------------
if getent group "$GROUP" >/dev/null; then
  say "group $GROUP exists"
elif [[ -n $DESTDIR ]]; then
  say "staging: not creating group $GROUP (create it on the target: groupadd --system $GROUP)"
else
  run groupadd --system "$GROUP"
fi
# chgrp_safe FILE: gives FILE to the group if the group exists (staging may lack it).
chgrp_safe() {
  if getent group "$GROUP" >/dev/null || [[ $DRY == yes ]]; then
    run chgrp "$GROUP" "$1"
  else
    say "warning: group $GROUP missing, $1 left in group root"
  fi
}

# --- 5. Broker user and password ---------------------------------------------------------
run install -d -m 0755 "$ETC_DIR" "$MOSQ_DIR"
broker_changed=no
have_user=no
have_pw=no
if [[ -f $MOSQ_PASSWD ]] && grep -q "^$BROKER_USER:" "$MOSQ_PASSWD"; then have_user=yes; fi
if [[ -s $PW_FILE ]]; then have_pw=yes; fi
# set_broker_password PASSWORD: adds or replaces the user (password via stdin,
# never on a command line).
set_broker_password() {
  local create=()
  [[ -f $MOSQ_PASSWD ]] || create=(-c)
  if [[ $DRY == yes ]]; then
    dry_note "mosquitto_passwd ${create[*]} $MOSQ_PASSWD $BROKER_USER  (password on stdin)"
  else
    printf '%s\n%s\n' "$1" "$1" | mosquitto_passwd "${create[@]}" "$MOSQ_PASSWD" "$BROKER_USER" >/dev/null
  fi
  # Hashes only, but nobody else needs them: the broker (group mosquitto) does.
  run chown root:mosquitto "$MOSQ_PASSWD"
  run chmod 0640 "$MOSQ_PASSWD"
  broker_changed=yes
}
if [[ $have_user == yes && $have_pw == yes ]]; then
  say "broker user $BROKER_USER and $PW_FILE exist"
elif [[ $have_pw == yes ]]; then
  say "adding broker user $BROKER_USER with the password already in $PW_FILE"
  set_broker_password "$(head -n 1 "$PW_FILE")"
else
  [[ $have_user == yes ]] && say "$PW_FILE is missing: giving broker user $BROKER_USER a new password"
  if [[ $DRY == yes ]]; then
    password='(random)'
    dry_note "generate a random 32-character password"
  else
    password=$(LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 32 || true)
    [[ ${#password} -eq 32 ]] || die "could not generate a password from /dev/urandom"
  fi
  set_broker_password "$password"
  if [[ $DRY == yes ]]; then
    dry_note "write the password to $PW_FILE (root:$GROUP 0640)"
  else
    (umask 0077 && printf '%s\n' "$password" >"$PW_FILE")
  fi
  chgrp_safe "$PW_FILE"
  run chmod 0640 "$PW_FILE"
  unset password
fi

# --- 6. Daemon config ----------------------------------------------------------------------
SITES=$(dirname "$CONFIG")/sites.geojson
if [[ -f $SITES ]]; then
  say "$SITES exists: left as it is"
else
  run install -m 0644 Deploy/sites.geojson "$SITES"   # example fences: replace with the city's sites
fi
if [[ -f $CONFIG ]]; then
  say "$CONFIG exists: left as it is"
else
  run install -m 0644 Deploy/muckwatch.example.yaml "$CONFIG"
  # Within each top-level section only (from its key to the next top-level key).
  run sed -i \
    -e "/^store:/,/^[^ #]/ s|^\([[:space:]]*path:\).*|\1 $DB_LIVE    # set by install.sh|" \
    -e "/^alerts:/,/^[^ #]/ s|^\([[:space:]]*log:\).*|\1 $ALERTS_LIVE    # set by install.sh; rotated by /etc/logrotate.d/muckwatch|" \
    -e "/^media:/,/^[^ #]/ s|^\([[:space:]]*roots:\).*|\1 [$MEDIA_LIVE]    # set by install.sh|" \
    -e "/^broker:/,/^[^ #]/ s|^\([[:space:]]*\)# *username:.*|\1username: $BROKER_USER    # set by install.sh|" \
    -e "/^broker:/,/^[^ #]/ s|^\([[:space:]]*\)# *password_file:.*|\1password_file: $PW_FILE_LIVE    # set by install.sh|" \
    "$CONFIG"
  if [[ $DRY != yes ]]; then
    for want in "path: $DB_LIVE" "log: $ALERTS_LIVE" "roots: [$MEDIA_LIVE]" "username: $BROKER_USER" "password_file: $PW_FILE_LIVE"; do
      grep -q "^[[:space:]]*$want" "$CONFIG" \
        || say "warning: could not set '$want' in $CONFIG: the example's layout changed; edit it by hand"
    done
  fi
  # The config holds no secret (the password is in its own file); the
  # service's transient user must be able to read it.
  run chmod 0644 "$CONFIG"
fi

# --- 7. Broker config ------------------------------------------------------------------------
if [[ -f $MOSQ_CONF ]]; then
  say "$MOSQ_CONF exists: left as it is"
else
  run install -d -m 0755 "$MOSQ_DIR/conf.d"
  run install -m 0644 Deploy/mosquitto.conf "$MOSQ_CONF"
  # mosquitto refuses a second persistence_location ("Duplicate
  # persistence_location value"), and Debian's mosquitto.conf sets one.
  if [[ -f $MOSQ_DIR/mosquitto.conf ]] && grep -q '^[[:space:]]*persistence_location' "$MOSQ_DIR/mosquitto.conf"; then
    run sed -i 's|^persistence_location|# set in /etc/mosquitto/mosquitto.conf: persistence_location|' "$MOSQ_CONF"
  fi
  broker_changed=yes
fi

# --- 8. systemd and logrotate --------------------------------------------------------------------
# install_file SRC DEST: copies if different (ours to own: always the shipped version).
install_file() {
  if [[ -f $2 ]] && cmp -s "$1" "$2"; then
    say "$2 is up to date"
  else
    run install -D -m 0644 "$1" "$2"
    unit_changed=yes
  fi
}
install_file systemd/muckwatchd.service "$UNIT"
install_file Deploy/logrotate.muckwatch "$LOGROTATE"

# The config as the daemon will read it (not when staging: paths differ).
if [[ -z $DESTDIR ]]; then
  if [[ $DRY == yes ]]; then
    run "$BIN_DIR/muckwatch" check-config --config "$CONFIG"
  elif ! "$BIN_DIR/muckwatch" check-config --config "$CONFIG" >/dev/null; then
    say "warning: $CONFIG does not pass 'muckwatch check-config' (the reason is above): fix it before starting muckwatchd"
  fi
fi

if systemd_running; then
  run systemctl daemon-reload
  if [[ $broker_changed == yes ]]; then
    say "restarting mosquitto to load the new user/config"
    run systemctl restart mosquitto.service
  fi
else
  say "systemd is not running here (or staging): skipped 'systemctl daemon-reload'"
  if [[ $broker_changed == yes ]]; then
    say "restart mosquitto yourself to load the new broker user/config"
  fi
fi

if [[ $DRY == yes ]]; then done_msg="Dry run finished: nothing was changed."; else done_msg="Muckwatch is installed."; fi
cat <<EOF

$done_msg Next steps:
  1. Review $CONFIG (registry of trucks, sites, cameras; rule thresholds)
     and check it:   muckwatch check-config --config /etc/muckwatch/muckwatch.yaml
  2. Start it now and at boot:
       systemctl enable --now muckwatchd
  3. Watch it:
       systemctl status muckwatchd
       journalctl -u muckwatchd -f
       tail -F $ALERTS_LIVE
  Devices publish to the broker on 127.0.0.1:1883 with their own users:
       mosquitto_passwd /etc/mosquitto/passwd DEVICE-USER && systemctl reload mosquitto
EOF
if [[ ${binaries_changed:-no} == yes || ${unit_changed:-no} == yes ]]; then
  echo "  If muckwatchd was already running: systemctl restart muckwatchd"
fi
