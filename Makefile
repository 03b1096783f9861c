# Video2Audio — the two commands are `make up` and `make test`; the rest are steps of those.
SHELL := /bin/bash
PY := .venv/bin/python
PYTEST := .venv/bin/pytest

.PHONY: chaos load replay install services up down test test-unit test-integration test-e2e test-knative test-monitoring prometheus-rule lint lint-shell fmt \
	bench bench-cli bench-pipeline expire deploy undeploy kn

install:
	@bash scripts/install.sh

services: install
	@bash scripts/services.sh start

up: install
	@bash scripts/stack.sh up

down:
	@bash scripts/stack.sh down

# Style, and the architecture's import rules (pyproject.toml, [tool.importlinter]).
lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports

test: services lint lint-shell test-knative test-monitoring
	$(PYTEST) --durations=10 tests/unit tests/integration tests/e2e

# Every shell script, with shellcheck (Debian's, installed by scripts/install.sh); -x follows
# what they source (scripts/versions.env).
lint-shell: install
	shellcheck -x scripts/*.sh .ci/run

# Offline checks of the Knative deployment (Knative's own validation, kn --target, hadolint)
# and the local event sources' Go tests.
test-knative: install
	cd go && go test -timeout 20m ./...

# Prometheus' configuration, the recording and alerting rules, and their unit tests (promtool,
# from Debian's prometheus package: series that must fire each alert and series that must not).
test-monitoring: install
	promtool check config monitoring/prometheus.yml
	promtool check rules monitoring/rules/*.yml
	promtool test rules monitoring/tests/*.test.yml

# knative/monitoring/prometheus-rule.yaml from monitoring/rules/ (go/validate fails while they differ).
prometheus-rule:
	cd go && go run ./cmd/render-prometheus-rule >../knative/monitoring/prometheus-rule.yaml.new
	mv knative/monitoring/prometheus-rule.yaml.new knative/monitoring/prometheus-rule.yaml

test-unit: install
	$(PYTEST) tests/unit

test-integration: services
	$(PYTEST) tests/integration

# Conversion benchmark: generates 10- and 60-minute inputs, writes bench/results.md.
bench: services
	.venv/bin/pip install -q -e ".[dev,bench]"
	$(PY) -m bench.run

# Sending only the sound (issue 21): the CLI on a 1 GB 1080p recording, both ways, against the
# running stack (after make up); writes its section of bench/results.md.
bench-cli: install
	$(PY) -m bench.cli_extract

# The whole pipeline (issue 16): upload answered to job done on the 3-minute input, against the
# running stack (after make up), with (a) and (g) in the same run; writes its section of
# bench/results.md.
bench-pipeline: install
	$(PY) -m bench.pipeline

# Load on the running stack (after make up): logins, uploads and status polls at once; writes
# bench/load.md.
load: install
	$(PY) -m bench.load

# The full chaos run (chaos/run.py): 30 jobs while every component is SIGKILLed at random.
chaos: install
	$(PY) -m chaos.run

# make replay QUEUE=convert|notify: move the messages parked in <queue>.parked back to <queue>.
replay: install
	@.venv/bin/python -m video2audio.infra.replay $(QUEUE)

# Fire one ping at the expire function now, as the PingSource would on its schedule.
expire:
	@.run/bin/local-eventing ping --once --manifest knative/eventing/expire-ping.yaml \
		--sink-map expire=http://127.0.0.1:8085

# The Knative deployment on a local kind cluster (needs docker, kind, kubectl, kn).
deploy:
	@bash scripts/deploy.sh up

undeploy:
	@bash scripts/deploy.sh down

# kn for `make deploy` (deploy.sh prefers .run/bin/kn); the tests run `go tool kn` instead.
# It builds the knative.dev/client that go/go.mod pins: v0.48, the Knative 1.21 line (the module
# proxy refuses the 1.22 line's client/pkg; scripts/versions.env says why).
kn:
	@cd go && echo "building kn from knative.dev/client $$(go list -m -f '{{.Version}}' knative.dev/client) (Knative 1.21 line) into .run/bin/kn"
	cd go && go build -o ../.run/bin/kn knative.dev/client/cmd/kn

fmt: install
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .
