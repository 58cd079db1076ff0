#!/usr/bin/env bash
# Stops keyfleet's local Kafka and PostgreSQL; their data stays in .cache for the next start.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
bash "$here/kafka.sh" stop
bash "$here/postgres.sh" stop
