# Two commands on a fresh machine: `make demo` and `make test`. Each creates .venv when it is missing and
# installs the project into it; the stamp file re-installs only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint unit bench bench-chaos bench-handoff bench-peers bench-realtime bench-scale bench-preview clean

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
	$(BIN)/python bench/activities.py
	$(BIN)/python bench/idle_day.py
	$(BIN)/python bench/pull.py

# Long: SIGKILLs, fault runs and bad bodies on full cycles, each compared with an undisturbed one (~30 min).
bench-chaos: $(STAMP)
	$(BIN)/python bench/chaos.py

# Long: a 2,000-contact portal through 60 simulated days, a hubsync cycle per simulated hour (~40 min).
bench-handoff: $(STAMP)
	$(BIN)/python bench/handoff.py

# Long: installs Airbyte's and Meltano's HubSpot connectors into .cache/peers (once) and runs them and hubsync on
# sandbox portals of 2,000 and 10,000 contacts (~20 min on 2 cores; not part of make test).
bench-peers: $(STAMP)
	$(BIN)/python bench/peers.py

# Long: demo requests at 1, 10 and 100 per second through webhooks to sales tasks, two runs (~15 min).
bench-realtime: $(STAMP)
	$(BIN)/python bench/realtime.py

# Long: five hubsync cycles (first, next, idle, after a simulated day, after a week) on a 50,000-contact sandbox portal
# with Enterprise limits, on SQLite and on the local PostgreSQL (--postgres URL to change it); ~12 min per database.
bench-scale: $(STAMP)
	$(BIN)/python bench/scale.py --db both

# hubsync preview (candidate: the pricing page's points doubled) against a full rescore on bench/score.py's 100,000
# contacts / 2,000,000 activities, alternating runs in one process each (~5 min; builds the database if missing).
bench-preview: $(STAMP)
	$(BIN)/python bench/preview.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
