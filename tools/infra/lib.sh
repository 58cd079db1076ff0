#!/usr/bin/env bash
# Shared helpers of the infrastructure scripts (also used by tools/platform). Sourced, not run.
# Everything the scripts download or generate lives under $CACHE (git-ignored).

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${KEYFLEET_CACHE:-$REPO_ROOT/.cache}"
# shellcheck disable=SC2034 # used by the scripts that source this file
{
  INFRA_HOST=127.0.0.1
  KAFKA_PORT="${KEYFLEET_KAFKA_PORT:-9092}"
  KAFKA_CONTROLLER_PORT="${KEYFLEET_KAFKA_CONTROLLER_PORT:-9093}"
  PG_PORT="${KEYFLEET_PG_PORT:-5432}"
}
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd)" # absolute: it ends up in config files and infra.env

# Progress and errors: one short line each, prefixed with the caller's tag.
say() { printf '[%s] %s\n' "${LOG_TAG:-infra}" "$*"; }
die() { printf '[%s] error: %s\n' "${LOG_TAG:-infra}" "$*" >&2; exit 1; }

# Wall-clock milliseconds, for "started in 4.2 s" messages.
now_ms() { local t="${EPOCHREALTIME//[.,]/}"; echo "${t:0:-3}"; }
since() { local ms=$(($(now_ms) - $1)); printf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100)); }

# port_open HOST PORT: true when something accepts TCP connections there.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# wait_for_port HOST PORT TIMEOUT_SECONDS: true once the port accepts connections.
wait_for_port() {
  local deadline=$((SECONDS + $3))
  until port_open "$1" "$2"; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}

# port_listener PORT: "pid=<pid> <command line>" of the process listening on PORT (any
# address), empty when none. Uses ss rather than connecting: a listener on 0.0.0.0 or ::
# also blocks 127.0.0.1, and a bare connect makes PostgreSQL log "incomplete startup packet".
port_listener() {
  local line pid
  line="$(ss -Hltnp "sport = :$1" 2>/dev/null | head -n 1)"
  if [ -z "$line" ]; then
    # ss missing or found nothing: fall back to a connect on our host.
    port_open "$INFRA_HOST" "$1" && echo "pid=? (unknown process)"
    return 0
  fi
  pid="$(grep -o 'pid=[0-9]*' <<<"$line" | head -n 1 | cut -d= -f2)"
  if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ]; then
    echo "pid=$pid $(tr '\0' ' ' <"/proc/$pid/cmdline" | cut -c1-160 | sed 's/ *$//')"
  else
    echo "pid=? (a process of another user)"
  fi
}

# lock NAME: serialises concurrent runs of one component (e.g. two test runners calling
# up.sh at once). The lock is held on fd 9 until the script exits. Daemons are started
# through EXEC_CLEAN (below), so they do not keep it for their lifetime.
lock() {
  exec 9>"$CACHE/.$1.lock"
  flock -w 300 9 || die "$1: another run holds $CACHE/.$1.lock for more than 5 minutes"
}

# `bash -c "$EXEC_CLEAN" NAME CMD...` runs CMD with every file descriptor above 2 closed.
# Daemons (broker, postmaster) must not inherit our lock or a pipe of whoever called us
# (a test runner waiting for EOF on a pipe would otherwise wait for the daemon's lifetime).
# shellcheck disable=SC2016,SC2034 # expanded by the inner bash; used by the callers
EXEC_CLEAN='for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; exec "$@"'

# apt_install PKG...: installs the missing Debian packages, non-interactively and without
# recommends. Needs root. `apt-get update` runs at most once per call: first when the
# package lists are missing or older than a day, otherwise only if the install fails (stale
# lists point at files the mirror no longer has).
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "Debian packages ${missing[*]} are missing; install them as root: apt-get install ${missing[*]}"
  say "installing Debian packages: ${missing[*]}"
  local log="$CACHE/apt.log"
  printf '\n=== %s apt_install %s\n' "$(date -Is)" "${missing[*]}" >>"$log"
  # The subshell confines the EXIT trap: the policy file is removed on every way out.
  local rc=0
  (
    set -euo pipefail
    # Debian's maintainer scripts start services right away (postgresql would start its
    # `main` cluster on 5432). A policy-rc.d that exits 101 forbids that; keyfleet runs its
    # own private instances. An existing policy that already forbids starts is left as is;
    # any other one is set aside and put back afterwards.
    policy=/usr/sbin/policy-rc.d backup=/usr/sbin/policy-rc.d.keyfleet-saved
    if [ -x "$policy" ] && { "$policy" x start >/dev/null 2>&1; [ $? -eq 101 ]; }; then
      :
    else
      [ -e "$policy" ] && mv -f "$policy" "$backup"
      trap 'rm -f "$policy"; if [ -e "$backup" ]; then mv -f "$backup" "$policy"; fi' EXIT
      trap 'exit 130' INT TERM
      printf '#!/bin/sh\n# temporary, from keyfleet tools/infra/lib.sh apt_install\nexit 101\n' >"$policy"
      chmod 755 "$policy"
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt_opts=(-y -qq --no-install-recommends -o DPkg::Lock::Timeout=300)
    lists_fresh() { [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 -print -quit 2>/dev/null)" ]; }
    quiet_apt() { apt-get "$@" >>"$log" 2>&1; } # the chatter goes to the log, shown on failure
    updated=0
    if ! lists_fresh; then
      quiet_apt update -qq -o DPkg::Lock::Timeout=300 && updated=1
    fi
    if ! quiet_apt install "${apt_opts[@]}" "${missing[@]}"; then
      [ "$updated" = 1 ] && exit 1
      say "apt-get install failed; updating the package lists and retrying"
      quiet_apt update -qq -o DPkg::Lock::Timeout=300
      quiet_apt install "${apt_opts[@]}" "${missing[@]}"
    fi
  ) || rc=$?
  if [ "$rc" != 0 ]; then
    tail -n 15 "$log" | sed 's/^/    /' >&2
    die "apt-get install ${missing[*]} failed (exit $rc): see $log"
  fi
  say "installed ${missing[*]}"
}
