#!/usr/bin/env bash
# npm run bench: starts the infrastructure if needed and runs the benchmarks; results go to
# .cache/bench/ (JSON and Markdown): messaging.*, then gateway.* (npm run bench:gateway).
# BENCH_EVENTS sets the number of messaging events (default 20000).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
bash tools/setup/node-deps.sh >/dev/null
# shellcheck source=../infra/env.sh
. tools/infra/env.sh
export SWC_NODE_PROJECT="$root/tsconfig.json" BENCH_OUT="$CACHE/bench"
node -r @swc-node/register libs/messaging/src/bench/messaging.bench.ts
bash tools/bench/gateway.sh
