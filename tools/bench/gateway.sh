#!/usr/bin/env bash
# npm run bench:gateway: starts the infrastructure if needed, builds, installs the load
# generator (ghz, a gRPC benchmarking tool in Go, pinned) into the cache, and benchmarks the
# crypto gateway against direct pkcs11js calls measured in the same run.
# Results: .cache/bench/gateway.{json,md}.
# BENCH_SECONDS sets the length of each run (default 5); BENCH_ONLY=<name part> runs one
# operation; BENCH_GATEWAY_NODE_ARGS passes node flags to the gateway (e.g. --cpu-prof);
# GATEWAY_PKCS11_WORKERS and GATEWAY_PKCS11_WORKER_CALLS, when set, reach the gateway;
# GATEWAY_ALLOCATOR=glibc runs the gateway and the baseline without tcmalloc;
# BENCH_GHZ_SCHED=batch runs ghz under SCHED_BATCH (chrt), off by default; BENCH_CPUS=split runs the
# gateway's main thread alone on CPU 0 and its other threads and ghz on the others (taskset), off by default.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export NX_DAEMON=false NX_NO_CLOUD=true
bash tools/setup/node-deps.sh >/dev/null
# shellcheck source=../infra/env.sh
. tools/infra/env.sh
# GATEWAY_NODE_ARGS: the gateway's node flags as the platform starts it (tools/platform/node-args.sh).
# shellcheck source=../platform/node-args.sh
. tools/platform/node-args.sh
# GATEWAY_PRELOAD: the allocator the gateway preloads (GATEWAY_ALLOCATOR). The benchmark process
# preloads it too, so the baseline (SoftHSM2 straight through pkcs11js) and the gRPC ceiling run
# with the same allocator as the gateway: tcmalloc speeds SoftHSM2 up by itself.
GATEWAY_PRELOAD="$(gateway_preload)"
export GATEWAY_PRELOAD

# ghz through the Go module proxy, into the git-ignored cache; skipped when the binary there
# was already built from this version (go version -m reads the module version it embeds).
GHZ_VERSION=v0.120.0
GHZ="$CACHE/tools/bin/ghz"
if ! { [ -x "$GHZ" ] && go version -m "$GHZ" 2>/dev/null | grep -q "github.com/bojand/ghz[[:space:]]*$GHZ_VERSION"; }; then
  command -v go >/dev/null || { echo "[bench] go is needed to install ghz $GHZ_VERSION" >&2; exit 1; }
  echo "[bench] installing ghz $GHZ_VERSION into $CACHE/tools/bin"
  GOBIN="$CACHE/tools/bin" GOPATH="$CACHE/go" GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOFLAGS=-modcacherw \
    go install "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION" >"$CACHE/ghz-install.log" 2>&1 || { cat "$CACHE/ghz-install.log"; exit 1; }
fi

npx nx run-many -t build --outputStyle=static >"$CACHE/build.log" 2>&1 || { cat "$CACHE/build.log"; exit 1; }
export SWC_NODE_PROJECT="$root/tsconfig.json" BENCH_OUT="$CACHE/bench" UV_THREADPOOL_SIZE=64 BENCH_GHZ="$GHZ"
LD_PRELOAD="$GATEWAY_PRELOAD" node -r @swc-node/register apps/crypto-gateway/src/bench/gateway.bench.ts
