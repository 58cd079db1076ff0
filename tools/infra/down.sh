#!/usr/bin/env bash
# Stops keyfleet's local Kafka and PostgreSQL (in parallel). Their data stays in the cache
# for the next `up`. SoftHSM2 has no process to stop.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

bash "$here/cloudhsm-local.sh" stop
bash "$here/postgres.sh" stop &
pg_job=$!
kafka_rc=0
bash "$here/kafka.sh" stop || kafka_rc=$?
pg_rc=0
wait "$pg_job" || pg_rc=$?
if [ "$pg_rc" != 0 ] || [ "$kafka_rc" != 0 ]; then die "could not stop everything (see the messages above)"; fi
say "infrastructure down"
