#!/usr/bin/env bash
# npm run up: brings the whole platform up locally and runs its main job.
# Installs what is missing, npm ci, builds, starts Kafka, PostgreSQL and SoftHSM2, starts
# every app, waits until all are healthy, then runs the smoke scenario with the CLI.
# Idempotent: what already runs healthy is left alone. Stop everything with: npm run down
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=apps.sh
. "$here/apps.sh"
cd "$REPO_ROOT"
export NX_DAEMON=false NX_NO_CLOUD=true

bash tools/setup/node-deps.sh
command -v curl >/dev/null || apt_install curl
# shellcheck source=../infra/env.sh
. tools/infra/env.sh
say "building"
npx nx run-many -t build --outputStyle=static >"$CACHE/build.log" 2>&1 || { cat "$CACHE/build.log"; die "build failed"; }

# The crypto gateway: development CA and certificates (mTLS), and its pools and keys for
# cloudhsm-local's demo estate (crypto user app_blue; password from the local Secrets Manager).
bash tools/pki/dev-pki.sh "$CACHE/pki" >/dev/null
node tools/platform/gateway-config.mjs "$CACHE/gateway" "http://$INFRA_HOST:4510/admin/estate" >/dev/null
export GATEWAY_TLS_DIR="$CACHE/pki" GATEWAY_POLICY_FILE="$REPO_ROOT/tools/pki/dev-policy.json" GATEWAY_CLUSTERS_FILE="$CACHE/gateway/clusters.json" \
  GATEWAY_STATE_DIR="$CACHE/gateway/state" GATEWAY_LOGIN_MARKER_DIR="$CACHE/softhsm/logins" GATEWAY_GRPC_PORT="${GATEWAY_GRPC_PORT:-50051}" \
  SECRETS_ENDPOINT="$CLOUDHSM_LOCAL_ENDPOINT" AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \
  CLOUDHSM_CLI="$REPO_ROOT/bin/cloudhsm-cli"

mkdir -p "$RUN_DIR/logs"
for entry in "${PLATFORM_APPS[@]}"; do
  name="${entry%%:*}" port="${entry##*:}"
  if app_pid "$name" >/dev/null && app_healthy "$name" "$port"; then
    say "$name: running on $INFRA_HOST:$port"
    continue
  fi
  if app_pid "$name" >/dev/null; then kill -TERM "$(app_pid "$name")" || true; sleep 1; fi
  vars="$(app_env "$name")" || die "$name: cannot start as it ships (see above)"
  # shellcheck disable=SC2046,SC2086 # the variables and flags are words
  HTTP_PORT="$port" env $vars setsid node $(app_node_args "$name") "dist/apps/$name/src/main.js" >>"$RUN_DIR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/$name.pid"
done
for entry in "${PLATFORM_APPS[@]}"; do
  name="${entry%%:*}" port="${entry##*:}"
  deadline=$((SECONDS + 60))
  until app_healthy "$name" "$port"; do
    app_pid "$name" >/dev/null || { tail -n 20 "$RUN_DIR/logs/$name.log" >&2; die "$name exited during start-up (log: $RUN_DIR/logs/$name.log)"; }
    [ "$SECONDS" -ge "$deadline" ] && die "$name not healthy within 60 s (log: $RUN_DIR/logs/$name.log)"
    sleep 0.3
  done
  say "$name: healthy at http://$INFRA_HOST:$port/health"
done

say "cloudhsm-local demo estate: $(curl -fsS "http://$INFRA_HOST:4510/admin/estate" || echo 'not available')"
say "all apps healthy; running the smoke scenario"
echo
node dist/apps/cli/src/main.js smoke --actor "${KEYFLEET_OPERATOR:-local-operator}"
echo
say "an application calls the crypto gateway (gRPC + mTLS on $INFRA_HOST:$GATEWAY_GRPC_PORT) as app-demo"
node tools/platform/demo-app.mjs "$CACHE/pki" "localhost:$GATEWAY_GRPC_PORT"
echo
say "platform is up. Logs: $RUN_DIR/logs/. Try: bin/keyfleet key create payments --type aes-256 --usage encrypt-decrypt"
say "audit chain: curl -s http://$INFRA_HOST:3104/audit/verify   stop everything: npm run down"
