#!/usr/bin/env bash
# The one test command (README, .ci/run): installs what is missing, starts the real
# infrastructure (Kafka, PostgreSQL, SoftHSM2), then type-checks, lints, runs the unit
# tests, builds and runs the integration tests against that infrastructure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export NX_DAEMON=false NX_NO_CLOUD=true NX_SKIP_NX_CACHE="${NX_SKIP_NX_CACHE:-false}"

reports="$root/.cache/test-reports"
rm -rf "$reports" && mkdir -p "$reports"
stage() { printf '\n[test] === %s ===\n' "$*"; }

stage "dependencies"
bash tools/setup/node-deps.sh
stage "infrastructure"
# shellcheck source=../infra/env.sh
. tools/infra/env.sh

stage "type check"
npx tsc -p tsconfig.json --noEmit
stage "lint (module boundaries, zero warnings)"
# The boundary rule reads Nx's cached project graph; on a fresh clone there is none and the
# rule would silently skip, so compute it first.
npx nx show projects >/dev/null
npx eslint --max-warnings 0 .
stage "unit tests"
unit_rc=0
npx jest -c jest.config.ts --ci --json --outputFile="$reports/unit.json" || unit_rc=$?
stage "build"
npx nx run-many -t build --outputStyle=static
stage "integration tests (real Kafka, PostgreSQL, SoftHSM2)"
int_rc=0
npx jest -c jest.integration.config.ts --ci --json --outputFile="$reports/integration.json" || int_rc=$?

stage "summary"
node tools/test/summary.mjs "$reports/unit.json" "$reports/integration.json"
[ "$unit_rc" = 0 ] && [ "$int_rc" = 0 ]
