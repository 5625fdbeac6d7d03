# The two commands a new user needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DATE ?= 2026-11-20
export AIRFLOW__COSMOS__ENABLE_TELEMETRY := False
export DO_NOT_TRACK := 1

.PHONY: help install postgres redis node chromium wrk demo up api stop psql ui test lint manifest constraints clean bench evaluate celery-run alerts metrics docs

help:
	@echo "make demo    run the daily DAG end to end on the local stack (DATE=$(DATE))"
	@echo "make test    run the whole test suite on a throwaway Postgres"
	@echo "make psql    SQL shell on the demo warehouse (reads SQL on stdin too)"
	@echo "make ui      the Airflow UI on the demo's metadata"
	@echo "make api     the reporting API and dashboard on the demo's warehouse (make demo starts it too)"
	@echo "make stop    stop the demo's Postgres and sandbox"
	@echo "make bench   benchmarks: load, daily transform, extraction, full build, DAG parse (BENCH_ARGS=--help)"
	@echo "make evaluate  alert quality on a 365-day labelled world -> .local/evaluate/report.{json,md} (EVALUATE_ARGS=--help)"
	@echo "make alerts ARGS='list|ack ID|snooze ID --until DATE'  act on the demo's alerts"
	@echo "make celery-run  the DAG on CeleryExecutor with two workers, against a LocalExecutor run"
	@echo "make docs    dbt's docs site for the demo warehouse, served on a free port"
	@echo "make metrics Q='--metrics roas,cpa --group-by metric_time__week,ad_performance__platform'  MetricFlow on the demo warehouse"

# PostgreSQL server binaries: installed with apt-get when missing (needs root).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
		echo "installing PostgreSQL server binaries"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql postgresql-client >/dev/null; }
	@command -v psql >/dev/null 2>&1 || { if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq postgresql-client >/dev/null; fi; }

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt -c constraints.txt
	@touch $(STAMP)

# Redis (the Celery broker of the multi-worker run): installed with apt-get when missing (needs root).
redis:
	@command -v redis-server >/dev/null 2>&1 || { \
		echo "installing redis-server"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq redis-server >/dev/null; }

# Node and npm (the dashboard's chart library comes from the npm registry): installed with apt-get when missing.
node:
	@command -v npm >/dev/null 2>&1 || { \
		echo "installing nodejs and npm"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm >/dev/null; }

# The dashboard's chart library (api/package-lock.json), served by the reporting service.
api/node_modules/.installed: api/package.json api/package-lock.json | node
	cd api && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Headless Chromium for the dashboard's browser tests: installed with apt-get when missing (needs root).
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
		echo "installing chromium"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# wrk, the reporting API's load generator in `make bench` (and its test): installed with apt-get when missing.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
		echo "installing wrk"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; }

install: $(STAMP) postgres redis api/node_modules/.installed

manifest: install
	@DBT_PORT=5432 $(VENV)/bin/dbt parse --project-dir dbt_project --profiles-dir dbt_project --quiet

demo: install
	$(PY) scripts/stack.py demo --date $(DATE)

api: install
	$(PY) scripts/stack.py api --date $(DATE)

up: install
	$(PY) scripts/stack.py up --date $(DATE)

stop:
	@test -x $(PY) && $(PY) scripts/stack.py down || true

psql:
	@psql "$$($(PY) scripts/stack.py psql-dsn)"

ui: install
	@test -f .local/env.sh || $(PY) scripts/stack.py up --date $(DATE)
	source .local/env.sh && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" airflow standalone

# Two workers (pytest-xdist, one Postgres cluster, Airflow home and lake each); the tests of one
# shared end-to-end world stay on one worker (--dist loadgroup). TEST_WORKERS=0 runs them in-process.
TEST_WORKERS ?= 2
test: install chromium wrk
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=25 $(PYTEST_ARGS)

# Benchmarks print figures and never fail on a time; not part of `make test`.
bench: install wrk
	$(PY) scripts/bench.py $(BENCH_ARGS)

# Alert quality (precision, recall, delays, false alerts per workspace per 30 days); not part of `make test`.
evaluate: install postgres
	$(PY) scripts/evaluate.py $(EVALUATE_ARGS)

# Acknowledge, snooze, resolve or list the demo warehouse's alerts (docs/alerting.md).
alerts: install
	@source .local/env.sh && PYTHONPATH=plugins:. $(PY) -m ads_elt.alerts $(ARGS)

# dbt's docs site (models, columns, lineage, exposures, the catalog) for the demo warehouse.
docs: install
	@test -f .local/env.sh || { echo "no demo warehouse yet: run make demo first" >&2; exit 1; }
	$(PY) scripts/stack.py docs

# The semantic layer (MetricFlow) against the demo warehouse; Q holds `mf query`'s arguments (docs/analysts.md).
Q ?= --metrics spend,roas,blended_roas --group-by metric_time__week
metrics: install
	@test -f .local/env.sh || { echo "no demo warehouse yet: run make demo first" >&2; exit 1; }
	@source .local/env.sh && $(PY) scripts/stack.py manifest && cd dbt_project && ../$(VENV)/bin/mf query $(Q)

celery-run: install
	$(PY) scripts/celery_run.py $(CELERY_ARGS)

lint: install
	$(VENV)/bin/ruff check api metabase adapters plugins dags sandbox scripts tests

constraints:
	rm -rf .local/constraints-venv && $(PYTHON) -m venv .local/constraints-venv
	.local/constraints-venv/bin/pip install -q -r requirements-dev.txt
	(echo "# Frozen resolution of requirements-dev.txt (requirements.txt and the test tools) on Python 3.11 (pip freeze). Regenerate with: make constraints"; \
	 .local/constraints-venv/bin/pip freeze) > constraints.txt

clean: stop
	rm -rf .local dbt_project/target dbt_project/logs
