#!/usr/bin/env bash
# npm run bench:gateway: starts the infrastructure if needed, builds, and benchmarks the crypto
# gateway against direct pkcs11js calls measured in the same run. Results: .cache/bench/gateway.{json,md}.
# BENCH_SECONDS sets the length of each run (default 5).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export NX_DAEMON=false NX_NO_CLOUD=true
bash tools/setup/node-deps.sh >/dev/null
# shellcheck source=../infra/env.sh
. tools/infra/env.sh
npx nx run-many -t build --outputStyle=static >"$CACHE/build.log" 2>&1 || { cat "$CACHE/build.log"; exit 1; }
export SWC_NODE_PROJECT="$root/tsconfig.json" BENCH_OUT="$CACHE/bench" UV_THREADPOOL_SIZE=64
node -r @swc-node/register apps/crypto-gateway/src/bench/gateway.bench.ts
