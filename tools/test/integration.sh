#!/usr/bin/env bash
# Runs integration specs (all, or those matching the arguments) against the real
# infrastructure, starting it first if needed. Example: npm run test:integration -- libs/messaging
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
bash tools/setup/node-deps.sh >/dev/null
# shellcheck source=../infra/env.sh
. tools/infra/env.sh
exec npx jest -c jest.integration.config.ts "$@"
