# `make demo` and `make test` each set up the virtual environment from scratch when needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
JS_STAMP := tests/js/node_modules/.installed-stamp
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
DOMAIN := planwatch

.PHONY: demo test lint typecheck unit wheel-check bench clean catalogs

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
	$(BIN)/ruff format --check engine tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# From the lock file: ical.js (the calendar parser of Thunderbird) for tests/calendars/test_write.py, and
# axe-core for the accessibility check of the web pages (tests/web/test_site_a11y.py).
$(JS_STAMP): tests/js/package.json tests/js/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd tests/js && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed-stamp; \
	else echo "npm not found: the ical.js and axe-core tests are skipped here (and fail in CI)"; fi

# The PostgreSQL pass runs when a server answers on 127.0.0.1:5432 (or PLANWATCH_TEST_POSTGRES_URL is set).
# pytest-xdist spreads the tests over one worker per core (PYTEST_WORKERS=0: one process); each worker starts
# with a run of whole modules (a module's server, browser or wheel is set up once) and an idle one takes tests
# from a busy one. The slowest tests are listed last. The free-running nodes run afterwards with the machine to
# themselves: three nodes on a clock of real seconds, whose passes must not outlive their leases for want of a core.
PYTEST_WORKERS ?= auto
ALONE := tests/drive/test_dispatch_nodes.py
unit: $(STAMP) $(JS_STAMP)
	@if [ -z "$$PLANWATCH_TEST_POSTGRES_URL" ] && $(BIN)/python -c 'import psycopg,sys; psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres connect_timeout=2").close()' 2>/dev/null; then \
		export PLANWATCH_TEST_POSTGRES_URL='$(PG_URL)'; fi; \
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal --durations=25 --ignore=$(ALONE) && $(BIN)/pytest $(ALONE)

test: lint typecheck unit

# The wheel as people install it: built, installed with the dependencies it declares into a fresh
# virtual environment, and run from an empty temporary folder: `planwatch demo` (the example it
# ships), then `planwatch init` and `planwatch rules check` in the new project. CI runs it after
# `make test`; tests/test_packaging.py does the same from the sdist, faster, with .venv's dependencies.
wheel-check:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && set -e && \
	rm -rf build && $(PYTHON) -m pip wheel --quiet --no-deps --wheel-dir "$$tmp/dist" . && rm -rf build && \
	$(PYTHON) -m venv "$$tmp/venv" && "$$tmp/venv/bin/python" -m pip install --quiet "$$tmp"/dist/planwatch-*.whl && \
	mkdir "$$tmp/empty" && cd "$$tmp/empty" && \
	{ "$$tmp/venv/bin/planwatch" demo --out "$$tmp/demo" >"$$tmp/demo.log" 2>&1 || { cat "$$tmp/demo.log"; exit 1; }; } && \
	grep '^Messages sent: ' "$$tmp/demo.log" && test -z "$$(ls -A)" && \
	"$$tmp/venv/bin/planwatch" init "$$tmp/project" && cd "$$tmp/project" && "$$tmp/venv/bin/planwatch" rules check && \
	echo "wheel-check: the installed wheel runs demo and init from an empty folder"

# After a message is added or changed in the code or a template: the French and Spanish catalogs get the new
# and changed entries (marked fuzzy until someone translates them; tests/test_languages.py fails meanwhile).
catalogs: $(STAMP)
	$(BIN)/pybabel -q extract --no-location --sort-output --project=planwatch --copyright-holder="planwatch authors" -F babel.cfg -o engine/locale/$(DOMAIN).pot engine templates
	@for lang in fr es; do \
		if [ -f engine/locale/$$lang/LC_MESSAGES/$(DOMAIN).po ]; then \
			$(BIN)/pybabel -q update -i engine/locale/$(DOMAIN).pot -d engine/locale -D $(DOMAIN) -l $$lang; \
		else $(BIN)/pybabel -q init -i engine/locale/$(DOMAIN).pot -d engine/locale -D $(DOMAIN) -l $$lang; fi; \
	done

bench: $(STAMP)
	$(BIN)/python bench/bench_timeframe.py
	$(BIN)/python bench/bench_feeds.py
	$(BIN)/python bench/bench_web.py
	$(BIN)/python bench/bench_email.py
	$(BIN)/python bench/bench_engine.py
	$(BIN)/python bench/bench_postgres.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache tests/js/node_modules
