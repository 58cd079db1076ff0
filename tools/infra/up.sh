#!/usr/bin/env bash
# Installs what is missing and starts keyfleet's local infrastructure: SoftHSM2, a private
# PostgreSQL and a single-node Kafka. Idempotent: a second run only checks. Writes the
# connection settings to .cache/infra.env for apps, tests and benchmarks.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
here="$(dirname "${BASH_SOURCE[0]}")"

bash "$here/softhsm.sh" setup
# Postgres and Kafka start in parallel: Kafka's JVM start-up dominates.
bash "$here/postgres.sh" start &
pg=$!
kafka_rc=0
bash "$here/kafka.sh" start || kafka_rc=$?
pg_rc=0
wait "$pg" || pg_rc=$?
[ "$pg_rc" = 0 ] || die "postgres failed to start"
[ "$kafka_rc" = 0 ] || die "kafka failed to start"

env_file="$CACHE/infra.env"
(
  umask 077
  cat >"$env_file" <<ENV
KAFKA_BROKERS=$INFRA_HOST:$KAFKA_PORT
DATABASE_URL=postgres://keyfleet:$(cat "$CACHE/secrets/pg-password")@$INFRA_HOST:$PG_PORT/keyfleet
SOFTHSM2_CONF=$CACHE/softhsm/softhsm2.conf
PKCS11_MODULE=/usr/lib/softhsm/libsofthsm2.so
ENV
)
say "infrastructure up; settings in $env_file"
