#!/usr/bin/env bash
# npm run down: stops every app (SIGTERM, graceful), then Kafka and PostgreSQL. Data stays in .cache.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=apps.sh
. "$here/apps.sh"
for entry in "${PLATFORM_APPS[@]}"; do
  name="${entry%%:*}"
  if pid="$(app_pid "$name")"; then
    kill -TERM "$pid"
    deadline=$((SECONDS + 25))
    while kill -0 "$pid" 2>/dev/null; do
      [ "$SECONDS" -ge "$deadline" ] && { kill -KILL "$pid"; say "$name: killed after 25 s"; }
      sleep 0.2
    done
    say "$name: stopped"
  fi
  rm -f "$RUN_DIR/$name.pid"
done
bash "$REPO_ROOT/tools/infra/down.sh"
