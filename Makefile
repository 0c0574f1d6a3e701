# The two commands of the README: `make demo` (set up and run on the bundled sample) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test install dev clean

$(BIN)/survey: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

install: $(BIN)/survey

demo: install
	$(BIN)/survey demo

test: install
	$(BIN)/python -m pytest

dev: install
	$(BIN)/survey dev

clean:
	rm -rf $(VENV) survey_home
