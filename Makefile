# The two commands of the README:
#   make demo   sets everything up and runs the main job: the built-in scenario ukraine-2026
#   make test   sets everything up and runs the whole test suite (lint included)
# Both are idempotent: the virtual environment is rebuilt only when pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo demo-all test lint docs bench bench-load mutation clean

setup: $(STAMP)

$(STAMP): pyproject.toml package-lock.json scripts/setup.sh
	PYTHON=$(PYTHON) scripts/setup.sh
	touch $(STAMP)

demo: setup
	mkdir -p results
	$(BIN)/leotwin run ukraine-2026 --out results/ukraine-2026 --overwrite

demo-all: setup
	mkdir -p results
	for s in ukraine-2022 crimea-2022 taiwan taiwan-activated front-2024 ukraine-2026 \
		ukraine-2026-cap-only ukraine-2026-whitelist-only ukraine-2026-whitelist-rules; do \
		$(BIN)/leotwin run $$s --out results/$$s --overwrite || exit 1; done
	$(BIN)/leotwin diff results/taiwan results/taiwan-activated
	$(BIN)/leotwin diff results/ukraine-2026-cap-only results/ukraine-2026

lint: setup
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/mypy

# the API tests also run against a real PostgreSQL that scripts/postgres.sh installs and starts;
# the dashboard test drives Debian's Chromium, which scripts/browser.sh installs
test: lint
	LEOTWIN_CHROMIUM="$$(scripts/browser.sh | tail -n 1)" \
	LEOTWIN_TEST_PG_URL="$$(scripts/postgres.sh 2>/dev/null | tail -n 1)" $(BIN)/python -m pytest -q

# the documentation site, offline, warnings are errors (also built by the test suite)
docs: setup
	$(BIN)/python -m mkdocs build --strict --site-dir site

bench: setup
	$(BIN)/python benchmarks/run.py

# the control-plane load test: wrk (Debian package) drives leotwin serve over loopback for 60 s
bench-load: setup
	command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python benchmarks/load.py

# mutation testing of the policy layer and the audit chain (~20 min on 2 cores; the kill rate
# is recorded in benchmarks/RESULTS.md): exits 1 if a named mutant survives or the rate < 90 %
mutation: setup
	$(BIN)/python scripts/mutation.py --workers 2

clean:
	rm -rf $(VENV) out results build *.egg-info src/*.egg-info
