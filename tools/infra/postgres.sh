#!/usr/bin/env bash
# PostgreSQL from Debian's packages, as a private cluster in the cache folder (never the
# system's own cluster): 127.0.0.1 only, role and database `keyfleet`.
# Usage: postgres.sh start|stop|status
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DIR="$CACHE/postgres"
DATA="$DIR/data"
SOCKETS="$DIR/run"
PASSWORD_FILE="$CACHE/secrets/pg-password"

pg_bin() {
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$bin" ] && [ -x "$bin/postgres" ] && echo "$bin"
}

# The server refuses to run as root: run its tools as the `postgres` OS user when root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

ensure_installed() {
  pg_bin >/dev/null || apt_install postgresql
  pg_bin >/dev/null || die "PostgreSQL server binaries not found after installing"
}

ensure_password() {
  mkdir -p "$(dirname "$PASSWORD_FILE")"
  chmod 700 "$(dirname "$PASSWORD_FILE")"
  if [ ! -s "$PASSWORD_FILE" ]; then
    (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$PASSWORD_FILE")
  fi
}

init_cluster() {
  [ -f "$DATA/PG_VERSION" ] && return 0
  local bin
  bin="$(pg_bin)"
  say "postgres: creating a private cluster in $DATA"
  mkdir -p "$DATA" "$SOCKETS"
  [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$DIR"
  chmod 700 "$DATA"
  ensure_password
  local pwfile="$DIR/.initdb-pw"
  # The superuser gets the same generated password; it is only reachable on loopback.
  install -m 600 "$PASSWORD_FILE" "$pwfile"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$pwfile"
  as_owner "$bin/initdb" -D "$DATA" -U postgres --pwfile="$pwfile" -A scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 ||
    { rm -f "$pwfile"; die "initdb failed: see $DIR/initdb.log"; }
  rm -f "$pwfile"
  cat >>"$DATA/postgresql.conf" <<CONF
# keyfleet: local and test settings
listen_addresses = '$INFRA_HOST'
port = $PG_PORT
unix_socket_directories = '$SOCKETS'
max_connections = 200
shared_buffers = 128MB
log_min_messages = warning
CONF
  cat >"$DATA/pg_hba.conf" <<HBA
local all all scram-sha-256
host  all all 127.0.0.1/32 scram-sha-256
HBA
}

running() { [ -f "$DATA/postmaster.pid" ] && as_owner "$(pg_bin)/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

psql_admin() {
  PGPASSWORD="$(cat "$PASSWORD_FILE")" "$(pg_bin)/psql" -h "$INFRA_HOST" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"
}

ensure_role_and_db() {
  local password
  password="$(cat "$PASSWORD_FILE")"
  if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'keyfleet'")" != 1 ]; then
    psql_admin -c "CREATE ROLE keyfleet LOGIN CREATEDB PASSWORD '$password'" >/dev/null
  fi
  if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'keyfleet'")" != 1 ]; then
    psql_admin -c "CREATE DATABASE keyfleet OWNER keyfleet" >/dev/null
  fi
}

free_port_from_debian_cluster() {
  port_open "$INFRA_HOST" "$PG_PORT" || return 0
  # On a fresh machine the package install may have started Debian's own cluster on 5432.
  if command -v pg_lsclusters >/dev/null; then
    local line
    line="$(pg_lsclusters --no-header 2>/dev/null | awk -v p="$PG_PORT" '$3 == p && $4 == "online" {print $1" "$2}' | head -n 1)"
    if [ -n "$line" ]; then
      say "postgres: stopping Debian's cluster $line, which holds port $PG_PORT"
      # shellcheck disable=SC2086
      pg_ctlcluster $line stop
      return 0
    fi
  fi
  die "port $PG_PORT is taken by another server: stop it or set KEYFLEET_PG_PORT"
}

start() {
  ensure_installed
  if running; then
    ensure_role_and_db
    say "postgres: running on $INFRA_HOST:$PG_PORT"
    return 0
  fi
  free_port_from_debian_cluster
  init_cluster
  ensure_password
  local t0=$SECONDS
  as_owner "$(pg_bin)/pg_ctl" -D "$DATA" -l "$DIR/postgres.log" -w -t 60 start >/dev/null ||
    die "postgres did not start: see $DIR/postgres.log"
  ensure_role_and_db
  say "postgres: started on $INFRA_HOST:$PG_PORT in $((SECONDS - t0)) s"
}

stop() {
  if ! pg_bin >/dev/null || ! running; then say "postgres: not running"; return 0; fi
  as_owner "$(pg_bin)/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
  say "postgres: stopped (data kept in $DATA)"
}

status() {
  if pg_bin >/dev/null && running && port_open "$INFRA_HOST" "$PG_PORT"; then
    say "postgres: up on $INFRA_HOST:$PG_PORT"
  else
    say "postgres: down"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
