#!/usr/bin/env bash
# Node flags of the apps, sourced by the local platform (apps.sh) and the gateway benchmark, so
# both run the gateway as it ships. Sourced, not run. Set a variable to override it, empty for none.
#
# crypto-gateway: --single-threaded-gc, V8 collects garbage on the main thread alone. By default
# its scavenges and marking hand work to helper threads and the main thread waits for them; on a
# host whose few CPUs the gateway's own threads (PKCS#11 workers, the Kafka publisher) and its
# callers keep busy, those helpers wait for a CPU and so does every request. Measured on 2 vCPUs
# (docs/crypto-gateway.md, 2026-12-03): +7% unary AES calls/s, +5-18% batch items/s, less CPU in
# all. On a large dedicated host, where helpers find idle CPUs, parallel GC may pause less: measure
# with npm run bench:gateway and GATEWAY_NODE_ARGS= before dropping it.
: "${GATEWAY_NODE_ARGS=--single-threaded-gc}"
export GATEWAY_NODE_ARGS

# The flags of one app (word-split by the caller on purpose).
app_node_args() {
  case "$1" in
    crypto-gateway) echo "$GATEWAY_NODE_ARGS" ;;
  esac
}
