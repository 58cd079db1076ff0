#!/usr/bin/env bash
# Development PKI for the crypto gateway's mTLS: CA, server and client certificates in <dir>.
# Usage: tools/pki/dev-pki.sh <dir> [--client <name> ...]   (the platform uses .cache/pki)
# Idempotent: keeps what is valid, makes what is missing or expires within 30 days.
# See docs/crypto-gateway-security.md.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 <dir> [--client <name> ...]" >&2; exit 2; }
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# The directory is taken relative to where we were called from, before moving to the repo root.
case "$1" in /*) dir="$1" ;; *) dir="$PWD/$1" ;; esac
shift
cd "$root"
SWC_NODE_PROJECT=tsconfig.json exec node -r @swc-node/register tools/pki/dev-pki.ts "$dir" "$@"
