#!/usr/bin/env bash
# Private local services for development and tests: PostgreSQL, RabbitMQ and FerretDB (MongoDB wire).
# Everything lives under .run/ (git-ignored), on ports that do not collide with system services.
#   scripts/services.sh start|stop|status|env
#   scripts/services.sh start-<svc>|stop-<svc>   (svc: postgres, rabbitmq, mongo) — used by failure tests
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="${V2A_RUN_DIR:-$ROOT/.run}"
PG_BIN=/usr/lib/postgresql/15/bin
PG_PORT="${V2A_PG_PORT:-55432}"
RABBIT_PORT="${V2A_RABBIT_PORT:-55672}"
RABBIT_DIST_PORT="${V2A_RABBIT_DIST_PORT:-55673}"
RABBIT_METRICS_PORT="${V2A_RABBIT_METRICS_PORT:-55692}"  # rabbitmq_prometheus' /metrics
EPMD_PORT="${V2A_EPMD_PORT:-55674}"
MONGO_PORT="${V2A_MONGO_PORT:-57017}"
MONGO_PG_PORT="${V2A_MONGO_PG_PORT:-$((MONGO_PORT + 1))}"  # FerretDB's own PostgreSQL
RABBIT_NODE="${V2A_RABBIT_NODE:-v2a@localhost}"
RABBIT_START_SECONDS="${V2A_RABBIT_START_SECONDS:-120}"

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] error: %s\n' "$*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port held by something that is not ours gets a clear message instead of a confusing failure.
require_free_port() {
  local port=$1 what=$2
  if port_open "$port"; then
    die "port $port (for $what) is already in use by another process; stop it or set the V2A_*_PORT variable"
  fi
}

# pid_alive <pidfile> [command]: the process runs — not a zombie waiting to be reaped after a
# kill (kill -0 succeeds on those) — and, when given, its command line contains <command>.
pid_alive() {
  [ -f "$1" ] || return 1
  local pid; pid=$(cat "$1")
  kill -0 "$pid" 2>/dev/null || return 1
  [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" != Z ] || return 1
  [ -z "${2:-}" ] || tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2"
}

# gone <pid> <seconds>: wait until the process has exited (zombies count as gone).
gone() {
  local pid=$1 deadline=$((SECONDS + $2))
  while [ "$SECONDS" -lt "$deadline" ]; do
    kill -0 "$pid" 2>/dev/null || return 0
    [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = Z ] && return 0
    sleep 0.1
  done
  return 1
}

# wait_port <port> <what> <seconds> <log>: a deadline in seconds, and a message naming the log.
wait_port() {
  local port=$1 what=$2 seconds=$3 logfile=$4 deadline=$((SECONDS + $3))
  while [ "$SECONDS" -lt "$deadline" ]; do port_open "$port" && return 0; sleep 0.2; done
  die "$what did not open port $port within $seconds s; see $logfile"
}

# --- PostgreSQL -----------------------------------------------------------------------------
# start_pg_cluster <dir> <port> "<database>..." <label>: a private cluster, created on first use.
start_pg_cluster() {
  local dir=$1 port=$2 dbs=$3 label=$4 db
  mkdir -p "$dir" "$RUN/logs"
  chown postgres:postgres "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    su postgres -s /bin/sh -c "$PG_BIN/initdb -D '$dir/data' -U postgres -A trust --no-sync" >/dev/null
  fi
  if su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D '$dir/data' status" >/dev/null 2>&1; then
    return 0
  fi
  require_free_port "$port" "$label"
  local logfile
  logfile="$RUN/logs/$(basename "$dir").log"
  touch "$logfile" && chown postgres:postgres "$logfile"
  su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D '$dir/data' -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" -l '$logfile' -w start" >/dev/null
  for db in $dbs; do
    if ! psql -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1; then
      psql -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE $db"
    fi
  done
  log "$label on 127.0.0.1:$port"
}
stop_pg_cluster() {
  [ -f "$1/data/postmaster.pid" ] || return 0
  su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D '$1/data' -m fast -w stop" >/dev/null 2>&1 || true
}
pg_dir="$RUN/postgres"
# video2audio for `make up`, video2audio_test for the tests (tests/conftest.py).
start_postgres() { start_pg_cluster "$pg_dir" "$PG_PORT" "video2audio video2audio_test" PostgreSQL; }
stop_postgres() { stop_pg_cluster "$pg_dir"; }

# --- RabbitMQ -------------------------------------------------------------------------------
rb_dir="$RUN/rabbitmq"
rabbit_env() {
  export RABBITMQ_NODENAME="$RABBIT_NODE" RABBITMQ_NODE_PORT="$RABBIT_PORT" \
    RABBITMQ_DIST_PORT="$RABBIT_DIST_PORT" ERL_EPMD_PORT="$EPMD_PORT" \
    RABBITMQ_MNESIA_BASE="$rb_dir/mnesia" RABBITMQ_LOG_BASE="$rb_dir/log" \
    RABBITMQ_CONFIG_FILE="$rb_dir/rabbitmq" RABBITMQ_ENABLED_PLUGINS_FILE="$rb_dir/enabled_plugins" \
    HOME="$rb_dir/home"
}
rabbitmqctl_() { (rabbit_env; rabbitmqctl -n "$RABBIT_NODE" "$@"); }
start_rabbitmq() {
  mkdir -p "$rb_dir"/{mnesia,log,home} "$RUN/logs"
  # The local event sources run the Knative RabbitmqSource adapter on the same manifests, so the
  # broker gets the cluster's consumer_timeout (derived and checked there: cluster.yaml).
  local consumer_timeout
  consumer_timeout="$(sed -n 's/^ *consumer_timeout *= *\([0-9][0-9]*\) *$/\1/p' "$ROOT/knative/rabbitmq/cluster.yaml")"
  [ -n "$consumer_timeout" ] || die "no consumer_timeout in knative/rabbitmq/cluster.yaml"
  cat >"$rb_dir/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$RABBIT_PORT
consumer_timeout = $consumer_timeout
log.console = false
log.file.level = warning
prometheus.tcp.ip = 127.0.0.1
prometheus.tcp.port = $RABBIT_METRICS_PORT
# One series per queue (label queue), so the parked queues and each work queue can be told apart;
# the aggregated default would give only totals for the whole node.
prometheus.return_per_object_metrics = true
CONF
  # The broker's own metrics for Prometheus (RabbitMQ enables the plugin's dependencies itself).
  echo '[rabbitmq_prometheus].' >"$rb_dir/enabled_plugins"
  chown -R rabbitmq:rabbitmq "$rb_dir"
  if pid_alive "$rb_dir/pid" && port_open "$RABBIT_PORT" && rabbitmqctl_ -q -t 10 status >/dev/null 2>&1; then
    return 0
  fi
  require_free_port "$RABBIT_PORT" RabbitMQ
  require_free_port "$RABBIT_METRICS_PORT" "RabbitMQ's Prometheus metrics"
  # Appended, never truncated: a restart keeps what happened before it.
  ( rabbit_env; setsid rabbitmq-server >>"$RUN/logs/rabbitmq.log" 2>&1 & echo $! >"$rb_dir/pid" )
  # await_startup fails at once until the node has registered, so ask until it answers.
  local deadline=$((SECONDS + RABBIT_START_SECONDS))
  until rabbitmqctl_ -q -t 10 await_startup >/dev/null 2>&1 && port_open "$RABBIT_PORT"; do
    pid_alive "$rb_dir/pid" || die "RabbitMQ exited at start; see $RUN/logs/rabbitmq.log and $rb_dir/log"
    [ "$SECONDS" -lt "$deadline" ] || die "RabbitMQ did not start within $RABBIT_START_SECONDS s; see $RUN/logs/rabbitmq.log and $rb_dir/log"
    sleep 0.5
  done
  # The broker itself (beam) runs in a session of its own under su: record its pid too, so a
  # test or a chaos run can kill exactly it.
  rabbitmqctl_ -q eval 'os:getpid().' | tr -d '"' >"$rb_dir/beam.pid"
  wait_port "$RABBIT_METRICS_PORT" "RabbitMQ's Prometheus plugin" 30 "$RUN/logs/rabbitmq.log"
  log "RabbitMQ on 127.0.0.1:$RABBIT_PORT (metrics: http://127.0.0.1:$RABBIT_METRICS_PORT/metrics)"
}
stop_rabbitmq() {
  pid_alive "$rb_dir/pid" || return 0
  rabbitmqctl_ -q stop >/dev/null 2>&1 || true
  local pid; pid=$(cat "$rb_dir/pid")
  gone "$pid" 20 || kill "$pid" 2>/dev/null || true
  # The node's own epmd stays behind otherwise, holding its private port.
  (rabbit_env; epmd -port "$EPMD_PORT" -kill >/dev/null 2>&1 || true)
  rm -f "$rb_dir/pid" "$rb_dir/beam.pid"
}

# --- FerretDB (MongoDB wire protocol) -------------------------------------------------------
# FerretDB stores its data in a PostgreSQL cluster of its own: sharing the users' cluster would
# turn every restart of it into failed MongoDB operations, so "PostgreSQL down" and "MongoDB down"
# could not be told apart. (Its SQLite backend works too, but reads about 3x slower.)
mg_dir="$RUN/ferretdb"
start_mongo() {
  # An external server named by MONGO_URL is used as it is; our own URL (from `env`) is not external.
  if [ -n "${MONGO_URL:-}" ] && [[ "$MONGO_URL" != *"127.0.0.1:$MONGO_PORT"* ]]; then
    log "using MONGO_URL=$MONGO_URL"; return 0
  fi
  mkdir -p "$mg_dir" "$RUN/logs"
  local ferretdb=false
  command -v mongod >/dev/null 2>&1 || ferretdb=true
  # FerretDB's PostgreSQL first, also when FerretDB itself still runs: it may be what died.
  if $ferretdb; then
    start_pg_cluster "$mg_dir/postgres" "$MONGO_PG_PORT" ferretdb "FerretDB's PostgreSQL"
  fi
  if pid_alive "$mg_dir/pid"; then
    wait_port "$MONGO_PORT" "the MongoDB-wire server" 60 "$RUN/logs/mongo.log"
    return 0
  fi
  if $ferretdb; then
    # Only while FerretDB is down (its transactions would hold the tables the backfill locks;
    # what the file set stays in the cluster), before it connects (the plan settings hold for
    # new sessions), with deadlines on locks and statements.
    PGOPTIONS="-c lock_timeout=10s -c statement_timeout=300s" \
      psql -h 127.0.0.1 -p "$MONGO_PG_PORT" -U postgres -d ferretdb -v ON_ERROR_STOP=1 -q \
      -f "$ROOT/scripts/ferretdb-indexes.sql" >>"$RUN/logs/mongo.log" 2>&1 \
      || die "could not apply scripts/ferretdb-indexes.sql to FerretDB's PostgreSQL; see $RUN/logs/mongo.log"
  fi
  require_free_port "$MONGO_PORT" "the MongoDB-wire server"
  if ! $ferretdb; then
    mkdir -p "$mg_dir/mongod"
    setsid mongod --bind_ip 127.0.0.1 --port "$MONGO_PORT" --dbpath "$mg_dir/mongod" \
      >>"$RUN/logs/mongo.log" 2>&1 & echo $! >"$mg_dir/pid"
  else
    setsid "$ROOT/.run/bin/ferretdb-local" --handler=postgresql \
      --postgresql-url="postgres://postgres@127.0.0.1:$MONGO_PG_PORT/ferretdb" \
      --listen-addr="127.0.0.1:$MONGO_PORT" >>"$RUN/logs/mongo.log" 2>&1 & echo $! >"$mg_dir/pid"
  fi
  wait_port "$MONGO_PORT" "the MongoDB-wire server" 60 "$RUN/logs/mongo.log"
  log "MongoDB wire (FerretDB) on 127.0.0.1:$MONGO_PORT"
}
stop_mongo() {
  if pid_alive "$mg_dir/pid"; then
    local pid; pid=$(cat "$mg_dir/pid")
    kill "$pid" 2>/dev/null || true
    gone "$pid" 5 || kill -9 "$pid" 2>/dev/null || true
    rm -f "$mg_dir/pid"
  fi
  stop_pg_cluster "$mg_dir/postgres"
}

print_env() {
  cat <<ENV
export DATABASE_URL=postgresql://postgres@127.0.0.1:$PG_PORT/video2audio
export RABBITMQ_URL=amqp://guest:guest@127.0.0.1:$RABBIT_PORT/%2F
export MONGO_URL=${MONGO_URL:-mongodb://127.0.0.1:$MONGO_PORT/}
ENV
}

case "${1:-}" in
  start) start_postgres; start_rabbitmq; start_mongo ;;
  stop) stop_mongo; stop_rabbitmq; stop_postgres ;;
  status)
    for p in "$PG_PORT:PostgreSQL" "$RABBIT_PORT:RabbitMQ" "$RABBIT_METRICS_PORT:RabbitMQ-metrics" "$MONGO_PORT:MongoDB-wire"; do
      if port_open "${p%%:*}"; then echo "${p#*:} up on ${p%%:*}"; else echo "${p#*:} down"; fi
    done ;;
  env) print_env ;;
  start-postgres) start_postgres ;; stop-postgres) stop_postgres ;;
  start-rabbitmq) start_rabbitmq ;; stop-rabbitmq) stop_rabbitmq ;;
  restart-rabbitmq) stop_rabbitmq; start_rabbitmq ;;
  start-mongo) start_mongo ;; stop-mongo) stop_mongo ;;
  *) echo "usage: $0 start|stop|status|env|start-<svc>|stop-<svc>|restart-rabbitmq" >&2; exit 2 ;;
esac
