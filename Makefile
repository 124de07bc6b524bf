# Two commands for a fresh machine with Python 3.11:
#   make demo   set up .venv and run the main analysis on bundled data
#   make test   set up .venv and run the full test suite
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test services lint typecheck bench docs setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/causalinfer demo

# Server binaries some tests use (PostgreSQL); the tests start and stop their own throwaway server.
services:
	bash .ci/services.sh

test: $(STAMP) services
	$(BIN)/python -m pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check causalinfer tests benchmarks scripts
	$(BIN)/ruff format --check causalinfer tests benchmarks scripts

typecheck: $(STAMP)
	$(BIN)/mypy

# The documentation site (Sphinx): warnings are errors, the guides' code runs, the gallery scripts run.
docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

bench: $(STAMP)
	$(BIN)/python benchmarks/import_time.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
