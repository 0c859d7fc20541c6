# ECMO Steward — `make demo` to try it, `make test` to check everything.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
export ECMO_VAR_DIR ?= $(CURDIR)/var

FUZZ_SECONDS ?= 120

.PHONY: soak fuzz demo install test lint typecheck imports migrations-check test-core test-web test-web-sqlite test-web-postgres test-browser bench bench-quick clean

$(STAMP): pyproject.toml
	scripts/ensure-weasyprint.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

demo: install
	$(BIN)/ecmo migrate --no-input -v 0
	$(BIN)/ecmo seed-demo
	@echo ""
	@echo "  ECMO Steward demo: http://127.0.0.1:8000/"
	@echo "  Log in as perfusionist, intensivist, ecmo_specialist, bedside_nurse, surgeon, cardiologist, pharmacist,"
	@echo "  physiotherapist, director, quality, researcher, auditor, admin or outsider; password: steward-demo"
	@echo ""
	$(BIN)/ecmo serve --host 127.0.0.1 --port 8000

lint: install
	$(BIN)/ruff check src tests bench scripts fuzz
	$(BIN)/ruff format --check src tests bench scripts fuzz

typecheck: install
	$(BIN)/mypy

imports: install
	cd src && ../$(BIN)/lint-imports ../pyproject.toml

migrations-check: install
	$(BIN)/ecmo makemigrations --check --dry-run

test-core: install
	$(BIN)/pytest tests/core -q -p no:cacheprovider --cov=ecmo_core --cov-branch --cov-report=term-missing:skip-covered --cov-fail-under=100

test-web-sqlite: install
	env -u DATABASE_URL $(BIN)/pytest tests/web -q -p no:cacheprovider

test-web-postgres: install
	DATABASE_URL=$(PG_URL) $(BIN)/python scripts/check-postgres.py
	DATABASE_URL=$(PG_URL) $(BIN)/pytest tests/web -q -p no:cacheprovider --create-db

test-web: test-web-sqlite test-web-postgres

test-browser: install
	scripts/ensure-chromium.sh
	env -u DATABASE_URL $(BIN)/pytest tests/browser -q -p no:cacheprovider

test: lint typecheck imports migrations-check test-core test-web test-browser
	@echo "all test legs passed: lint, types, import contract, migrations, core, web on SQLite and PostgreSQL, browser"

# The long forms of the fuzz tests: coverage-guided harnesses (atheris) for FUZZ_SECONDS each, then the
# hypothesis and schemathesis fuzz tests with many more examples than the CI's short form.
fuzz: install
	$(BIN)/python -m fuzz $(FUZZ_SECONDS)
	ECMO_FUZZ_EXAMPLES=2000 env -u DATABASE_URL $(BIN)/pytest -q -p no:cacheprovider tests/web/test_csv_fuzz.py
	ECMO_FUZZ_EXAMPLES=300 env -u DATABASE_URL $(BIN)/pytest -q -p no:cacheprovider tests/web/test_api_fuzz.py

# The long forms of the reliability tests, on PostgreSQL (and SQLite for the crash tests):
# - the crash tests (marker `soak`) with 10,000 messages per scenario and more kills; `make test` runs the same
#   tests in their short form (ECMO_SOAK_SCALE unset);
# - the 10-minute soak: 20 consoles streaming HL7 over MLLP at 1 message/s and 30 users browsing, against
#   ecmo mllp-listen, ecmo serve and two ecmo surveil workers (docs/reliability.md has the figures).
soak: install
	DATABASE_URL=$(PG_URL) $(BIN)/python scripts/check-postgres.py
	ECMO_SOAK_SCALE=full env -u DATABASE_URL $(BIN)/pytest -q -p no:cacheprovider -s -m soak tests
	ECMO_SOAK_SCALE=full DATABASE_URL=$(PG_URL) $(BIN)/pytest -q -p no:cacheprovider -s -m soak tests --create-db
	DATABASE_URL=$(PG_URL) $(BIN)/python scripts/soak.py --json var/soak.json

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-quick: install
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .coverage
