# `make demo` and `make test` each set up the virtual environment from scratch when needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

.PHONY: demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "planwatch needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/planwatch demo

lint: $(STAMP)
	$(BIN)/ruff check engine tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# The PostgreSQL pass runs when a server answers on 127.0.0.1:5432 (or PLANWATCH_TEST_POSTGRES_URL is set).
unit: $(STAMP)
	@if [ -z "$$PLANWATCH_TEST_POSTGRES_URL" ] && $(BIN)/python -c 'import psycopg,sys; psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres connect_timeout=2").close()' 2>/dev/null; then \
		export PLANWATCH_TEST_POSTGRES_URL='$(PG_URL)'; fi; \
	$(BIN)/pytest

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python bench/bench_timeframe.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
