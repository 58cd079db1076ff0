#!/usr/bin/env bash
# Sourced by the entry points (tests, bench, platform): brings the infrastructure up
# (idempotent, about 0.1 s when it already runs) and exports its settings from
# $CACHE/infra.env: KAFKA_BROKERS, DATABASE_URL, SOFTHSM2_CONF, PKCS11_MODULE.
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash "$(dirname "${BASH_SOURCE[0]}")/up.sh"
set -a
# shellcheck disable=SC1091
. "$CACHE/infra.env"
set +a
