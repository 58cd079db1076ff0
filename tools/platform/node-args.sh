#!/usr/bin/env bash
# How the apps are launched: their node flags and, for the crypto gateway, its C allocator.
# Sourced by the local platform (apps.sh), the gateway benchmark and the gateway's integration
# tests, so all run the gateway as it ships. Sourced, not run. Set a variable to override it.
#
# crypto-gateway: --single-threaded-gc, V8 collects garbage on the main thread alone. By default
# its scavenges and marking hand work to helper threads and the main thread waits for them; on a
# host whose few CPUs the gateway's own threads (PKCS#11 workers, the Kafka publisher) and its
# callers keep busy, those helpers wait for a CPU and so does every request. Measured on 2 vCPUs
# (docs/crypto-gateway.md, 2026-12-03): +7% unary AES calls/s, +5-18% batch items/s, less CPU in
# all. On a large dedicated host, where helpers find idle CPUs, parallel GC may pause less: measure
# with npm run bench:gateway and GATEWAY_NODE_ARGS= before dropping it. Empty for none.
: "${GATEWAY_NODE_ARGS=--single-threaded-gc}"
export GATEWAY_NODE_ARGS

# crypto-gateway: GATEWAY_ALLOCATOR=tcmalloc (the default) preloads gperftools' tcmalloc
# (Debian's libtcmalloc-minimal4, installed by tools/infra/up.sh) in place of glibc's malloc;
# GATEWAY_ALLOCATOR=glibc runs without it. The PKCS#11 library allocates on every call from many
# threads (the workers, libuv's pool) and frees on others; glibc's arenas then wait on each
# other's locks. Measured on 2 vCPUs (docs/crypto-gateway.md, 2026-12-06): +9% batch items/s and
# +6% unary calls/s for AES encrypt (5 back-to-back pairs), +15-16% for ECDSA P-256, and SoftHSM2
# called directly +18%. CloudHSM's PKCS#11 library is another C++ library allocating per call:
# measure on your host with npm run bench:gateway and GATEWAY_ALLOCATOR=glibc before changing it.
: "${GATEWAY_ALLOCATOR=tcmalloc}"
export GATEWAY_ALLOCATOR

# The flags of one app (word-split by the caller on purpose).
app_node_args() {
  case "$1" in
    crypto-gateway) echo "$GATEWAY_NODE_ARGS" ;;
  esac
}

# The shared library the gateway preloads (empty for glibc's malloc). Resolved when called, so
# it finds a library installed after this file was sourced; fails if the allocator is unknown
# or tcmalloc is asked for and missing, rather than start the gateway otherwise than it ships.
gateway_preload() {
  case "$GATEWAY_ALLOCATOR" in
    glibc) ;;
    tcmalloc)
      local lib
      for lib in /usr/lib/*-linux-gnu/libtcmalloc_minimal.so.4 /usr/lib/libtcmalloc_minimal.so.4; do
        [ -e "$lib" ] && { echo "$lib"; return 0; }
      done
      echo "GATEWAY_ALLOCATOR=tcmalloc but libtcmalloc_minimal.so.4 is not installed (apt-get install libtcmalloc-minimal4, or GATEWAY_ALLOCATOR=glibc)" >&2
      return 1
      ;;
    *)
      echo "GATEWAY_ALLOCATOR must be tcmalloc or glibc, not '$GATEWAY_ALLOCATOR'" >&2
      return 1
      ;;
  esac
}

# The environment variables one app starts with beyond the platform's (NAME=value words).
app_env() {
  case "$1" in
    crypto-gateway)
      local lib
      lib="$(gateway_preload)" || return 1
      if [ -n "$lib" ]; then echo "LD_PRELOAD=$lib"; fi
      ;;
  esac
}
