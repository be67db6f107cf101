# Two commands on a fresh machine: `make demo` and `make test`. Each creates .venv when it is missing and
# installs the project into it; the stamp file re-installs only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint unit bench bench-chaos clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hubsync demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

test: lint
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python bench/sandbox.py
	$(BIN)/python bench/score.py
	$(BIN)/python bench/pull.py

# Long: SIGKILLs, fault runs and bad bodies on full cycles, each compared with an undisturbed one (~30 min).
bench-chaos: $(STAMP)
	$(BIN)/python bench/chaos.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
