#!/usr/bin/env bash
# npm run bench:worker-batch: a design probe (not part of npm run bench): AES-GCM batches with
# C_EncryptInit on the main thread against whole batches on worker threads, in one process.
# Starts the infrastructure if needed. Results: .cache/bench/worker-batch.{json,md}.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
bash tools/setup/node-deps.sh >/dev/null
# shellcheck source=../infra/env.sh
. tools/infra/env.sh
export SWC_NODE_PROJECT="$root/tsconfig.json" BENCH_OUT="$CACHE/bench" UV_THREADPOOL_SIZE=64
node -r @swc-node/register apps/crypto-gateway/src/bench/worker-batch.bench.ts
