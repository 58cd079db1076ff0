#!/usr/bin/env bash
# Installs the workspace's npm dependencies exactly as locked (npm ci), only when
# node_modules is missing or older than package-lock.json. Idempotent.
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

marker=node_modules/.package-lock.json
if [ -f "$marker" ] && [ "$marker" -nt package-lock.json ]; then
  echo "[setup] npm dependencies up to date"
  exit 0
fi
echo "[setup] installing npm dependencies (npm ci)"
npm ci --no-audit --no-fund --loglevel=error
touch "$marker"
