# Lumen: `make run` serves, `make test` tests. Both build .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run lint test bench soak demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	$(BIN)/python -m shortener serve

# Format, lint and types first: CI fails on any of them before the tests run.
lint: $(VENV)/.installed-dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/run_all.py

# Longer runs than `make test` has time for: redis-server stalled and killed under traffic, and
# 2,000 slow-body clients against a served Lumen (docs/RELIABILITY.md).
soak: $(VENV)/.installed-dev
	LUMEN_SOAK_SECONDS=60 $(BIN)/python -m pytest -q -s tests/test_faults_e2e.py
	$(BIN)/python bench/soak_slow_clients.py

demo: $(VENV)/.installed
	$(BIN)/python -m shortener demo

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
