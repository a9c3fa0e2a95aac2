# The two commands of the README:
#   make demo   sets everything up and runs the main job on a built-in constellation
#   make test   sets everything up and runs the whole test suite (lint included)
# Both are idempotent: the virtual environment is rebuilt only when pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh
	PYTHON=$(PYTHON) scripts/setup.sh
	touch $(STAMP)

demo: setup
	mkdir -p out
	$(BIN)/leotwin constellations
	$(BIN)/leotwin propagate --constellation starlink-gen1-shell1 --start 2026-01-01T00:00:00Z \
		--duration 90m --step 60s --out out/starlink-gen1-shell1.parquet

lint: setup
	$(BIN)/ruff check src tests benchmarks scripts

test: lint
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) out build *.egg-info src/*.egg-info
