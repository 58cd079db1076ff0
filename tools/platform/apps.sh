#!/usr/bin/env bash
# Shared by up.sh, down.sh and status.sh: which apps the local platform runs, and how.
# Sourced, not run.
# shellcheck source=../infra/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"
# shellcheck source=node-args.sh
. "$(dirname "${BASH_SOURCE[0]}")/node-args.sh"

RUN_DIR="$CACHE/platform"
LOG_TAG=platform
# name:port — the services the platform starts (cloudhsm-local, the AWS stand-in, is part of
# the infrastructure: tools/infra/cloudhsm-local.sh).
PLATFORM_APPS=(crypto-gateway:3100 key-service:3101 rotation-service:3102 migration-service:3103 audit-service:3104)

app_pid() {
  local file="$RUN_DIR/$1.pid"
  [ -f "$file" ] && kill -0 "$(cat "$file")" 2>/dev/null && cat "$file"
}

app_healthy() { curl -fsS --max-time 2 "http://$INFRA_HOST:$2/health" >/dev/null 2>&1; }
