#!/usr/bin/env bash
# Apache Kafka 4 (KRaft, one node acting as broker and controller) from Maven Central.
# Usage: kafka.sh start|stop|restart|status
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_VERSION=4.1.1
POM_REVISION=2  # bump when tools/infra/kafka/pom.xml changes
DIR="$CACHE/kafka"
LIBS="$DIR/libs"
PIDFILE="$DIR/kafka.pid"
LOG="$DIR/kafka.log"

resolve_jars() {
  if [ -f "$LIBS/.resolved-$KAFKA_VERSION-$POM_REVISION" ]; then return 0; fi
  command -v mvn >/dev/null || die "mvn is required to fetch Kafka from Maven Central"
  command -v java >/dev/null || die "java (17+) is required to run Kafka"
  say "kafka: resolving Kafka $KAFKA_VERSION jars from Maven Central"
  rm -rf "$LIBS"
  mvn -q -B -Dstyle.color=never -f "$REPO_ROOT/tools/infra/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$LIBS" || die "mvn could not resolve Kafka $KAFKA_VERSION"
  touch "$LIBS/.resolved-$KAFKA_VERSION-$POM_REVISION"
}

write_config() {
  mkdir -p "$DIR/data"
  cat >"$DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$INFRA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$INFRA_HOST:$KAFKA_PORT,CONTROLLER://$INFRA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$INFRA_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DIR/data
num.partitions=3
auto.create.topics.enable=false
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
PROPS
  # Warnings only, except the one line that says the server is up.
  cat >"$DIR/log4j2.properties" <<PROPS
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $LOG
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.file.ref = file
logger.raftserver.name = kafka.server.KafkaRaftServer
logger.raftserver.level = info
PROPS
}

java_kafka() { java -Xms64m -Xmx256m -cp "$LIBS/*" -Dlog4j2.configurationFile="$DIR/log4j2.properties" "$@"; }

format_storage() {
  [ -f "$DIR/data/meta.properties" ] && return 0
  local cluster_id
  [ -f "$DIR/cluster-id" ] || java_kafka kafka.tools.StorageTool random-uuid >"$DIR/cluster-id"
  cluster_id="$(tr -d '[:space:]' <"$DIR/cluster-id")"
  say "kafka: formatting storage (cluster $cluster_id)"
  java_kafka kafka.tools.StorageTool format -t "$cluster_id" -c "$DIR/server.properties" >"$DIR/format.log" 2>&1 ||
    die "kafka storage format failed: see $DIR/format.log"
}

running_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

ready() { port_open "$INFRA_HOST" "$KAFKA_PORT" && grep -q "Kafka Server started" "$LOG" 2>/dev/null; }

start() {
  if running_pid >/dev/null && ready; then say "kafka: running on $INFRA_HOST:$KAFKA_PORT"; return 0; fi
  if ! running_pid >/dev/null && port_open "$INFRA_HOST" "$KAFKA_PORT"; then
    die "port $KAFKA_PORT is taken by another process: stop it or set KEYFLEET_KAFKA_PORT"
  fi
  resolve_jars
  write_config
  format_storage
  if ! running_pid >/dev/null; then
    : >"$LOG"
    local t0=$SECONDS
    # setsid: the broker outlives the shell that started it (a test run, a terminal).
    setsid java -Xms256m -Xmx768m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -Dlog4j2.configurationFile="$DIR/log4j2.properties" -cp "$LIBS/*" \
      kafka.Kafka "$DIR/server.properties" >"$DIR/kafka.out" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    local deadline=$((SECONDS + 90))
    until ready; do
      running_pid >/dev/null || die "kafka exited during start-up: see $DIR/kafka.out and $LOG"
      [ "$SECONDS" -ge "$deadline" ] && die "kafka did not come up within 90 s: see $LOG"
      sleep 0.3
    done
    say "kafka: started on $INFRA_HOST:$KAFKA_PORT in $((SECONDS - t0)) s"
  fi
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then say "kafka: not running"; rm -f "$PIDFILE"; return 0; fi
  kill -TERM "$pid"
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then say "kafka: no clean stop within 30 s, killing"; kill -KILL "$pid"; fi
    sleep 0.2
  done
  rm -f "$PIDFILE"
  say "kafka: stopped (data kept in $DIR/data)"
}

status() {
  if running_pid >/dev/null && ready; then say "kafka: up on $INFRA_HOST:$KAFKA_PORT"; else say "kafka: down"; return 1; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) status ;;
  *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
