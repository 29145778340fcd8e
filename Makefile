# Two commands do all set-up on a fresh machine (Python 3.11, make, git):
#   make run   — venv, install, migrate, demo city on SQLite, serve on http://127.0.0.1:8000
#   make test  — venv with dev extras, lint, the whole suite (SQLite; PostgreSQL too when
#                SHIYU_TEST_POSTGRES_URL is set, as .ci/run does)
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: run test lint flaky bench-grid screenshots clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "需要 Python 3.11 / Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEVSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(STAMP)

run screenshots: export SHIYU_DEMO_MODE ?= 1
run: $(STAMP)
	$(BIN)/shiyu db upgrade
	$(BIN)/shiyu demo --if-absent
	$(BIN)/shiyu serve --host 127.0.0.1 --port 8000

# Style, the import contracts (layers, docs/adr/0005) and the type checker (docs/adr/0008).
lint: $(DEVSTAMP)
	$(BIN)/ruff check shiyu tests bench scripts
	$(BIN)/lint-imports
	$(BIN)/mypy

# Byte-compiled first: where PYTHONDONTWRITEBYTECODE is set (this CI's machines) every process the suite starts
# (servers, workers, benchmarks) would otherwise compile the platform's modules anew, 0.3 s each.
test: $(DEVSTAMP) lint
	$(BIN)/python -m compileall -q shiyu bench
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

# Repeat tests and name every one that ever failed: `make flaky RUNS=20` (the browser tests by default;
# FLAKY_ARGS="-- tests/cases -n 2" for others).
RUNS ?= 20
flaky: $(DEVSTAMP)
	$(BIN)/python scripts/flaky.py --runs $(RUNS) $(FLAKY_ARGS)

bench-grid: $(STAMP)
	$(BIN)/python bench/grid_lookup.py

screenshots: $(DEVSTAMP)
	$(BIN)/shiyu db upgrade
	$(BIN)/shiyu demo --if-absent
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) var .pytest_cache
