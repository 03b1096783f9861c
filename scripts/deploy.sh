#!/usr/bin/env bash
# Deploy Video2Audio on a local kind cluster with Knative Serving + Eventing, the kn CLI way.
#
#   scripts/deploy.sh [up]        create/refresh everything (idempotent; `make deploy`)
#   scripts/deploy.sh down        delete the kind cluster (`make undeploy`)
#   scripts/deploy.sh urls        print the public URLs and the curl flow
#
# Offline helpers (no cluster, no Docker), used by go/validate to check what `up` would do:
#   scripts/deploy.sh kn-service-args FN   the `kn service create` arguments for FN, one per line
#   scripts/deploy.sh kn-ping-args         the `kn source ping create` arguments, one per line
#   scripts/deploy.sh ping-patch           the merge patch for PingSource fields kn has no flag for
#   scripts/deploy.sh render DIR           `kn service create --target DIR` for every function
#   scripts/deploy.sh secrets              the generated Secrets as YAML (fresh random values)
#   scripts/deploy.sh images               FN IMAGE lines: what `up` builds and loads
#   scripts/deploy.sh build-args FN        the `docker build` arguments for FN's image
#   scripts/deploy.sh image-tag            the content-addressed tag of the function images
#   scripts/deploy.sh source-manifest FILE a RabbitmqSource manifest with its spec-hash annotation
#   scripts/deploy.sh capacity CPUS BYTES  whether a Docker VM of that size is enough
#   scripts/deploy.sh host-port            the host port of kind-config.yaml's ingress mapping
#   scripts/deploy.sh settings             knative/config/settings.yaml with the public URLs
#                                          and CORS origin on that port (what `up` applies)
#
# Runs on bash 3.2 (macOS's /bin/bash) and newer: no bash-4 constructs (`make test` checks),
# sha256 through sha256sum or `shasum -a 256`. Sourcing it defines the functions without running
# anything (tests/unit/deploy).
#
# KN names the kn command (default: kn, preferring .run/bin/kn from `make kn`); go/validate sets
# it to a script running `go tool kn`, the kn go/go.mod pins.
#
# Pinned versions: scripts/versions.env (the only place).
if [ -z "${BASH_VERSINFO:-}" ] || [ "${BASH_VERSINFO[0]}" -lt 3 ] \
  || { [ "${BASH_VERSINFO[0]}" -eq 3 ] && [ "${BASH_VERSINFO[1]}" -lt 2 ]; }; then
  echo "deploy.sh: needs bash 3.2 or newer (this is ${BASH_VERSION:-not bash}); run it as 'bash scripts/deploy.sh'," \
    "or install a newer bash (macOS: 'brew install bash'; Debian/Ubuntu: 'apt-get install bash')" >&2
  exit 1
fi
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/versions.env
source "$ROOT/scripts/versions.env"

CLUSTER_NAME="${CLUSTER_NAME:-video2audio}"
NAMESPACE="video2audio"
DOMAIN="127.0.0.1.sslip.io"
# The kind cluster's config: its hostPort for Kourier's NodePort is the ONE place the public port
# lives; the public URLs, CORS origin and printed URLs are derived from it (KIND_CONFIG: tests).
KIND_CONFIG="${KIND_CONFIG:-$ROOT/kind-config.yaml}"
KOURIER_NODE_PORT=31080
FUNCTIONS=(auth upload convert notify expire)
APP_SECRET="video2audio-secrets"
SETTINGS_CONFIGMAP="video2audio-settings"
PING_NAME="expire-ping"
# Service annotation holding a digest of the kn arguments last applied: `up` runs kn only when
# they changed, because every kn create/update stamps a new timestamp into the revision template
# and would roll out a new revision even when nothing else changed.
ARGS_ANNOTATION="video2audio.dev/kn-args-sha256"
# RabbitmqSource annotation holding a digest of the spec it was created with: its spec is
# immutable (eventing-rabbitmq's webhook refuses any change), so a changed spec means delete and
# create again.
SPEC_ANNOTATION="video2audio.dev/spec-sha256"
SOURCE_MANIFESTS="knative/eventing/convert-source.yaml knative/eventing/notify-source.yaml"
# Applies to the cluster are retried this many times, the wait doubling from APPLY_RETRY_DELAY s:
# a webhook whose pod is up but not yet serving answers "failed calling webhook" for a while.
APPLY_ATTEMPTS="${APPLY_ATTEMPTS:-5}"
APPLY_RETRY_DELAY="${APPLY_RETRY_DELAY:-5}"
WEBHOOK_DEADLINE_SECONDS="${WEBHOOK_DEADLINE_SECONDS:-300}"
# The smallest Docker VM (kind's one node) that runs everything with room for the functions to
# scale up: knative/README.md "Requirements" derives these numbers from the requests.
MIN_DOCKER_CPUS=5
MIN_DOCKER_MEMORY_GIB=6
WAIT_TIMEOUT="${WAIT_TIMEOUT:-600s}"

# kn built from source by `make kn` (go/) is preferred over one on PATH.
export PATH="$ROOT/.run/bin:$PATH"
KN="${KN:-kn}"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'deploy.sh: %s\n' "$*" >&2; exit 1; }

# sha256 of standard input, in sha256sum's format: Linux has sha256sum, macOS `shasum -a 256`.
sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256
  else
    die "neither sha256sum nor shasum is installed (Debian/Ubuntu: coreutils; macOS ships shasum)"
  fi
}

# ---------------------------------------------------------------------------------------------
# What gets deployed: pure functions of the repository, usable offline.
# ---------------------------------------------------------------------------------------------

# The function images' tag: a digest of the build context the Dockerfile reads, so a rebuild of
# changed code gets a new tag, changes the kn arguments and rolls out a new revision, and a rebuild
# of the same code changes nothing. V2A_IMAGE_TAG overrides it (go/validate sets the IMAGE_TAG of
# versions.env, the tag knative/services/ names for `kubectl apply -k`).
BUILD_CONTEXT="deploy/docker pyproject.toml README.md src functions"
image_tag() {
  if [[ -n "${V2A_IMAGE_TAG:-}" ]]; then
    printf '%s\n' "$V2A_IMAGE_TAG"
    return 0
  fi
  local hash
  # Each file's path, then its content, in a fixed order (paths have no newlines).
  # shellcheck disable=SC2086 # BUILD_CONTEXT: paths without spaces
  hash="$(cd "$ROOT" && find $BUILD_CONTEXT -type f ! -name '*.pyc' ! -path '*/__pycache__/*' \
    ! -path '*.egg-info/*' | LC_ALL=C sort | while IFS= read -r f; do
      printf '%s\n' "$f"
      cat "$f"
    done | sha256 | cut -c1-16)"
  printf 'src-%s\n' "$hash"
}
IMAGE_TAG_RESOLVED=""
image_of() {
  [[ -n "$IMAGE_TAG_RESOLVED" ]] || IMAGE_TAG_RESOLVED="$(image_tag)"
  printf '%s/%s%s:%s\n' "$IMAGE_REGISTRY" "$IMAGE_PREFIX" "$1" "$IMAGE_TAG_RESOLVED"
}

is_function() {
  local fn
  for fn in "${FUNCTIONS[@]}"; do [[ "$fn" == "$1" ]] && return 0; done
  return 1
}

# The `kn service create` arguments for one function, one per line (values contain no newlines).
# knative/services/<fn>.yaml describes the same Service; go/validate renders these arguments with
# `kn ... --target` and compares.
kn_service_args() {
  local fn="$1" min max concurrency timeout request limit http=false public=false
  local -a extra=()
  case "$fn" in
    auth)
      # min-scale 1: logins are never cold. bcrypt is CPU-bound: 10 requests per pod at most.
      # The activator always in the path (target-burst-capacity -1), so X-Forwarded-For always has
      # the same three trusted entries: Kourier's peer, the gateway, the activator
      # (TRUSTED_PROXY_HOPS=3 in knative/config/settings.yaml; knative/README.md).
      min=1 max=5 concurrency=10 timeout=60 request=cpu=100m,memory=128Mi limit=cpu=1,memory=256Mi
      extra=(--annotation-revision autoscaling.knative.dev/target-burst-capacity=-1)
      http=true public=true ;;
    upload)
      # Large uploads over slow links take minutes.
      min=0 max=5 concurrency=10 timeout=600 request=cpu=100m,memory=256Mi limit=cpu=1,memory=512Mi
      http=true public=true ;;
    convert)
      # One conversion per pod, scale out by pods; 600 s is Serving's default maximum timeout.
      min=0 max=4 concurrency=1 timeout=600 request=cpu=500m,memory=512Mi limit=cpu=1,memory=1Gi
      extra=(--annotation-revision autoscaling.knative.dev/scale-down-delay=60s) ;;
    notify)
      min=0 max=3 concurrency=10 timeout=120 request=cpu=50m,memory=128Mi limit=cpu=500m,memory=256Mi ;;
    expire)
      min=0 max=1 concurrency=1 timeout=300 request=cpu=50m,memory=128Mi limit=cpu=500m,memory=256Mi ;;
    *) die "unknown function '$fn' (one of: ${FUNCTIONS[*]})" ;;
  esac
  local -a args=(
    "$fn"
    --namespace "$NAMESPACE"
    --image "$(image_of "$fn")"
    --pull-policy IfNotPresent
    --env-from "config-map:$SETTINGS_CONFIGMAP"
    --env-from "secret:$APP_SECRET"
    --scale-min "$min"
    --scale-max "$max"
    --concurrency-limit "$concurrency"
    --timeout "$timeout"
    --request "$request"
    --limit "$limit"
    --security-context strict
    --label-service app.kubernetes.io/part-of=video2audio
  )
  # ${a[@]+...}: bash 3.2 calls an empty array unbound under set -u.
  args+=(${extra[@]+"${extra[@]}"})
  if [[ "$http" == true ]]; then
    # HTTP functions answer GET /healthz; CloudEvent ones keep the default TCP probe
    # (functions-framework answers GET with 405 there).
    args+=(--probe-readiness "http:::/healthz")
  fi
  if [[ "$public" == true ]]; then
    args+=(--no-cluster-local)
  else
    args+=(--cluster-local)
  fi
  printf '%s\n' "${args[@]}"
}

# `kn source ping create` arguments (same values as knative/eventing/expire-ping.yaml).
kn_ping_args() {
  printf '%s\n' "$PING_NAME" \
    --namespace "$NAMESPACE" \
    --schedule "* * * * *" \
    --data '{}' \
    --sink "ksvc:expire"
}

# PingSource fields kn has no flag for; applied with `kubectl patch --type merge` after kn.
ping_patch() {
  printf '%s\n' '{"spec":{"contentType":"application/json","timezone":"Etc/UTC"}}'
}

docker_build_args() {
  local fn="$1"
  is_function "$fn" || die "unknown function '$fn'"
  printf '%s\n' build \
    --file "$ROOT/deploy/docker/Dockerfile" \
    --target "$fn" \
    --build-arg "PYTHON_BASE_IMAGE=$PYTHON_BASE_IMAGE" \
    --tag "$(image_of "$fn")" \
    "$ROOT"
}

random_secret() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# Percent-encode a value for use inside a URL (user info, password).
urlencode() {
  local value="$1" out="" c i
  for ((i = 0; i < ${#value}; i++)); do
    c="${value:i:1}"
    case "$c" in
      [a-zA-Z0-9.~_-]) out+="$c" ;;
      *) out+="$(printf '%%%02X' "'$c")" ;;
    esac
  done
  printf '%s' "$out"
}

# Secret manifests, from literal KEY=value pairs (kubectl renders them; nothing is applied).
secret_manifest() {
  local name="$1"; shift
  local -a literals=()
  local pair
  for pair in "$@"; do literals+=(--from-literal="$pair"); done
  kubectl create secret generic "$name" --namespace "$NAMESPACE" "${literals[@]}" \
    --dry-run=client -o yaml
}

postgres_secret() { secret_manifest postgres-credentials "POSTGRES_PASSWORD=$1"; }
mongodb_secret() {
  secret_manifest mongodb-credentials MONGO_INITDB_ROOT_USERNAME=root "MONGO_INITDB_ROOT_PASSWORD=$1"
}
# The application's Secret: every value the settings treat as secret (conventions).
app_secret() {
  local pg_password="$1" mongo_password="$2" rabbit_user="$3" rabbit_password="$4"
  secret_manifest "$APP_SECRET" \
    "JWT_SECRET=$(random_secret)" \
    "LINK_SECRET=$(random_secret)" \
    "METRICS_TOKEN=$(random_secret)" \
    "SMTP_PASSWORD=" \
    "DATABASE_URL=postgresql://postgres:$(urlencode "$pg_password")@postgres.$NAMESPACE.svc.cluster.local:5432/video2audio" \
    "MONGO_URL=mongodb://root:$(urlencode "$mongo_password")@mongodb.$NAMESPACE.svc.cluster.local:27017/?authSource=admin" \
    "RABBITMQ_URL=amqp://$(urlencode "$rabbit_user"):$(urlencode "$rabbit_password")@rabbitmq.$NAMESPACE.svc.cluster.local:5672/%2F"
}

print_secrets() {
  postgres_secret "$(random_secret)"
  echo ---
  mongodb_secret "$(random_secret)"
  echo ---
  app_secret "$(random_secret)" "$(random_secret)" "generated-by-the-cluster-operator" "$(random_secret)"
}

# The host port kind-config.yaml maps to Kourier's NodePort (the ingress).
ingress_host_port() {
  local port
  port="$(awk -v node_port="$KOURIER_NODE_PORT" '
    function value(key, rest) { rest = $0; sub(".*" key ":[ \t]*", "", rest); sub(/[ \t#].*/, "", rest); return rest }
    /containerPort:/ { mapped = (value("containerPort") == node_port) }
    mapped && /hostPort:/ { print value("hostPort"); exit }' "$KIND_CONFIG")"
  case "$port" in
    '' | *[!0-9]*) die "$KIND_CONFIG maps no hostPort to containerPort $KOURIER_NODE_PORT (Kourier)" ;;
  esac
  printf '%s\n' "$port"
}

# public_url SERVICE: how a browser on the host reaches a function (no :80 for port 80).
public_url() {
  local port
  port="$(ingress_host_port)" || exit 1
  if [[ "$port" == 80 ]]; then
    printf 'http://%s.%s.%s\n' "$1" "$NAMESPACE" "$DOMAIN"
  else
    printf 'http://%s.%s.%s:%s\n' "$1" "$NAMESPACE" "$DOMAIN" "$port"
  fi
}

# knative/config/settings.yaml with PUBLIC_UPLOAD_URL, PUBLIC_AUTH_URL and CORS_ALLOWED_ORIGINS
# on the ingress host port. The file holds their port-80 form; any other value there is refused
# (edit kind-config.yaml's hostPort instead), so the two cannot drift apart.
settings_manifest() {
  local file="${SETTINGS_FILE:-$ROOT/knative/config/settings.yaml}" upload auth key expected actual
  upload="$(public_url upload)" || exit 1
  auth="$(public_url auth)" || exit 1
  for key in PUBLIC_UPLOAD_URL PUBLIC_AUTH_URL CORS_ALLOWED_ORIGINS; do
    case "$key" in
      PUBLIC_AUTH_URL) expected="http://auth.$NAMESPACE.$DOMAIN" ;;
      *) expected="http://upload.$NAMESPACE.$DOMAIN" ;;
    esac
    actual="$(awk -v key="  $key:" 'index($0, key) == 1 { print $2; exit }' "$file")"
    [[ "$actual" == "$expected" ]] \
      || die "knative/config/settings.yaml: $key is '$actual', expected '$expected' (deploy.sh adds the port of $KIND_CONFIG)"
  done
  awk -v upload="$upload" -v auth="$auth" '
    /^  PUBLIC_UPLOAD_URL:/ { print "  PUBLIC_UPLOAD_URL: " upload; next }
    /^  PUBLIC_AUTH_URL:/ { print "  PUBLIC_AUTH_URL: " auth; next }
    /^  CORS_ALLOWED_ORIGINS:/ { print "  CORS_ALLOWED_ORIGINS: " upload; next }
    { print }' "$file"
}

# `kn service create --target DIR` for every function: writes DIR/<ns>/ksvc/<fn>.yaml, no cluster.
render() {
  local dir="$1" fn line
  local -a args
  command -v "$KN" >/dev/null || die "kn not found: $KN (make kn builds it into .run/bin, or set KN)"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"  # absolute: KN may run kn from another directory
  for fn in "${FUNCTIONS[@]}"; do
    args=()
    while IFS= read -r line; do args+=("$line"); done < <(kn_service_args "$fn")
    "$KN" service create "${args[@]}" --target "$dir" >/dev/null
  done
}

# ---------------------------------------------------------------------------------------------
# The deployment itself.
# ---------------------------------------------------------------------------------------------

# Where to get each tool (no associative arrays: bash 3.2).
install_hint() {
  case "$1" in
    docker) echo "install Docker Desktop (macOS) or Docker Engine (Linux): https://docs.docker.com/engine/install/" ;;
    kind) echo "install kind v0.30 or newer ('brew install kind', or https://kind.sigs.k8s.io/docs/user/quick-start/#installation)" ;;
    kubectl) echo "install kubectl ('brew install kubectl', or https://kubernetes.io/docs/tasks/tools/)" ;;
    kn) echo "build it with 'make kn' (into .run/bin; needs Go) or install it: https://knative.dev/docs/client/install-kn/" ;;
  esac
}

check_prerequisites() {
  local missing=0 tool cmd
  for tool in docker kind kubectl kn; do
    cmd="$tool"
    [[ "$tool" == kn ]] && cmd="$KN"
    if ! command -v "$cmd" >/dev/null 2>&1; then
      printf 'deploy.sh: %s is missing — %s\n' "$tool" "$(install_hint "$tool")" >&2
      missing=1
    fi
  done
  ((missing == 0)) || exit 1
  docker info >/dev/null 2>&1 \
    || die "docker is installed but its engine is not reachable (is the Docker daemon running, and may you use it?)"
}

# capacity_problem CPUS MEMORY_BYTES: a message when a Docker VM of that size is too small for
# the deployment, nothing when it is enough. Pure (tests/unit/deploy).
capacity_problem() {
  local cpus="$1" bytes="$2" gib
  [[ "$cpus" =~ ^[0-9]+$ && "$bytes" =~ ^[0-9]+$ ]] \
    || { echo "cannot read the Docker VM's size (CPUs '$cpus', memory '$bytes' bytes)"; return 0; }
  gib=$((bytes / 1073741824))
  # Docker reports a little less than the VM's nominal memory (the kernel keeps some): 6 GiB
  # configured shows as about 5.8, so compare in MiB with 5% slack.
  if ((cpus < MIN_DOCKER_CPUS)) || ((bytes / 1048576 < MIN_DOCKER_MEMORY_GIB * 1024 * 95 / 100)); then
    printf '%s' "the Docker VM has $cpus CPUs and about $gib GiB of memory; the deployment needs at least"
    printf '%s\n' " $MIN_DOCKER_CPUS CPUs and $MIN_DOCKER_MEMORY_GIB GiB (Docker Desktop: Settings > Resources; see knative/README.md \"Requirements\")"
  fi
}

check_capacity() {
  local info problem
  info="$(docker info --format '{{.NCPU}} {{.MemTotal}}')" || die "docker info failed"
  # shellcheck disable=SC2086 # two numbers
  problem="$(capacity_problem $info)"
  [[ -z "$problem" ]] || die "$problem"
}

ensure_cluster() {
  if kind get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
    log "kind cluster '$CLUSTER_NAME' exists"
  else
    log "creating kind cluster '$CLUSTER_NAME' ($KIND_NODE_IMAGE)"
    kind create cluster --name "$CLUSTER_NAME" --config "$ROOT/kind-config.yaml" \
      --image "$KIND_NODE_IMAGE" --wait 120s
  fi
  kubectl config use-context "kind-$CLUSTER_NAME" >/dev/null
}

# retry ATTEMPTS DELAY COMMAND...: runs COMMAND until it succeeds, at most ATTEMPTS times, waiting
# DELAY s after the first failure and twice as long after each next one; the last failure's
# status is returned, with a message naming the command.
retry() {
  local attempts="$1" delay="$2" n=1 status
  shift 2
  while true; do
    status=0
    "$@" || status=$?
    ((status != 0)) || return 0
    if ((n >= attempts)); then
      printf 'deploy.sh: giving up after %d attempts: %s\n' "$attempts" "$*" >&2
      return "$status"
    fi
    printf 'deploy.sh: attempt %d of %d failed (status %d), again in %d s: %s\n' \
      "$n" "$attempts" "$status" "$delay" "$*" >&2
    sleep "$delay"
    n=$((n + 1))
    delay=$((delay * 2))
  done
}

kubectl_apply() { retry "$APPLY_ATTEMPTS" "$APPLY_RETRY_DELAY" kubectl apply "$@" >/dev/null; }
apply_url() { kubectl_apply --server-side --force-conflicts -f "$1"; }
kubectl_patch() { retry "$APPLY_ATTEMPTS" "$APPLY_RETRY_DELAY" kubectl patch "$@" >/dev/null; }

wait_deployments() { # NAMESPACE
  kubectl wait --namespace "$1" --for=condition=Available deployment --all --timeout="$WAIT_TIMEOUT" >/dev/null \
    || die "deployments in namespace $1 were not Available within $WAIT_TIMEOUT (kubectl -n $1 get pods)"
}

# wait_webhook NAMESPACE SERVICE: deployments Available, then the webhook Service has a ready
# endpoint (as kn quickstart waits): before that, objects its webhook admits are refused.
wait_webhook() {
  local ns="$1" svc="$2" deadline ready
  wait_deployments "$ns"
  deadline=$((SECONDS + WEBHOOK_DEADLINE_SECONDS))
  while true; do
    ready="$(kubectl get endpointslices --namespace "$ns" -l "kubernetes.io/service-name=$svc" \
      -o 'jsonpath={.items[*].endpoints[?(@.conditions.ready==true)].addresses[*]}' 2>/dev/null || true)"
    [[ -z "$ready" ]] || return 0
    ((SECONDS < deadline)) \
      || die "the webhook Service $ns/$svc had no ready endpoint after ${WEBHOOK_DEADLINE_SECONDS} s (kubectl -n $ns get pods,endpointslices)"
    sleep 2
  done
}

install_platform() {
  local gh=https://github.com
  log "Knative Serving $KNATIVE_SERVING_VERSION + Kourier $KNATIVE_KOURIER_VERSION"
  apply_url "$gh/knative/serving/releases/download/$KNATIVE_SERVING_VERSION/serving-crds.yaml"
  kubectl wait --for=condition=Established crd --all --timeout="$WAIT_TIMEOUT" >/dev/null
  apply_url "$gh/knative/serving/releases/download/$KNATIVE_SERVING_VERSION/serving-core.yaml"
  # Serving's webhook validates its ConfigMaps: patching them before it serves fails.
  wait_webhook knative-serving webhook
  apply_url "$gh/knative-extensions/net-kourier/releases/download/$KNATIVE_KOURIER_VERSION/kourier.yaml"
  kubectl_patch configmap/config-network --namespace knative-serving --type merge \
    --patch '{"data":{"ingress-class":"kourier.ingress.networking.knative.dev"}}'
  kubectl_patch configmap/config-domain --namespace knative-serving --type merge \
    --patch "{\"data\":{\"$DOMAIN\":\"\"}}"
  # Kourier appends the address it received a request from to X-Forwarded-For (off by default:
  # then only what the client wrote reaches auth's login throttle).
  kubectl_patch configmap/config-kourier --namespace kourier-system --type merge \
    --patch '{"data":{"use-remote-address":"true"}}'
  kubectl_apply -f "$ROOT/knative/kind/kourier-ingress.yaml"
  wait_deployments knative-serving
  wait_deployments kourier-system

  log "Knative Eventing $KNATIVE_EVENTING_VERSION"
  apply_url "$gh/knative/eventing/releases/download/$KNATIVE_EVENTING_VERSION/eventing-crds.yaml"
  kubectl wait --for=condition=Established crd --all --timeout="$WAIT_TIMEOUT" >/dev/null
  apply_url "$gh/knative/eventing/releases/download/$KNATIVE_EVENTING_VERSION/eventing-core.yaml"
  wait_webhook knative-eventing eventing-webhook

  log "cert-manager $CERT_MANAGER_VERSION"
  apply_url "$gh/cert-manager/cert-manager/releases/download/$CERT_MANAGER_VERSION/cert-manager.yaml"
  # The topology operator's manifest holds cert-manager Certificates: its webhook must serve.
  wait_webhook cert-manager cert-manager-webhook

  log "RabbitMQ cluster operator $RABBITMQ_CLUSTER_OPERATOR_VERSION, topology operator $RABBITMQ_TOPOLOGY_OPERATOR_VERSION"
  apply_url "$gh/rabbitmq/cluster-operator/releases/download/$RABBITMQ_CLUSTER_OPERATOR_VERSION/cluster-operator.yml"
  wait_deployments rabbitmq-system
  apply_url "$gh/rabbitmq/messaging-topology-operator/releases/download/$RABBITMQ_TOPOLOGY_OPERATOR_VERSION/messaging-topology-operator-with-certmanager.yaml"
  wait_deployments rabbitmq-system

  log "eventing-rabbitmq RabbitmqSource $EVENTING_RABBITMQ_VERSION"
  apply_url "$gh/knative-extensions/eventing-rabbitmq/releases/download/$EVENTING_RABBITMQ_VERSION/rabbitmq-source.yaml"
  wait_deployments knative-sources
}

secret_value() { # NAME KEY -> decoded value, or nothing when absent
  # --decode: GNU and macOS base64 both know it (macOS's older ones lack -d).
  kubectl get secret "$1" --namespace "$NAMESPACE" -o "jsonpath={.data.$2}" 2>/dev/null | base64 --decode
}

secret_exists() { kubectl get secret "$1" --namespace "$NAMESPACE" >/dev/null 2>&1; }

# Generated once and kept: a second run reuses what exists (passwords live in the volumes too).
ensure_data_secrets() {
  if ! secret_exists postgres-credentials; then
    log "generating Secret postgres-credentials"
    postgres_secret "$(random_secret)" | kubectl apply -f - >/dev/null
  fi
  if ! secret_exists mongodb-credentials; then
    log "generating Secret mongodb-credentials"
    mongodb_secret "$(random_secret)" | kubectl apply -f - >/dev/null
  fi
}

ensure_app_secret() {
  if secret_exists "$APP_SECRET"; then
    # METRICS_TOKEN came after the first deployments: a Secret made before it gets one now (the
    # functions read it from their next revision on).
    if [[ -z "$(secret_value "$APP_SECRET" METRICS_TOKEN)" ]]; then
      log "adding METRICS_TOKEN to Secret $APP_SECRET"
      kubectl patch secret "$APP_SECRET" --namespace "$NAMESPACE" --type merge \
        -p "{\"stringData\": {\"METRICS_TOKEN\": \"$(random_secret)\"}}" >/dev/null
    fi
    return 0
  fi
  log "generating Secret $APP_SECRET"
  local rabbit_user rabbit_password
  rabbit_user="$(secret_value rabbitmq-default-user username)"
  rabbit_password="$(secret_value rabbitmq-default-user password)"
  [[ -n "$rabbit_user" && -n "$rabbit_password" ]] || die "the RabbitMQ default user Secret is not there yet"
  app_secret "$(secret_value postgres-credentials POSTGRES_PASSWORD)" \
    "$(secret_value mongodb-credentials MONGO_INITDB_ROOT_PASSWORD)" \
    "$rabbit_user" "$rabbit_password" | kubectl apply -f - >/dev/null
}

deploy_data_services() {
  log "namespace, settings, PostgreSQL, MongoDB, Mailpit, RabbitMQ"
  kubectl apply -f "$ROOT/knative/namespace.yaml" >/dev/null
  local settings
  settings="$(settings_manifest)" || exit 1
  printf '%s\n' "$settings" | kubectl apply -f - >/dev/null
  kubectl apply -f "$ROOT/knative/security/" >/dev/null
  ensure_data_secrets
  kubectl apply -f "$ROOT/knative/data/" >/dev/null
  kubectl apply -f "$ROOT/knative/rabbitmq/cluster.yaml" >/dev/null
  kubectl rollout status --namespace "$NAMESPACE" statefulset/postgres --timeout="$WAIT_TIMEOUT"
  kubectl rollout status --namespace "$NAMESPACE" statefulset/mongodb --timeout="$WAIT_TIMEOUT"
  kubectl rollout status --namespace "$NAMESPACE" deployment/mailpit --timeout="$WAIT_TIMEOUT"
  # The operator creates the StatefulSet a moment after the RabbitmqCluster.
  local i
  for ((i = 0; i < 60; i++)); do
    kubectl get statefulset rabbitmq-server --namespace "$NAMESPACE" >/dev/null 2>&1 && break
    sleep 5
  done
  kubectl wait --namespace "$NAMESPACE" --for=condition=AllReplicasReady \
    rabbitmqcluster/rabbitmq --timeout="$WAIT_TIMEOUT" >/dev/null
  ensure_app_secret

  log "messaging topology (exchanges, quorum queues, dead-letter parking)"
  kubectl apply -f "$ROOT/knative/rabbitmq/topology.yaml" >/dev/null
  kubectl wait --namespace "$NAMESPACE" --for=condition=Ready \
    exchanges.rabbitmq.com,queues.rabbitmq.com,bindings.rabbitmq.com --all \
    --timeout="$WAIT_TIMEOUT" >/dev/null
}

# kind load, and when that fails (Docker's containerd image store, e.g. Docker Desktop or Docker
# 29: "content digest not found", kind issue 3795) the same image through a `docker save` archive.
kind_load() { # IMAGE
  local image="$1" archive status=0
  kind load docker-image "$image" --name "$CLUSTER_NAME" && return 0
  log "kind load docker-image failed; loading $image from a docker save archive instead"
  archive="$(mktemp "${TMPDIR:-/tmp}/video2audio-image.XXXXXX")"
  { docker save --output "$archive" "$image" \
    && kind load image-archive "$archive" --name "$CLUSTER_NAME"; } || status=$?
  rm -f "$archive"
  return "$status"
}

build_and_load_images() {
  local fn image line
  local -a args
  for fn in "${FUNCTIONS[@]}"; do
    image="$(image_of "$fn")"
    log "image $image"
    args=()
    while IFS= read -r line; do args+=("$line"); done < <(docker_build_args "$fn")
    DOCKER_BUILDKIT=1 docker "${args[@]}"
    # kind skips the copy when the node already has this exact image.
    kind_load "$image"
  done
}

deploy_services() {
  local fn digest current line
  local -a args
  for fn in "${FUNCTIONS[@]}"; do
    args=()
    while IFS= read -r line; do args+=("$line"); done < <(kn_service_args "$fn")
    digest="$(printf '%s\n' "${args[@]}" | sha256 | cut -c1-32)"
    args+=(--annotation-service "$ARGS_ANNOTATION=$digest" --wait-timeout 600)
    if ! "$KN" service describe "$fn" --namespace "$NAMESPACE" >/dev/null 2>&1; then
      log "kn service create $fn"
      "$KN" service create "${args[@]}"
      continue
    fi
    current="$(kubectl get ksvc "$fn" --namespace "$NAMESPACE" \
      -o "jsonpath={.metadata.annotations.${ARGS_ANNOTATION//./\\.}}")"
    if [[ "$current" == "$digest" ]]; then
      log "kn service $fn: unchanged"
    else
      # --force replaces the whole spec with exactly these arguments, so a setting dropped from
      # the list disappears too (kn service update would only add to what is there).
      log "kn service create --force $fn (arguments changed)"
      "$KN" service create --force "${args[@]}"
    fi
  done
}

# The digest of a RabbitmqSource manifest's spec (kubectl renders it offline as JSON with sorted
# keys, so comments and layout do not count).
source_spec_hash() { # FILE
  kubectl annotate --local -f "$1" "$SPEC_ANNOTATION-" -o 'jsonpath={.spec}' | sha256 | cut -c1-32
}

# The manifest as deploy.sh creates it: the file plus the spec digest annotation.
source_manifest() { # FILE
  kubectl annotate --local -f "$1" "$SPEC_ANNOTATION=$(source_spec_hash "$1")" -o yaml
}

# source_action LIVE_EXISTS LIVE_HASH WANT_HASH -> create | unchanged | replace | adopt
# adopt: a source created without the annotation (an older deploy.sh, or by hand): apply it
# (accepted when the spec is unchanged, refused by the webhook otherwise) and replace on refusal.
source_action() {
  local exists="$1" live="$2" want="$3"
  if [[ "$exists" != true ]]; then
    echo create
  elif [[ -z "$live" ]]; then
    echo adopt
  elif [[ "$live" == "$want" ]]; then
    echo unchanged
  else
    echo replace
  fi
}

# Create or replace one RabbitmqSource. Replacing deletes the source (its adapter stops; messages
# it held unacknowledged go back to the queue) and creates it again: the queue is predeclared
# (knative/rabbitmq/topology.yaml), not owned by the source, so queued messages stay.
deploy_rabbitmq_source() { # FILE
  local file="$1" name exists=false live want action
  name="$(kubectl annotate --local -f "$file" "$SPEC_ANNOTATION-" -o 'jsonpath={.metadata.name}')"
  want="$(source_spec_hash "$file")"
  if kubectl get rabbitmqsource "$name" --namespace "$NAMESPACE" >/dev/null 2>&1; then
    exists=true
    live="$(kubectl get rabbitmqsource "$name" --namespace "$NAMESPACE" \
      -o "jsonpath={.metadata.annotations.${SPEC_ANNOTATION//./\\.}}")"
  fi
  action="$(source_action "$exists" "${live:-}" "$want")"
  case "$action" in
    unchanged) log "RabbitmqSource $name: unchanged" ;;
    create)
      log "RabbitmqSource $name: create"
      source_manifest "$file" | kubectl_apply -f - ;;
    adopt)
      if source_manifest "$file" | kubectl apply -f - >/dev/null 2>&1; then
        log "RabbitmqSource $name: unchanged (annotated)"
      else
        log "RabbitmqSource $name: spec changed (immutable), replacing; the queue and its messages stay"
        kubectl delete rabbitmqsource "$name" --namespace "$NAMESPACE" --wait=true >/dev/null
        source_manifest "$file" | kubectl_apply -f -
      fi ;;
    replace)
      log "RabbitmqSource $name: spec changed (immutable), replacing; the queue and its messages stay"
      kubectl delete rabbitmqsource "$name" --namespace "$NAMESPACE" --wait=true >/dev/null
      source_manifest "$file" | kubectl_apply -f - ;;
  esac
}

deploy_eventing() {
  local line file
  local -a args=()
  while IFS= read -r line; do args+=("$line"); done < <(kn_ping_args)
  if "$KN" source ping describe "$PING_NAME" --namespace "$NAMESPACE" >/dev/null 2>&1; then
    log "kn source ping update $PING_NAME"
    "$KN" source ping update "${args[@]}"
  else
    log "kn source ping create $PING_NAME"
    "$KN" source ping create "${args[@]}"
  fi
  kubectl_patch pingsource "$PING_NAME" --namespace "$NAMESPACE" --type merge --patch "$(ping_patch)"

  # kn has no command for RabbitmqSources.
  for file in $SOURCE_MANIFESTS; do
    deploy_rabbitmq_source "$ROOT/$file"
  done
  kubectl wait --namespace "$NAMESPACE" --for=condition=Ready \
    "pingsource/$PING_NAME" rabbitmqsource/convert-source rabbitmqsource/notify-source \
    --timeout="$WAIT_TIMEOUT" >/dev/null
}

print_urls() {
  local auth upload
  auth="$(public_url auth)" || exit 1
  upload="$(public_url upload)" || exit 1
  cat <<EOF

Video2Audio is up on kind cluster '$CLUSTER_NAME':
  auth    $auth
  upload  $upload
  mail    kubectl -n $NAMESPACE port-forward svc/mailpit 8025   (then http://127.0.0.1:8025)
Watch:    kn service list -n $NAMESPACE; kubectl -n $NAMESPACE get rabbitmqsources,pingsources
Metrics:  GET /metrics on each function, with Authorization: Bearer <token> from
          kubectl -n $NAMESPACE get secret $APP_SECRET -o jsonpath='{.data.METRICS_TOKEN}' | base64 -d

Try it (the same API as on one machine; see README.md "Use it with curl"):
  curl -X POST $auth/register -H 'Content-Type: application/json' \\
    -d '{"username": "you@example.com", "password": "secret123"}'
  T=\$(curl -s -X POST $auth/login -H 'Content-Type: application/json' \\
    -d '{"username": "you@example.com", "password": "secret123"}' | sed -E 's/.*"token": *"([^"]+)".*/\\1/')
  curl -X POST -F "file=@video.mp4" -F format=mp3 -H "Authorization: Bearer \$T" $upload/upload
  curl -H "Authorization: Bearer \$T" $upload/jobs/<job_id>
  curl -H "Authorization: Bearer \$T" -OJ "$upload/download?fid=<audio_fid>"
Or open $upload/ in a browser.
EOF
}

up() {
  local started=$SECONDS
  check_prerequisites
  check_capacity
  ensure_cluster
  install_platform
  deploy_data_services
  build_and_load_images
  deploy_services
  deploy_eventing
  print_urls
  log "done in $((SECONDS - started)) s"
}

down() {
  command -v kind >/dev/null 2>&1 || die "kind is missing — nothing to delete"
  if kind get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
    kind delete cluster --name "$CLUSTER_NAME"
  else
    log "no kind cluster '$CLUSTER_NAME'"
  fi
}

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }

main() {
  local command="${1:-up}" fn
  case "$command" in
    down | -h | --help | help) ;;
    *) IMAGE_TAG_RESOLVED="$(image_tag)" ;;  # once: it reads the whole build context
  esac
  case "$command" in
    up) up ;;
    down) down ;;
    urls) print_urls ;;
    kn-service-args) kn_service_args "${2:?function name}" ;;
    kn-ping-args) kn_ping_args ;;
    ping-patch) ping_patch ;;
    render) render "${2:?target directory}" ;;
    secrets) print_secrets ;;
    images) for fn in "${FUNCTIONS[@]}"; do printf '%s %s\n' "$fn" "$(image_of "$fn")"; done ;;
    image-tag) printf '%s\n' "$IMAGE_TAG_RESOLVED" ;;
    build-args) docker_build_args "${2:?function name}" ;;
    source-manifest) source_manifest "${2:?RabbitmqSource manifest}" ;;
    capacity)
      local problem
      problem="$(capacity_problem "${2:?CPUs}" "${3:?memory bytes}")"
      [[ -z "$problem" ]] || die "$problem"
      echo "enough: at least $MIN_DOCKER_CPUS CPUs and $MIN_DOCKER_MEMORY_GIB GiB" ;;
    host-port) ingress_host_port ;;
    settings) settings_manifest ;;
    -h | --help | help) usage ;;
    *) die "unknown command '$command' (try --help)" ;;
  esac
}

# Sourced (tests), only the definitions; run, the command.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
