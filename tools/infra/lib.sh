#!/usr/bin/env bash
# Shared helpers of the infrastructure scripts. Sourced, not run.
# Everything the scripts download or generate lives under $CACHE (git-ignored).

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${KEYFLEET_CACHE:-$REPO_ROOT/.cache}"
INFRA_HOST=127.0.0.1
KAFKA_PORT="${KEYFLEET_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KEYFLEET_KAFKA_CONTROLLER_PORT:-9093}"
PG_PORT="${KEYFLEET_PG_PORT:-5432}"
mkdir -p "$CACHE"

say() { printf '[%s] %s\n' "${LOG_TAG:-infra}" "$*"; }
die() { printf '[infra] error: %s\n' "$*" >&2; exit 1; }

# port_open HOST PORT: true when something accepts TCP connections there.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# wait_for_port HOST PORT SECONDS
wait_for_port() {
  local deadline=$((SECONDS + $3))
  until port_open "$1" "$2"; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}

# apt_install PKG...: installs Debian packages that are missing. Debian's maintainer
# scripts would start services right away (e.g. a postgres cluster on 5432); a temporary
# policy-rc.d forbids that, since keyfleet runs its own private instances.
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "packages ${missing[*]} are missing and installing them needs root"
  say "installing Debian packages: ${missing[*]}"
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
  fi
  local rc=0
  {
    DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  } || rc=$?
  [ "$created_policy" = 1 ] && rm -f "$policy"
  [ "$rc" = 0 ] || die "apt-get install ${missing[*]} failed (exit $rc)"
}
