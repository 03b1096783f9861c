#!/usr/bin/env bash
# Installs what the project needs, idempotently: Debian packages, the Python virtualenv,
# and the project's Go programs (FerretDB wrapper). Safe to run again: it skips what is there.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="$ROOT/.run"
mkdir -p "$RUN/bin" "$RUN/logs"
log() { printf '[install] %s\n' "$*" >&2; }

missing=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql)
command -v rabbitmq-server >/dev/null 2>&1 || missing+=(rabbitmq-server)
command -v ffprobe >/dev/null 2>&1 || missing+=(ffmpeg)
# Headless browser for the web page's end-to-end tests (Playwright drives it; it never downloads one).
[ -x /usr/bin/chromium ] || missing+=(chromium)
# Lints every shell script in `make test` (make lint-shell).
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
# Prometheus under `make up`, and its promtool for the rules' checks and unit tests in `make test`.
{ command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; } || missing+=(prometheus)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  # The packages try to start their system services; there is no init system here, so
  # a policy-rc.d keeps them from trying.
  policy_added=false
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    policy_added=true
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if $policy_added; then rm -f /usr/sbin/policy-rc.d; fi
fi

if [ ! -x "$ROOT/.venv/bin/python" ]; then
  log "creating .venv"
  python3 -m venv "$ROOT/.venv"
fi
stamp="$ROOT/.venv/.installed-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  log "installing Python dependencies"
  "$ROOT/.venv/bin/pip" install -q --upgrade pip
  "$ROOT/.venv/bin/pip" install -q -e "${ROOT}[dev]"
  touch "$stamp"
fi

# tus-js-client (package.json, pinned by package-lock.json): the resumable-upload tests run it
# under Node, and the web page is served its browser build. Into node_modules/ (git-ignored).
js_stamp="$ROOT/node_modules/.installed-$(sha256sum "$ROOT/package-lock.json" | cut -c1-16)"
if [ ! -f "$js_stamp" ]; then
  command -v npm >/dev/null 2>&1 || { log "npm is needed (Node 18 or later)"; exit 1; }
  log "installing JavaScript dependencies"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$js_stamp"
fi
# The web page's copy of tus-js-client's browser build, served by the upload function and
# shipped in its image with functions/ (git-ignored: it comes from the locked npm package).
vendor="$ROOT/functions/upload/static/vendor"
if ! cmp -s "$ROOT/node_modules/tus-js-client/dist/tus.min.js" "$vendor/tus.min.js"; then
  mkdir -p "$vendor"
  cp "$ROOT/node_modules/tus-js-client/dist/tus.min.js" "$vendor/tus.min.js"
fi
# mp4box.js's browser build (ES modules: the entry point and the chunks it imports), with which
# the page takes the sound out of an MP4 or MOV before uploading it.
mp4box_current=true
for module in "$ROOT/node_modules/mp4box/dist"/*.mjs; do
  cmp -s "$module" "$vendor/mp4box/$(basename "$module")" || mp4box_current=false
done
if ! $mp4box_current; then
  rm -rf "$vendor/mp4box"
  mkdir -p "$vendor/mp4box"
  cp "$ROOT/node_modules/mp4box/dist"/*.mjs "$vendor/mp4box/"
fi

build_go() {  # build_go <module dir> <package> <output>
  local dir=$1 pkg=$2 out=$3
  if [ -x "$out" ] && [ -z "$(find "$dir" -newer "$out" -name '*.go' -o -newer "$out" -name 'go.*' | head -1)" ]; then
    return 0
  fi
  log "building $(basename "$out")"
  (cd "$dir" && go build -o "$out" "$pkg")
}
if ! command -v mongod >/dev/null 2>&1 && [ -z "${MONGO_URL:-}" ]; then
  build_go "$ROOT/go/ferretdb" . "$RUN/bin/ferretdb-local"
fi
build_go "$ROOT/go" ./cmd/local-eventing "$RUN/bin/local-eventing"
