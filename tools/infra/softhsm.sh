#!/usr/bin/env bash
# SoftHSM2 from Debian's packages, with keyfleet's own configuration and token folder in
# the cache (the system-wide /etc/softhsm is never used).
# Usage: softhsm.sh setup|status
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MODULE=/usr/lib/softhsm/libsofthsm2.so
DIR="$CACHE/softhsm"
CONF="$DIR/softhsm2.conf"

setup() {
  [ -f "$MODULE" ] && command -v softhsm2-util >/dev/null || apt_install softhsm2
  [ -f "$MODULE" ] || die "$MODULE missing after installing softhsm2"
  mkdir -p "$DIR/tokens"
  chmod 700 "$DIR/tokens"
  cat >"$CONF" <<CONF
# keyfleet's SoftHSM2 configuration (tools/infra/softhsm.sh)
directories.tokendir = $DIR/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
  say "softhsm2: ready ($MODULE, SOFTHSM2_CONF=$CONF)"
}

status() {
  if [ -f "$MODULE" ] && [ -f "$CONF" ] && SOFTHSM2_CONF="$CONF" softhsm2-util --show-slots >/dev/null 2>&1; then
    say "softhsm2: ready ($(SOFTHSM2_CONF="$CONF" softhsm2-util --show-slots | grep -c '^Slot ') slots)"
  else
    say "softhsm2: not set up"
    return 1
  fi
}

case "${1:-}" in
  setup) setup ;;
  status) status ;;
  *) echo "usage: $0 setup|status" >&2; exit 2 ;;
esac
