#!/usr/bin/env bash
# The whole product on one machine: services, SMTP sink, the five functions under
# functions-framework, Knative's RabbitmqSource adapter for convert and notify, and the ping source.
#   scripts/stack.sh up | down | status
#   scripts/stack.sh start <component> | stop <component> | pid <component>   (used by e2e tests)
#   scripts/stack.sh services <services.sh command>   (e.g. restart-rabbitmq, with the stack's ports)
# State, pid files and logs: .run/stack/ and .run/logs/ (git-ignored).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUN="$ROOT/.run"
STATE="$RUN/stack"
LOGS="$RUN/logs"
BIN="$RUN/bin"
mkdir -p "$STATE" "$LOGS" "$RUN/mail"

declare -A PORT=([auth]=8081 [upload]=8082 [convert]=8083 [notify]=8084 [expire]=8085 [smtp]=1025)
declare -A SIGNATURE=([auth]=http [upload]=http [convert]=cloudevent [notify]=cloudevent [expire]=cloudevent)
FUNCTIONS=(auth upload convert notify expire)
READY_SECONDS="${V2A_READY_SECONDS:-60}"
SOURCES=(convert-source notify-source expire-ping)
SINK_MAP="convert=http://127.0.0.1:8083,notify=http://127.0.0.1:8084,expire=http://127.0.0.1:8085"
PROMETHEUS_PORT="${V2A_PROMETHEUS_PORT:-9090}"
RABBIT_METRICS_PORT="${V2A_RABBIT_METRICS_PORT:-55692}"  # the same default as scripts/services.sh
PROMETHEUS_DIR="$RUN/prometheus"

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# A process that was just killed can hold its port for a moment: give it a few seconds.
port_taken() { for _ in $(seq 25); do port_open "$1" || return 1; sleep 0.2; done; return 0; }
# Running, and not a zombie that is waiting to be reaped after a kill.
alive() {
  [ -f "$STATE/$1.pid" ] || return 1
  local pid; pid=$(cat "$STATE/$1.pid")
  kill -0 "$pid" 2>/dev/null && [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" != Z ]
}

# Secrets of this machine's stack: random, made on the first `make up`, kept (owner-only) in
# .run/secrets.env and reused, so tokens and links stay valid across restarts. Nothing the stack
# starts uses the development placeholders that are in the source.
SECRETS="$RUN/secrets.env"
SECRET_NAMES=(JWT_SECRET LINK_SECRET)
random_secret() { head -c 48 /dev/urandom | base64 | tr -d '/+=\n'; }
ensure_secrets() {
  (
    umask 077
    touch "$SECRETS"
    for name in "${SECRET_NAMES[@]}"; do
      grep -q "^$name=" "$SECRETS" || echo "$name=$(random_secret)" >>"$SECRETS"
    done
  )
  chmod 600 "$SECRETS"
  set -a
  # shellcheck source=/dev/null
  . "$SECRETS"
  set +a
}
ensure_secrets

eval "$(bash scripts/services.sh env)"
export APP_ENV="${APP_ENV:-development}" LOG_LEVEL="${LOG_LEVEL:-INFO}"
export SMTP_HOST=127.0.0.1 SMTP_PORT="${PORT[smtp]}"

launch() {  # launch <name> <command...>: start in its own session, record its pid
  local name=$1; shift
  setsid "$@" >>"$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! >"$STATE/$name.pid"
}

# Prometheus' configuration for this stack: monitoring/prometheus.yml with the ports in use, the
# rules of monitoring/rules/ by absolute path, and the bearer token for the functions' /metrics
# when METRICS_TOKEN is set (in a file only the owner reads, never on a command line).
render_prometheus_config() {
  mkdir -p "$PROMETHEUS_DIR/data"
  local token_file="$PROMETHEUS_DIR/metrics-token" auth=""
  if [ -n "${METRICS_TOKEN:-}" ]; then
    (umask 077; printf '%s' "$METRICS_TOKEN" >"$token_file")
    auth="    authorization: {type: Bearer, credentials_file: $token_file}"
  else
    rm -f "$token_file"
  fi
  sed -e "s|^  - rules/\*\.yml$|  - $ROOT/monitoring/rules/*.yml|" \
    -e "s|127\.0\.0\.1:55692|127.0.0.1:$RABBIT_METRICS_PORT|" \
    -e "s|127\.0\.0\.1:9090|127.0.0.1:$PROMETHEUS_PORT|" \
    -e "s|^    # authorization: rendered by scripts/stack.sh.*$|$auth|" \
    monitoring/prometheus.yml >"$PROMETHEUS_DIR/prometheus.yml"
}

start_component() {
  local name=$1
  alive "$name" && return 0
  case "$name" in
    smtp)
      port_taken "${PORT[smtp]}" && die "port ${PORT[smtp]} (SMTP sink) is already in use by another process"
      launch smtp .venv/bin/python scripts/smtp_sink.py --host 127.0.0.1 --port "${PORT[smtp]}" --dir "$RUN/mail" ;;
    auth|upload|convert|notify|expire)
      port_taken "${PORT[$name]}" && die "port ${PORT[$name]} ($name function) is already in use by another process"
      launch "$name" .venv/bin/video2audio-serve --source "functions/$name/main.py" --target "$name" \
        --signature-type "${SIGNATURE[$name]}" --host 127.0.0.1 --port "${PORT[$name]}" ;;
    convert-source|notify-source)
      rm -f "$STATE/$name.ready"
      launch "$name" "$BIN/local-eventing" rabbitmq --manifest "knative/eventing/$name.yaml" \
        --sink-map "$SINK_MAP" --rabbit-url "$RABBITMQ_URL" --ready-file "$STATE/$name.ready" ;;
    expire-ping)
      rm -f "$STATE/$name.ready"
      launch "$name" "$BIN/local-eventing" ping --manifest "knative/eventing/$name.yaml" \
        --sink-map "$SINK_MAP" --ready-file "$STATE/$name.ready" ;;
    prometheus)
      port_taken "$PROMETHEUS_PORT" && die "port $PROMETHEUS_PORT (Prometheus) is already in use by another process; set V2A_PROMETHEUS_PORT"
      render_prometheus_config
      launch prometheus /usr/bin/prometheus --config.file="$PROMETHEUS_DIR/prometheus.yml" \
        --storage.tsdb.path="$PROMETHEUS_DIR/data" --storage.tsdb.retention.time=7d \
        --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" ;;
    *) die "unknown component $name" ;;
  esac
}

# wait_ready <component>: a deadline in seconds; every check itself is bounded (curl --max-time),
# so a function stuck on a dependency cannot stretch the wait.
wait_ready() {
  local name=$1 deadline=$((SECONDS + READY_SECONDS))
  while [ "$SECONDS" -lt "$deadline" ]; do
    alive "$name" || die "$name exited at start; see $LOGS/$name.log"
    case "$name" in
      auth|upload)
        curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:${PORT[$name]}/healthz" 2>/dev/null && return 0 ;;
      convert|notify|expire|smtp)
        port_open "${PORT[$name]}" && return 0 ;;
      prometheus)  # ready = the TSDB is open and the rules are loaded
        curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" 2>/dev/null && return 0 ;;
      *) [ -f "$STATE/$name.ready" ] && return 0 ;;
    esac
    sleep 0.2
  done
  die "$name did not become ready within $READY_SECONDS s; see $LOGS/$name.log"
}

stop_component() {
  local name=$1
  alive "$name" || { rm -f "$STATE/$name.pid"; return 0; }
  local pid; pid=$(cat "$STATE/$name.pid")
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 10))
  while alive "$name" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$STATE/$name.pid" "$STATE/$name.ready"
}

up() {
  bash scripts/services.sh start
  .venv/bin/python -m video2audio.infra.topology
  for name in smtp "${FUNCTIONS[@]}"; do start_component "$name"; done
  for name in smtp "${FUNCTIONS[@]}"; do wait_ready "$name"; done
  # Sources last: they deliver as soon as they run, so their sinks must already answer.
  for name in "${SOURCES[@]}"; do start_component "$name"; done
  for name in "${SOURCES[@]}"; do wait_ready "$name"; done
  start_component prometheus
  wait_ready prometheus
  cat <<URLS
Video2Audio is up (logs: .run/logs/, mail: .run/mail/)
  web page  http://127.0.0.1:${PORT[upload]}/
  auth      http://127.0.0.1:${PORT[auth]}    upload  http://127.0.0.1:${PORT[upload]}
  convert   http://127.0.0.1:${PORT[convert]}    notify  http://127.0.0.1:${PORT[notify]}    expire  http://127.0.0.1:${PORT[expire]}
  SMTP sink 127.0.0.1:${PORT[smtp]}   RabbitMQ sources: convert-source, notify-source   ping: expire-ping
  metrics   http://127.0.0.1:<port>/metrics of each function   RabbitMQ http://127.0.0.1:$RABBIT_METRICS_PORT/metrics
  Prometheus http://127.0.0.1:$PROMETHEUS_PORT/  (alerts: /alerts, targets: /targets; dashboard: monitoring/grafana/video2audio.json)
  API docs  http://127.0.0.1:${PORT[auth]}/docs    http://127.0.0.1:${PORT[upload]}/docs   (OpenAPI 3.1: /openapi.json on each)
URLS
}

down() {
  for name in prometheus "${SOURCES[@]}" "${FUNCTIONS[@]}" smtp; do stop_component "$name"; done
  bash scripts/services.sh stop
}

status() {
  for name in prometheus "${SOURCES[@]}" "${FUNCTIONS[@]}" smtp; do
    if alive "$name"; then echo "$name running (pid $(cat "$STATE/$name.pid"))"; else echo "$name stopped"; fi
  done
  bash scripts/services.sh status
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  start) start_component "$2"; wait_ready "$2" ;;
  stop) stop_component "$2" ;;
  pid) cat "$STATE/$2.pid" ;;
  services) bash scripts/services.sh "$2" ;;
  *) echo "usage: $0 up|down|status|start <component>|stop <component>|pid <component>" >&2; exit 2 ;;
esac
