# Lumen: `make run` serves, `make test` tests. Both build .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench soak demo clean

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

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/run_all.py

# 2,000 slow-body clients against a served Lumen (about a minute): docs/RELIABILITY.md.
soak: $(VENV)/.installed-dev
	$(BIN)/python bench/soak_slow_clients.py

demo: $(VENV)/.installed
	$(BIN)/python -m shortener demo

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
