#!/usr/bin/env bash
# cloudhsm-local, keyfleet's stand-in for AWS (CloudHSMv2, KMS import, Secrets Manager,
# cloudhsm-cli) over SoftHSM2, as local infrastructure: built from this workspace, state in
# $CACHE/cloudhsm-local, crypto users' tokens in the project's SoftHSM2, and a demo estate
# (an ACTIVE hsm1.medium FIPS cluster with users and keys) seeded on first start.
# Usage: cloudhsm-local.sh start|stop|status
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${KEYFLEET_CLOUDHSM_LOCAL_PORT:-4510}"
RUN_DIR="$CACHE/platform"
PIDFILE="$RUN_DIR/cloudhsm-local.pid"
LOG="$RUN_DIR/logs/cloudhsm-local.log"
ENTRY="$REPO_ROOT/dist/apps/cloudhsm-local/src/main.js"

running_pid() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && cat "$PIDFILE"; }
healthy() { curl -fsS --max-time 2 "http://$INFRA_HOST:$PORT/health" >/dev/null 2>&1; }

start() {
  command -v curl >/dev/null || apt_install curl
  if running_pid >/dev/null && healthy; then say "cloudhsm-local: running on $INFRA_HOST:$PORT"; return 0; fi
  if ! running_pid >/dev/null && port_open "$INFRA_HOST" "$PORT"; then
    die "cloudhsm-local: port $PORT is taken by another process: stop it or set KEYFLEET_CLOUDHSM_LOCAL_PORT"
  fi
  local t0
  t0="$(now_ms)"
  bash "$REPO_ROOT/tools/setup/node-deps.sh" >/dev/null
  (cd "$REPO_ROOT" && NX_DAEMON=false NX_NO_CLOUD=true npx nx run cloudhsm-local:build --outputStyle=static >"$CACHE/cloudhsm-local-build.log" 2>&1) ||
    die "cloudhsm-local: build failed: see $CACHE/cloudhsm-local-build.log"
  mkdir -p "$RUN_DIR/logs"
  if pid="$(running_pid)"; then kill -TERM "$pid" || true; sleep 1; fi
  HTTP_PORT="$PORT" CLOUDHSM_LOCAL_DATA_DIR="$CACHE/cloudhsm-local" CLOUDHSM_LOCAL_DEMO_ESTATE="${CLOUDHSM_LOCAL_DEMO_ESTATE:-us-east-1}" \
    CLOUDHSM_LOCAL_SOFTHSM=on SOFTHSM2_CONF="$CACHE/softhsm/softhsm2.conf" CLOUDHSM_LOCAL_LOGIN_DIR="$CACHE/softhsm/logins" \
    setsid node "$ENTRY" >>"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local deadline=$((SECONDS + 60))
  until healthy; do
    running_pid >/dev/null || { tail -n 20 "$LOG" >&2; die "cloudhsm-local exited during start-up (log: $LOG)"; }
    [ "$SECONDS" -ge "$deadline" ] && die "cloudhsm-local not healthy within 60 s (log: $LOG)"
    sleep 0.3
  done
  say "cloudhsm-local: started on $INFRA_HOST:$PORT in $(since "$t0"); demo estate $(curl -fsS "http://$INFRA_HOST:$PORT/admin/estate" | sed -n 's/.*"clusterId":"\([^"]*\)".*/\1/p')"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then say "cloudhsm-local: not running"; rm -f "$PIDFILE"; return 0; fi
  kill -TERM "$pid"
  local deadline=$((SECONDS + 25))
  while kill -0 "$pid" 2>/dev/null; do
    [ "$SECONDS" -ge "$deadline" ] && { kill -KILL "$pid"; break; }
    sleep 0.2
  done
  rm -f "$PIDFILE"
  say "cloudhsm-local: stopped (state kept in $CACHE/cloudhsm-local)"
}

status() {
  if running_pid >/dev/null && healthy; then say "cloudhsm-local: up on $INFRA_HOST:$PORT"; else say "cloudhsm-local: down"; return 1; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
