#!/usr/bin/env bash
# scripts/services.sh: the real servers the integration suites run against.
#
#   scripts/services.sh install        install packages (apt) and fetch the Kafka jars (mvn)
#   scripts/services.sh start          install, then start redis-server, a three-node Redis
#                                      Cluster and a single-node Kafka broker (KRaft) on
#                                      127.0.0.1; idempotent
#   scripts/services.sh stop           stop them all (also: stop-redis, stop-kafka)
#   scripts/services.sh restart-redis [--kill]   restart redis-server on the same port and data
#   scripts/services.sh restart-kafka [--kill]   restart the broker on the same ports and data
#   scripts/services.sh start-redis | start-kafka  start one again after stop-redis / stop-kafka
#   scripts/services.sh status         print what runs where
#   scripts/services.sh env            print the path of the env file to source
#
# --kill sends SIGKILL instead of a clean shutdown (redis: AOF everysec may lose up to ~1 s of
# writes; Kafka: log recovery on the next start). A restart keeps the address, so clients that
# reconnect find the server again.
#
# After `start`, source the env file (default /tmp/tanggap-services/env):
#   TANGGAP_TEST_REDIS_ADDR=127.0.0.1:PORT
#   TANGGAP_TEST_REDIS_CLUSTER=127.0.0.1:PORT,127.0.0.1:PORT,127.0.0.1:PORT
#   TANGGAP_TEST_KAFKA_BROKERS=127.0.0.1:PORT
#   TANGGAP_TEST_SERVICES=<absolute path of this script>   (the fault suite calls it)
#   TANGGAP_SERVICES_DIR=<state directory>
#
# Settings (environment):
#   TANGGAP_SERVICES_DIR   state: configs, pidfiles, logs, data (default ${TMPDIR:-/tmp}/tanggap-services)
#   TANGGAP_CACHE_DIR      downloaded Kafka jars (default ~/.cache/tanggap); re-runs reuse them
#   TANGGAP_SKIP_APT=1     do not apt-get install (the commands must already be there)
#   TANGGAP_KAFKA_HEAP     broker heap (default -Xmx512m -Xms512m)
#   TANGGAP_READY_TIMEOUT  seconds to wait for each server (default 120)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SELF="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"
STATE="${TANGGAP_SERVICES_DIR:-${TMPDIR:-/tmp}/tanggap-services}"
CACHE="${TANGGAP_CACHE_DIR:-$HOME/.cache/tanggap}"
POM="$SCRIPT_DIR/kafka/pom.xml"
READY_TIMEOUT="${TANGGAP_READY_TIMEOUT:-120}"
KAFKA_HEAP="${TANGGAP_KAFKA_HEAP:--Xmx512m -Xms512m}"
ENV_FILE="$STATE/env"
REDIS_PID="$STATE/redis/redis.pid"
KAFKA_DIR="$STATE/kafka"
KAFKA_PID="$KAFKA_DIR/kafka.pid"

log() { printf '[services %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------------------
# install
# ---------------------------------------------------------------------------

# Debian packages and a command each must provide. prometheus (Debian 12: 2.42)
# ships /usr/bin/promtool; chromium and chromium-driver are for the browser tests.
APT_PACKAGES=(redis-server:redis-server redis-tools:redis-cli prometheus:promtool
  chromium:chromium chromium-driver:chromedriver fonts-liberation:)

install_apt() {
  if [[ "${TANGGAP_SKIP_APT:-}" == 1 ]]; then
    log "TANGGAP_SKIP_APT=1: not installing packages"
    return
  fi
  local missing=() entry pkg cmd
  for entry in "${APT_PACKAGES[@]}"; do
    pkg="${entry%%:*}" cmd="${entry#*:}"
    if [[ -n "$cmd" ]]; then
      command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
    else
      dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    log "packages present: redis-server promtool chromium chromedriver"
    return
  fi
  local sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || die "need root or sudo to apt-get install ${missing[*]}"
    sudo=(sudo)
  fi
  # Keep the packages' own services (redis on 6379, prometheus on :9090 on every
  # interface) from starting at install time: we start our own on 127.0.0.1.
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"
    added_policy=1
  fi
  log "apt-get update; installing: ${missing[*]}"
  local rc=0
  {
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >"$STATE/apt.log" 2>&1
  } || rc=$?
  if ((added_policy)); then "${sudo[@]}" rm -f "$policy"; fi
  if ((rc != 0)); then
    tail -n 30 "$STATE/apt.log" >&2 || true
    die "apt-get install failed (rc=$rc), see $STATE/apt.log"
  fi
  # The packages' services must not run (a machine with systemd may have started them).
  local unit
  for unit in redis-server prometheus; do
    if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
      "${sudo[@]}" systemctl disable --now "$unit" >/dev/null 2>&1 || true
    fi
  done
  for entry in "${APT_PACKAGES[@]}"; do
    cmd="${entry#*:}"
    [[ -z "$cmd" ]] || command -v "$cmd" >/dev/null || die "$cmd missing after apt-get install"
  done
}

kafka_libs() {
  local key
  key="$(sha256sum "$POM" | cut -c1-16)"
  printf '%s/kafka/%s/libs' "$CACHE" "$key"
}

install_kafka() {
  local libs
  libs="$(kafka_libs)"
  if [[ -f "$libs/.complete" ]]; then
    log "kafka jars cached: $libs ($(find "$libs" -name '*.jar' | wc -l) jars)"
    return
  fi
  command -v mvn >/dev/null || die "mvn not found (Maven is needed to fetch the Kafka jars)"
  log "fetching Kafka broker jars with mvn into $libs"
  rm -rf "$libs"
  mkdir -p "$libs"
  (cd "$SCRIPT_DIR/kafka" && mvn -B -q -ntp -f "$POM" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$libs") >"$STATE/mvn.log" 2>&1 || {
    tail -n 40 "$STATE/mvn.log" >&2
    die "mvn dependency:copy-dependencies failed, see $STATE/mvn.log"
  }
  ls "$libs"/kafka_2.13-*.jar >/dev/null 2>&1 || die "kafka_2.13 jar missing in $libs"
  touch "$libs/.complete"
  log "kafka jars: $(find "$libs" -name '*.jar' | wc -l) jars"
}

java_bin() {
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
    echo "$JAVA_HOME/bin/java"
  else
    command -v java || die "java not found (Java 17+ runs the Kafka broker)"
  fi
}

cmd_install() {
  mkdir -p "$STATE"
  install_apt
  install_kafka
  local v
  v="$("$(java_bin)" -version 2>&1 | head -n1)"
  log "java: $v"
}

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port prints a port on 127.0.0.1 that nothing listens on, below the kernel's ephemeral
# range: a port there can be the local end of any outgoing connection (the test suites open
# thousands), and a broker binding it then fails with "Address already in use".
free_port() {
  local p i low=32768
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  ((low > 12000)) || die "the ephemeral port range starts at $low: no room below it for the services"
  for ((i = 0; i < 200; i++)); do
    p=$((10000 + RANDOM % (low - 10000)))
    if ! port_open "$p" && ! grep -qx "$p" "$STATE"/*.port 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  die "no free port found"
}

# saved_port NAME prints the port used before (kept across restarts) or picks one.
saved_port() {
  local f="$STATE/$1.port"
  if [[ -s "$f" ]]; then cat "$f"; else
    free_port | tee "$f"
  fi
}

# pid_alive PIDFILE: the process is running and is ours (a stale pidfile from an earlier
# machine session may name a PID that now belongs to something else: never signal that).
pid_alive() {
  [[ -s "$1" ]] || return 1
  local pid pattern
  pid="$(cat "$1")"
  case "$1" in
    "$REDIS_PID" | "$STATE"/rcluster/*) pattern=redis-server ;;
    *) pattern="$KAFKA_DIR/server.properties" ;;
  esac
  kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern"
}

# wait_gone PIDFILE SECONDS PID: wait for the process PID (read from PIDFILE before it was
# signalled: redis-server deletes its pidfile as it exits) to exit; SIGKILL it after SECONDS.
wait_gone() {
  local pidfile="$1" secs="$2" pid="$3" i
  for ((i = 0; i < secs * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
    sleep 0.1
  done
  log "pid $pid still running after ${secs}s: SIGKILL"
  kill -9 "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$pidfile"
}

write_env() {
  local tmp="$ENV_FILE.tmp"
  {
    echo "# written by scripts/services.sh on $(date -u +%FT%TZ); source this file"
    [[ -s "$STATE/redis.port" ]] && echo "export TANGGAP_TEST_REDIS_ADDR=127.0.0.1:$(cat "$STATE/redis.port")"
    [[ -s "$STATE/rcluster1.port" ]] && echo "export TANGGAP_TEST_REDIS_CLUSTER=$(cluster_addrs)"
    [[ -s "$STATE/kafka.port" ]] && echo "export TANGGAP_TEST_KAFKA_BROKERS=127.0.0.1:$(cat "$STATE/kafka.port")"
    echo "export TANGGAP_TEST_SERVICES=$SELF"
    echo "export TANGGAP_SERVICES_DIR=$STATE"
  } >"$tmp"
  mv "$tmp" "$ENV_FILE"
}

# ---------------------------------------------------------------------------
# redis
# ---------------------------------------------------------------------------

redis_cli() { redis-cli -h 127.0.0.1 -p "$(cat "$STATE/redis.port")" "$@"; }

start_redis() {
  mkdir -p "$STATE/redis"
  if pid_alive "$REDIS_PID" && [[ "$(redis_cli ping 2>/dev/null)" == PONG ]]; then
    log "redis-server already running on 127.0.0.1:$(cat "$STATE/redis.port") (pid $(cat "$REDIS_PID"))"
    return
  fi
  local fresh="${1:-fresh}" port
  if [[ "$fresh" == fresh ]]; then
    rm -rf "$STATE/redis/data" "$STATE/redis.port"
  fi
  port="$(saved_port redis)"
  mkdir -p "$STATE/redis/data"
  cat >"$STATE/redis/redis.conf" <<EOF
bind 127.0.0.1
port $port
protected-mode yes
daemonize yes
pidfile $REDIS_PID
logfile $STATE/redis/redis.log
dir $STATE/redis/data
appendonly yes
appendfsync everysec
appenddirname appendonly
save ""
maxmemory 4gb
maxmemory-policy noeviction
EOF
  log "starting redis-server on 127.0.0.1:$port (AOF everysec, dir $STATE/redis/data)"
  redis-server "$STATE/redis/redis.conf" || die "redis-server did not start, see $STATE/redis/redis.log"
  local deadline=$((SECONDS + READY_TIMEOUT))
  # After a restart with a big AOF, redis answers LOADING until it has replayed it.
  until [[ "$(redis_cli ping 2>/dev/null)" == PONG ]]; do
    ((SECONDS < deadline)) || { tail -n 20 "$STATE/redis/redis.log" >&2; die "redis not ready after ${READY_TIMEOUT}s"; }
    sleep 0.1
  done
  log "redis ready: $(redis-server --version | cut -d' ' -f1-3)"
}

stop_redis() {
  local mode="${1:-clean}"
  pid_alive "$REDIS_PID" || { rm -f "$REDIS_PID"; return 0; }
  local pid
  pid="$(cat "$REDIS_PID")"
  if [[ "$mode" == kill ]]; then
    log "redis: SIGKILL pid $pid"
    kill -9 "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    rm -f "$REDIS_PID"
  else
    log "redis: shutdown pid $pid"
    redis_cli shutdown >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    wait_gone "$REDIS_PID" 30 "$pid"
  fi
}

# ---------------------------------------------------------------------------
# redis cluster: three masters, no replicas, no persistence. The store suite and the
# end-to-end pipeline run on it too, so that "a city's keys share one hash slot" (each
# script, transaction and pipeline of a city goes to one node) is tested, not assumed.
# ---------------------------------------------------------------------------

CLUSTER_NODES=(1 2 3)
cluster_pid() { echo "$STATE/rcluster/$1/redis.pid"; }
cluster_port() { cat "$STATE/rcluster$1.port"; }
cluster_addrs() {
  local n out=()
  for n in "${CLUSTER_NODES[@]}"; do out+=("127.0.0.1:$(cluster_port "$n")"); done
  (IFS=,; echo "${out[*]}")
}
cluster_ok() { redis-cli -p "$(cluster_port "$1")" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; }

start_redis_cluster() {
  local n port bus up=1
  for n in "${CLUSTER_NODES[@]}"; do pid_alive "$(cluster_pid "$n")" && cluster_ok "$n" || up=0; done
  if ((up)); then
    log "redis cluster already running on $(cluster_addrs)"
    return
  fi
  stop_redis_cluster
  rm -rf "$STATE/rcluster" "$STATE"/rcluster*.port
  for n in "${CLUSTER_NODES[@]}"; do
    port="$(saved_port "rcluster$n")"
    bus="$(saved_port "rcluster$n-bus")"
    mkdir -p "$STATE/rcluster/$n"
    printf '%s\n' "bind 127.0.0.1" "port $port" "cluster-port $bus" "cluster-enabled yes" \
      "cluster-config-file $STATE/rcluster/$n/nodes.conf" "protected-mode yes" "daemonize yes" \
      "pidfile $(cluster_pid "$n")" "logfile $STATE/rcluster/$n/redis.log" "dir $STATE/rcluster/$n" \
      "appendonly no" 'save ""' "maxmemory 1gb" "maxmemory-policy noeviction" >"$STATE/rcluster/$n/redis.conf"
    redis-server "$STATE/rcluster/$n/redis.conf" || die "cluster node $n did not start, see $STATE/rcluster/$n/redis.log"
  done
  local deadline=$((SECONDS + READY_TIMEOUT))
  for n in "${CLUSTER_NODES[@]}"; do
    until [[ "$(redis-cli -p "$(cluster_port "$n")" ping 2>/dev/null)" == PONG ]]; do
      ((SECONDS < deadline)) || die "cluster node $n not ready after ${READY_TIMEOUT}s"
      sleep 0.1
    done
  done
  # shellcheck disable=SC2046 # one argument per node
  redis-cli --cluster create $(cluster_addrs | tr , ' ') --cluster-replicas 0 --cluster-yes >"$STATE/rcluster/create.log" 2>&1 ||
    { cat "$STATE/rcluster/create.log" >&2; die "redis-cli --cluster create failed"; }
  # Every node must know the others before a client asks: one that has not heard of them
  # yet answers CLUSTERDOWN.
  for n in "${CLUSTER_NODES[@]}"; do
    until cluster_ok "$n"; do
      ((SECONDS < deadline)) || die "redis cluster not ok after ${READY_TIMEOUT}s (node $n)"
      sleep 0.1
    done
  done
  log "redis cluster ready: three masters on $(cluster_addrs)"
}

stop_redis_cluster() {
  local n f pid
  for n in "${CLUSTER_NODES[@]}"; do
    f="$(cluster_pid "$n")"
    pid_alive "$f" || { rm -f "$f"; continue; }
    pid="$(cat "$f")"
    kill "$pid" 2>/dev/null || true
    wait_gone "$f" 30 "$pid"
  done
}

# ---------------------------------------------------------------------------
# kafka
# ---------------------------------------------------------------------------

# kafka_java [exec] MAINCLASS ARGS...: run (or exec) a JVM on the cached Kafka jars.
kafka_java() {
  local libs pre=()
  libs="$(kafka_libs)"
  [[ -f "$libs/.complete" ]] || die "kafka jars missing: run scripts/services.sh install"
  if [[ "$1" == exec ]]; then pre=(exec); shift; fi
  # shellcheck disable=SC2086
  "${pre[@]}" "$(java_bin)" $KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" \
    -Dkafka.logs.dir="$KAFKA_DIR/logs" \
    -cp "$libs/*" "$@"
}

write_kafka_config() {
  local port="$1" cport="$2"
  mkdir -p "$KAFKA_DIR/logs"
  cat >"$KAFKA_DIR/server.properties" <<EOF
# single-node KRaft broker for the integration suites (scripts/services.sh)
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# A broker restarted after SIGKILL waits for its old session to expire: keep that short.
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=1000
num.network.threads=2
num.io.threads=4
log.retention.hours=24
log.segment.bytes=67108864
EOF
  cat >"$KAFKA_DIR/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $KAFKA_DIR/logs/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = INFO
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
EOF
}

start_kafka() {
  mkdir -p "$KAFKA_DIR"
  if pid_alive "$KAFKA_PID" && port_open "$(cat "$STATE/kafka.port")"; then
    log "kafka already running on 127.0.0.1:$(cat "$STATE/kafka.port") (pid $(cat "$KAFKA_PID"))"
    return
  fi
  local fresh="${1:-fresh}" port cport
  if [[ "$fresh" == fresh ]]; then
    rm -rf "$KAFKA_DIR/data" "$KAFKA_DIR/logs" "$STATE/kafka.port" "$STATE/kafka-controller.port"
  fi
  port="$(saved_port kafka)"
  cport="$(saved_port kafka-controller)"
  write_kafka_config "$port" "$cport"
  if [[ ! -f "$KAFKA_DIR/data/meta.properties" ]]; then
    local cluster_id
    # base64url of 16 random bytes; "--cluster-id=ID" keeps an id that starts with "-" from reading as a flag
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    log "formatting KRaft storage (cluster id $cluster_id)"
    kafka_java kafka.tools.StorageTool format --ignore-formatted --cluster-id="$cluster_id" \
      -c "$KAFKA_DIR/server.properties" >"$KAFKA_DIR/format.log" 2>&1 || {
      cat "$KAFKA_DIR/format.log" >&2
      die "kafka storage format failed"
    }
  fi
  log "starting Kafka broker (KRaft) on 127.0.0.1:$port, controller 127.0.0.1:$cport"
  local mark=0
  [[ -f "$KAFKA_DIR/logs/server.log" ]] && mark="$(wc -l <"$KAFKA_DIR/logs/server.log")"
  # setsid: the broker must outlive this script and ignore the caller's Ctrl-C.
  # shellcheck disable=SC2016 # $$ and $@ belong to the inner shell
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$KAFKA_PID" \
    "$SELF" __kafka-java kafka.Kafka "$KAFKA_DIR/server.properties" \
    </dev/null >>"$KAFKA_DIR/logs/stdout.log" 2>&1 &
  local deadline=$((SECONDS + READY_TIMEOUT))
  while :; do
    sleep 0.2
    [[ -s "$KAFKA_PID" ]] || continue
    if ! pid_alive "$KAFKA_PID"; then
      tail -n 30 "$KAFKA_DIR/logs/stdout.log" "$KAFKA_DIR/logs/server.log" >&2 2>/dev/null || true
      rm -f "$KAFKA_PID"
      die "kafka broker exited during startup"
    fi
    if tail -n "+$((mark + 1))" "$KAFKA_DIR/logs/server.log" 2>/dev/null | grep -q 'Kafka Server started' &&
      port_open "$port"; then
      break
    fi
    ((SECONDS < deadline)) || {
      tail -n 30 "$KAFKA_DIR/logs/stdout.log" "$KAFKA_DIR/logs/server.log" >&2 2>/dev/null || true
      stop_kafka kill
      die "kafka not ready after ${READY_TIMEOUT}s, see $KAFKA_DIR/logs"
    }
  done
  log "kafka ready (pid $(cat "$KAFKA_PID"), $(basename "$(ls "$(kafka_libs)"/kafka_2.13-*.jar)" .jar))"
}

stop_kafka() {
  local mode="${1:-clean}"
  pid_alive "$KAFKA_PID" || { rm -f "$KAFKA_PID"; return 0; }
  local pid
  pid="$(cat "$KAFKA_PID")"
  if [[ "$mode" == kill ]]; then
    log "kafka: SIGKILL pid $pid"
    kill -9 "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    rm -f "$KAFKA_PID"
  else
    log "kafka: SIGTERM pid $pid (controlled shutdown)"
    kill "$pid" 2>/dev/null || true
    wait_gone "$KAFKA_PID" 60 "$pid"
  fi
}

# ---------------------------------------------------------------------------

kill_flag() { [[ "${1:-}" == --kill ]] && echo kill || echo clean; }

cmd="${1:-}"
shift || true
case "$cmd" in
  install)
    cmd_install
    ;;
  start)
    t0=$SECONDS
    cmd_install
    start_redis
    start_redis_cluster
    start_kafka
    write_env
    log "services up in $((SECONDS - t0))s; env file: $ENV_FILE"
    cat "$ENV_FILE" >&2
    ;;
  stop)
    [[ -d "$STATE" ]] || exit 0
    stop_kafka
    stop_redis
    stop_redis_cluster
    log "services stopped"
    ;;
  stop-redis) stop_redis "$(kill_flag "${1:-}")" ;;
  stop-kafka) stop_kafka "$(kill_flag "${1:-}")" ;;
  start-redis) start_redis keep && write_env ;;
  start-kafka) start_kafka keep && write_env ;;
  restart-redis)
    stop_redis "$(kill_flag "${1:-}")"
    start_redis keep
    ;;
  restart-kafka)
    stop_kafka "$(kill_flag "${1:-}")"
    start_kafka keep
    ;;
  status)
    pid_alive "$REDIS_PID" && echo "redis: running 127.0.0.1:$(cat "$STATE/redis.port") pid $(cat "$REDIS_PID")" || echo "redis: stopped"
    pid_alive "$(cluster_pid 1)" && echo "redis cluster: running $(cluster_addrs)" || echo "redis cluster: stopped"
    pid_alive "$KAFKA_PID" && echo "kafka: running 127.0.0.1:$(cat "$STATE/kafka.port") pid $(cat "$KAFKA_PID")" || echo "kafka: stopped"
    ;;
  env)
    echo "$ENV_FILE"
    ;;
  __kafka-java)
    kafka_java exec "$@"
    ;;
  *)
    sed -n '2,24p' "$SELF" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
