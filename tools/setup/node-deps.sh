#!/usr/bin/env bash
# Installs the workspace's npm dependencies as locked, only when node_modules is missing or
# older than package-lock.json. Idempotent.
#
# `npm install` rather than `npm ci`: with this machine's npm 11 and its
# omit-lockfile-registry-resolved setting, the lock file leaves out the optional
# per-platform packages of native modules (@swc/core-darwin-*, ...), and `npm ci` then
# refuses the lock as out of sync. `npm install` with the lock present installs the locked
# versions and leaves the lock unchanged (checked on a clean clone).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "[setup] node and npm are required (Node 20): install them first" >&2
  exit 1
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
  echo "[setup] Node 20 or newer is required, found $(node -v)" >&2
  exit 1
fi

# One install at a time: `npm run infra:up` and a build started beside it both get here, and
# two npm installs into one node_modules corrupt it (seen: ENOTEMPTY, then dangling .bin links).
# The second waits for the first and then finds the dependencies up to date.
mkdir -p .cache
exec 9>.cache/node-deps.lock
flock 9

marker=node_modules/.package-lock.json
if [ -f "$marker" ] && [ "$marker" -nt package-lock.json ]; then
  echo "[setup] npm dependencies up to date"
  exit 0
fi
echo "[setup] installing npm dependencies (npm install from package-lock.json)"
npm install --no-audit --no-fund --loglevel=error
touch "$marker"
