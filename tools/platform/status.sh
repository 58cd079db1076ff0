#!/usr/bin/env bash
# npm run status: infrastructure and apps, one line each; non-zero exit when anything is down.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=apps.sh
. "$here/apps.sh"
rc=0
bash "$REPO_ROOT/tools/infra/status.sh" || rc=1
for entry in "${PLATFORM_APPS[@]}"; do
  name="${entry%%:*}" port="${entry##*:}"
  if app_healthy "$name" "$port"; then say "$name: healthy on $INFRA_HOST:$port"; else say "$name: down"; rc=1; fi
done
exit "$rc"
