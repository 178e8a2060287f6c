# Agent Governance Console. `make demo` and `make test` work on a fresh machine with
# Python 3.11+ and make; everything else is installed into .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test bench install install-dev lint format clean demo-reset mutation

$(VENV)/.python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml clients/python/pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[dev]" -e "./clients/python[mcp]"
	@touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

## demo: install, migrate, load the demo organisation, serve http://$(HOST):$(PORT) (PORT=8000
## by default: `make demo PORT=8080`) with the periodic work (sealing, rollups, approval
## expiry and escalation) running beside it, as Celery beat and a worker do in production
demo: install
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo
	@echo ""
	@echo "Console: http://$(HOST):$(PORT)/   (Ctrl-C to stop)"
	@export SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)}; \
	DEBUG=1 $(BIN)/python manage.py run_periodic & periodic=$$!; \
	trap 'kill $$periodic 2>/dev/null' EXIT INT TERM; \
	DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

## demo-reset: forget the demo database (SQLite) so the next `make demo` starts over
demo-reset:
	rm -f db.sqlite3 db.sqlite3-wal db.sqlite3-shm .demo-token audit-witness.jsonl

## test: the whole suite (PostgreSQL-only tests skip on SQLite; set DATABASE_URL for them)
test: install-dev
	$(BIN)/python -m pytest

## bench: the rate limiter's and the conditions' costs, then the decision API against a floor
## view (ratio last)
bench: install-dev
	$(BIN)/python bench/ratelimit_bench.py
	$(BIN)/python bench/conditions_bench.py
	$(BIN)/python bench/run.py

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache

## mutation: mutation testing (mutmut) of the decision engine, the identity rules and the
## clients' fail-closed paths against their tests; prints the score per module.
## tests/MUTATION.md: scope, run time and the equivalent survivors.
mutation: install-dev
	rm -rf mutants
	AGC_MUTATION_DB_DIR=$(CURDIR)/mutants/.db $(BIN)/mutmut run
	$(BIN)/python tests/mutation_score.py
