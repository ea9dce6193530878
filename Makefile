# The README's commands. Everything installs into .venv with the machine's Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# PostgreSQL for the second test run; pytest-django creates a fresh test_kvit database in it.
PG_URL ?= postgres://postgres@127.0.0.1:5432/kvit
DEMO_ACCOUNTS ?= 500
BENCH_ACCOUNTS ?= 1000000

# What detect-secrets reads (lint): any secret found fails, unless its line says
# `pragma: allowlist secret` (the demo's published passwords, the tests' own secrets).
SCANNED = $(shell find src tests docs -type f \( -name '*.py' -o -name '*.md' -o -name '*.html' \
	-o -name '*.yaml' -o -name '*.toml' -o -name '*.typ' \) | sort) pyproject.toml Makefile README.md

.PHONY: demo test install lint audit test-sqlite test-postgres bench-engine bench-seed bench-billing bench-registry bench-reconcile clean

$(BIN)/kvit: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Kvit needs Python 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $@

install: $(BIN)/kvit

## demo: install, migrate the SQLite database, seed demo data, bill its months, serve on 127.0.0.1:8000
demo: install
	$(BIN)/kvit migrate --noinput
	$(BIN)/kvit seed --accounts $(DEMO_ACCOUNTS) --if-empty
	$(BIN)/kvit bill_demo
	$(BIN)/kvit runserver 127.0.0.1:8000

## test: install, lint, then the whole suite on SQLite and on PostgreSQL, both at once (a
## core each; each run's output is shown whole when it ends)
test: install lint
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy
	$(BIN)/lint-imports
	DATABASE_URL=sqlite:///$(CURDIR)/var/lint.sqlite3 $(BIN)/kvit makemigrations --check --dry-run
	$(BIN)/bandit --recursive src --quiet --severity-level high
	@echo detect-secrets-hook ...
	@$(BIN)/detect-secrets-hook $(SCANNED)

test-sqlite: install
	DATABASE_URL=sqlite:///$(CURDIR)/var/test.sqlite3 $(BIN)/pytest \
		--cov=kvit.core --cov-branch --cov-report=term-missing:skip-covered --cov-fail-under=100

# Without a reachable server this run is skipped, except under CI=true where it fails.
# The database in PG_URL need not exist: the check asks the server's "postgres" database.
test-postgres: install
	@if $(BIN)/python -c 'import sys, psycopg; psycopg.connect(sys.argv[1], connect_timeout=3).close()' "$(dir $(PG_URL))postgres" 2>/dev/null; then \
		DATABASE_URL=$(PG_URL) $(BIN)/pytest --create-db; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL is not reachable at $(PG_URL), and CI=true requires it." >&2; exit 1; \
	else \
		echo "PostgreSQL is not reachable at $(PG_URL): skipping the PostgreSQL run (it is required when CI=true)."; \
	fi

## bench-engine: charge lines per second of the pure engine on one core (target ≥ 150,000)
bench-engine: install
	$(BIN)/python -m kvit.benchmarks.engine --accounts 20000

## bench-turnover: the turnover statement and its CSV/XLSX exports on DATABASE_URL (read-only)
bench-turnover: install
	$(BIN)/python -m kvit.benchmarks.turnover

## bench-seed: time `kvit seed` for BENCH_ACCOUNTS accounts on a scratch PostgreSQL database
bench-seed: install
	$(BIN)/python -m kvit.demo.bench --accounts $(BENCH_ACCOUNTS) --server $(patsubst %/,%,$(dir $(PG_URL)))

## bench-billing: bill run, real-time and turnover benchmarks on a copy of the seeded
## PostgreSQL database BENCH_DB (made by `kvit seed --accounts …`; left untouched)
BENCH_DB ?= kvit_bench
BENCH_SERVER := $(patsubst %/,%,$(dir $(PG_URL)))
bench-billing: install
	$(BIN)/python -c 'import sys, psycopg; c = psycopg.connect(sys.argv[1], autocommit=True); c.execute("DROP DATABASE IF EXISTS $(BENCH_DB)_run"); c.execute("CREATE DATABASE $(BENCH_DB)_run TEMPLATE $(BENCH_DB)")' "$(BENCH_SERVER)/postgres"
	DATABASE_URL=$(BENCH_SERVER)/$(BENCH_DB)_run $(BIN)/kvit migrate --noinput -v0
	DATABASE_URL=$(BENCH_SERVER)/$(BENCH_DB)_run $(BIN)/python -m kvit.benchmarks.billrun --period 2025-06 --workers 2
	DATABASE_URL=$(BENCH_SERVER)/$(BENCH_DB)_run $(BIN)/python -m kvit.benchmarks.realtime --samples 300

## bench-registry: import a BENCH_LINES-line bank registry for the seeded accounts (then again,
## and the same lines under another payment order) on a copy of BENCH_DB (left untouched)
BENCH_LINES ?= 1000000
bench-registry: install
	$(BIN)/python -c 'import sys, psycopg; c = psycopg.connect(sys.argv[1], autocommit=True); c.execute("DROP DATABASE IF EXISTS $(BENCH_DB)_run"); c.execute("CREATE DATABASE $(BENCH_DB)_run TEMPLATE $(BENCH_DB)")' "$(BENCH_SERVER)/postgres"
	DATABASE_URL=$(BENCH_SERVER)/$(BENCH_DB)_run $(BIN)/kvit migrate --noinput -v0
	DATABASE_URL=$(BENCH_SERVER)/$(BENCH_DB)_run $(BIN)/python -m kvit.benchmarks.registry --lines $(BENCH_LINES)

## bench-reconcile: time the reconciliation checks on the copy bench-registry or
## bench-billing left (read-only)
bench-reconcile: install
	DATABASE_URL=$(BENCH_SERVER)/$(BENCH_DB)_run $(BIN)/python -m kvit.benchmarks.reconcile

## audit: the installed packages' known vulnerabilities (pip-audit --strict: a package it
## cannot look up fails, so an unreachable feed is not reported as "no vulnerabilities") and
## their SBOM in var/sbom.json (CycloneDX); needs the network
audit: install
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev,audit]"
	mkdir -p var
	$(BIN)/cyclonedx-py environment $(VENV) --output-file var/sbom.json
	$(BIN)/pip-audit --strict --local

clean:
	rm -rf $(VENV) var
