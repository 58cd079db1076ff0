#!/usr/bin/env bash
# Installs what is missing and starts keyfleet's local infrastructure: SoftHSM2, a private
# PostgreSQL, a single-node Kafka and cloudhsm-local (the AWS stand-in), then writes the connection settings that apps, tests
# and benchmarks source to $CACHE/infra.env (mode 600: it holds the database password).
# Idempotent: when everything already runs, it only checks (well under a second).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
t0="$(now_ms)"

# SoftHSM first: it may apt-install, and two apt runs at once would contend for the dpkg lock
# (postgres.sh may also install).
bash "$here/softhsm.sh" setup
# The crypto gateway's allocator (tools/platform/node-args.sh), also before the parallel part.
apt_install libtcmalloc-minimal4

# PostgreSQL and Kafka in parallel: Kafka's JVM start-up dominates, PostgreSQL fits inside it.
# Each script prints its own progress and errors; here only the exit codes are collected.
bash "$here/postgres.sh" start &
pg_job=$!
kafka_rc=0
bash "$here/kafka.sh" start || kafka_rc=$?
pg_rc=0
wait "$pg_job" || pg_rc=$?
failed=()
[ "$pg_rc" = 0 ] || failed+=(postgres)
[ "$kafka_rc" = 0 ] || failed+=(kafka)
[ "${#failed[@]}" -eq 0 ] || die "could not start: ${failed[*]} (see the messages above)"

# cloudhsm-local (the AWS stand-in) last: it mirrors users and keys into SoftHSM2.
bash "$here/cloudhsm-local.sh" start

# Written atomically (temporary file + rename), so a reader never sees half a file.
env_file="$CACHE/infra.env"
(
  umask 077
  cat >"$env_file.tmp" <<ENV
KAFKA_BROKERS=$INFRA_HOST:$KAFKA_PORT
DATABASE_URL=postgres://keyfleet:$(cat "$CACHE/secrets/pg-password")@$INFRA_HOST:$PG_PORT/keyfleet
SOFTHSM2_CONF=$CACHE/softhsm/softhsm2.conf
PKCS11_MODULE=/usr/lib/softhsm/libsofthsm2.so
CLOUDHSM_LOCAL_ENDPOINT=http://$INFRA_HOST:${KEYFLEET_CLOUDHSM_LOCAL_PORT:-4510}
ENV
  chmod 600 "$env_file.tmp"
  mv -f "$env_file.tmp" "$env_file"
)
say "infrastructure up in $(since "$t0"); settings in $env_file"
