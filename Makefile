# Shequ: two commands do everything (see README.md).
#   make run   set up .venv, migrate, load the demo, serve http://127.0.0.1:8000
#   make test  set up .venv, ruff, the test suite on SQLite (and on PostgreSQL when DATABASE_URL says so)

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
# Threads per worker: the hall displays hold a request open (long-poll) while they wait for a call.
THREADS ?= 8
TEST_SQLITE ?= 1
PYTEST_ARGS ?=

BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/shequ_bench
BENCH_CASES ?= 50000
# Persons in the resident database (bench/residents.py loads them with COPY; 2.5 million take ~15 min once).
BENCH_PERSONS ?= 2500000

.PHONY: run test test-browser lint typecheck venv clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

run: venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py load_demo --print-logins
	@echo ""
	@echo "社区综合服务平台 / Shequ is running at http://$(HOST):$(PORT)/   (Ctrl-C stops it)"
	@echo ""
	@# The background worker (deadline sweep, SMS/in-app delivery) runs beside the web server;
	@# Ctrl-C stops both. A 120 s timeout lets a 100,000-row masked export finish (about 30 s).
	@trap 'kill 0' INT TERM EXIT; \
	$(BIN)/python manage.py worker --interval 10 & \
	$(BIN)/gunicorn shequ.wsgi --bind $(HOST):$(PORT) --workers $(WORKERS) --threads $(THREADS) --timeout 120 --access-logfile - --log-level warning

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy shequ

# The suite on SQLite (unless TEST_SQLITE=0), then on PostgreSQL when DATABASE_URL points at one.
test: lint typecheck
	$(BIN)/python manage.py makemigrations --check --dry-run --verbosity 0
	@if [ "$(TEST_SQLITE)" != "0" ]; then \
		echo "== tests on SQLite"; \
		env -u DATABASE_URL SHEQU_TESTING=1 $(BIN)/pytest -m "not browser" -q $(PYTEST_ARGS) || exit 1; \
	fi
	@case "$$DATABASE_URL" in postgres*) \
		echo "== tests on PostgreSQL ($${DATABASE_URL%%@*}@…)"; \
		SHEQU_TESTING=1 $(BIN)/pytest -m "not browser" -q $(PYTEST_ARGS) || exit 1;; \
	esac

# Browser tests: Playwright driving Debian's chromium (see .ci/run for installing it).
test-browser: venv
	SHEQU_TESTING=1 $(BIN)/pytest -m browser -q $(PYTEST_ARGS)

# Benchmarks on the local PostgreSQL; rewrites docs/benchmarks.md (see bench/run.py).
bench: venv
	createdb -h 127.0.0.1 -U postgres shequ_bench 2>/dev/null || true
	DATABASE_URL=$(BENCH_DATABASE_URL) SHEQU_TESTING=1 $(BIN)/python bench/run.py --cases $(BENCH_CASES) --persons $(BENCH_PERSONS)

clean:
	rm -rf $(VENV) var/static
