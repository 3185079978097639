# The two set-up commands of the README: `make demo` and `make test`. Each creates .venv on first use.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: demo test test-system-pg lint install

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[local,test]"
	touch $@

install: $(BIN)/.installed

demo: $(BIN)/.installed
	$(BIN)/gim demo

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q

# The database tests once more against the system PostgreSQL at 127.0.0.1:5432 (a second major version).
test-system-pg: $(BIN)/.installed
	$(BIN)/python -m pytest -q --system-pg

lint: $(BIN)/.installed
	$(BIN)/ruff check .
