#!/usr/bin/env bash
# Builds the crypto gateway of another commit for a back-to-back comparison, and prints the path
# of its entry point for BENCH_GATEWAY_MAIN:
#   BENCH_GATEWAY_MAIN=$(bash tools/bench/build-rev.sh 740f430) BENCH_ONLY="AES-256-GCM encrypt" npm run bench:gateway
# The commit is checked out as a detached git worktree under .cache/ab/<commit> (inside the
# repository, so that its build resolves this checkout's node_modules) and built once; a second
# call for the same commit only prints the path. `git worktree remove --force <dir>` drops it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
[ $# -eq 1 ] || { echo "usage: bash tools/bench/build-rev.sh <commit>" >&2; exit 2; }
rev="$(git rev-parse --verify --quiet "$1^{commit}")" || { echo "build-rev: '$1' is not a commit here" >&2; exit 2; }
dir="$root/.cache/ab/${rev:0:12}"
main="$dir/dist/apps/crypto-gateway/src/main.js"
if [ ! -f "$main" ]; then
  [ -d "$dir" ] || git worktree add --detach --force "$dir" "$rev" >/dev/null
  [ -e "$dir/node_modules" ] || ln -s "$root/node_modules" "$dir/node_modules"
  echo "[build-rev] building the crypto gateway of ${rev:0:12} in $dir" >&2
  (cd "$dir" && NX_DAEMON=false NX_NO_CLOUD=true npx nx run-many -t build --projects=crypto-gateway --outputStyle=static >"$dir.build.log" 2>&1) ||
    { tail -n 20 "$dir.build.log" >&2; echo "build-rev: the build failed; see $dir.build.log" >&2; exit 1; }
fi
echo "$main"
