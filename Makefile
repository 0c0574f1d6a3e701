# The two commands of the README: `make demo` (set up and run on the bundled sample) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Older DuckDB clients (the shell and the Python package), apart from the project's own duckdb: the tests
# open the published warehouse with them, as analysts do.
CLIENTS := .venv-clients
# DuckDB 1.5.5 with its DuckLake extension, apart from the project's duckdb 2: the DuckLake prototype's writer
# (warehouse/ducklake_writer.py) runs there, and the tests read the lake with it.
DUCKLAKE := .venv-ducklake

.PHONY: demo test install clients ducklake dev clean

$(BIN)/survey: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

install: $(BIN)/survey

$(CLIENTS)/bin/duckdb: tests/old_clients.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(CLIENTS)
	$(CLIENTS)/bin/python -m pip install --quiet -r tests/old_clients.txt
	@touch $@

clients: $(CLIENTS)/bin/duckdb

$(DUCKLAKE)/bin/python: deploy/ducklake-requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(DUCKLAKE)
	$(DUCKLAKE)/bin/python -m pip install --quiet -r deploy/ducklake-requirements.txt
	@touch $@

ducklake: $(DUCKLAKE)/bin/python

demo: install
	$(BIN)/survey demo

test: install clients ducklake
	$(BIN)/python -m pytest

dev: install
	$(BIN)/survey dev

clean:
	rm -rf $(VENV) $(CLIENTS) $(DUCKLAKE) survey_home
