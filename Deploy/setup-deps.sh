#!/usr/bin/env bash
# Installs the Debian 12 packages Muckwatch needs to build and run, if any is
# missing. Idempotent: does nothing (and never runs apt-get) when all are
# present. Uses sudo only when not running as root. Non-interactive.
#
# Debian's mosquitto package may start a system broker on 127.0.0.1:1883 via
# systemd; that is fine: the demo and the tests never use port 1883.
#
# Usage: Deploy/setup-deps.sh [--no-swift]
#   --no-swift   do not require a Swift toolchain (a server that only runs
#                binaries built elsewhere; used by `install.sh --no-build`)
set -euo pipefail

require_swift=yes
for arg in "$@"; do
  case $arg in
    --no-swift) require_swift=no ;;
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    *) printf 'setup-deps: unknown option %s (try --help)\n' "$arg" >&2; exit 2 ;;
  esac
done

PACKAGES=(
  libmosquitto-dev mosquitto mosquitto-clients
  libsqlite3-dev pkg-config libsimdjson-dev
  ffmpeg libavformat-dev libavcodec-dev libavutil-dev
  python3 python3-seccomp time openssl
)

log() { printf 'setup-deps: %s\n' "$*" >&2; }

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -eq 0 ]]; then
    SUDO=()
  elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    log "missing packages (${missing[*]}) and not root, and sudo is not installed: run this script as root"
    exit 1
  fi
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    --no-install-recommends "${missing[@]}"
else
  log "all ${#PACKAGES[@]} packages present"
fi

[[ $require_swift == yes ]] || exit 0
if ! command -v swift >/dev/null 2>&1; then
  log "error: 'swift' is not on PATH. A Swift 6 toolchain is required (https://www.swift.org/install/linux/); install it (e.g. under /opt/swift) and add its usr/bin to PATH."
  exit 1
fi
swift_version=$(swift --version 2>&1 | sed -n 's/.*Swift version \([0-9][0-9]*\)\..*/\1/p' | head -n1)
if [[ -z "$swift_version" || "$swift_version" -lt 6 ]]; then
  log "error: a Swift 6 toolchain is required; 'swift --version' says: $(swift --version 2>&1 | head -n1)"
  exit 1
fi
