#!/usr/bin/env bash
# scripts/integration.sh: the integration run, against the real servers of scripts/services.sh.
#
#   scripts/services.sh start      # once; installs what is missing, starts redis, a redis cluster, Kafka
#   scripts/integration.sh         # smoke check, integration suites (also -race), promtool, dashboards
#   scripts/services.sh stop
#
# CI=true is set for the Go tests, so a test whose server is not configured FAILS
# instead of skipping (internal/testenv). Extra arguments go to `go test`
# (e.g. scripts/integration.sh -run Store ./store/...); the default is ./...
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '[integration %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

ENV_FILE="$(scripts/services.sh env)"
[[ -f "$ENV_FILE" ]] || die "no $ENV_FILE: run scripts/services.sh start first"
# shellcheck disable=SC1090
. "$ENV_FILE"
export CI=true
log "redis $TANGGAP_TEST_REDIS_ADDR, redis cluster ${TANGGAP_TEST_REDIS_CLUSTER:-(none)}, kafka $TANGGAP_TEST_KAFKA_BROKERS"

step() {
  local name="$1" t0=$SECONDS
  shift
  log "== $name: $*"
  "$@"
  log "== $name: ok ($((SECONDS - t0))s)"
}

# 1. The servers answer the clients Tanggap uses (go-redis; kafka-go with a consumer group).
step smoke go run ./scripts/smoke

# 2. The integration suites (build tag integration), every package; then again under the race
#    detector, since much of the code runs concurrently against these servers: six consumer-group
#    members per triage process, parallel plain transactions, the event relay, collectors under
#    leases, report writers compressing on both cores, the web handlers.
if (($# == 0)); then set -- ./...; fi
step go-test-integration go test -count=1 -tags=integration "$@"
step go-test-race go test -count=1 -race -timeout 30m -tags=integration "$@"

# 3. The fault suite (issue 7): tests under the build tag `faults` restart and kill the servers,
#    so they get their own redis-server and Kafka broker (a second services.sh instance on other
#    ports) and run one package at a time, never beside the suites above. They find the servers
#    through internal/testenv (RedisAddr, KafkaBrokers) and drive them with testenv.Service.
#    The stage starts by itself once a file with `//go:build ... faults` exists.
fault_pkgs="$(grep -rlE --include='*_test.go' '^//go:build .*\bfaults\b' . 2>/dev/null | xargs -r -n1 dirname | sort -u | tr '\n' ' ')"
if [[ -n "$fault_pkgs" ]]; then
  FAULT_DIR="${TANGGAP_SERVICES_DIR}-faults"
  stop_faults() { TANGGAP_SERVICES_DIR="$FAULT_DIR" scripts/services.sh stop || true; }
  trap stop_faults EXIT
  step faults-services env TANGGAP_SERVICES_DIR="$FAULT_DIR" TANGGAP_SKIP_APT=1 scripts/services.sh start
  # shellcheck disable=SC2016,SC2086 # $1/$@ belong to the inner shell; one argument per package
  step faults bash -c '. "$1/env" && shift && exec go test -count=1 -p 1 -timeout 45m -tags=integration,faults "$@"' \
    _ "$FAULT_DIR" $fault_pkgs
  stop_faults
  trap - EXIT
else
  log "== faults: no tests with build tag faults yet"
fi

# 4. Prometheus rules: syntax, then the rule unit tests (each alert firing and not firing).
command -v promtool >/dev/null || die "promtool not found (Debian package prometheus; scripts/services.sh install)"
shopt -s nullglob
rules=(dashboards/rules/*.yml)
rule_tests=(dashboards/rules/tests/*.yml)
((${#rules[@]})) || die "no rule files in dashboards/rules"
((${#rule_tests[@]})) || die "no rule unit tests in dashboards/rules/tests"
step promtool-check-rules promtool check rules "${rules[@]}"
step promtool-test-rules promtool test rules "${rule_tests[@]}"
step promtool-check-config promtool check config --syntax-only deploy/prometheus.yml

# 5. Grafana dashboards and the metric list: parse, datasource by uid variable, only known metrics.
step dashboards go test -count=1 ./dashboards/ ./deploy/

# 6. The fault suite (faults/, ~8 min): kill -9 of triage during a 100,000-post run, redis-server
#    restarts, a Kafka broker stop/start and a platform API outage, on its own private servers
#    (services.sh in a temp state dir), printing the table of posts sent, stored, lost, duplicated.
step faults env TANGGAP_FAULTS=1 go test -count=1 -tags=integration -v -timeout 20m -run TestFaults ./faults/

log "integration run passed"
