#!/usr/bin/env bash
# One line per component; exits non-zero when any of them is down.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rc=0
bash "$here/softhsm.sh" status || rc=1
bash "$here/postgres.sh" status || rc=1
bash "$here/kafka.sh" status || rc=1
bash "$here/cloudhsm-local.sh" status || rc=1
exit "$rc"
