#!/usr/bin/env bash
# Idempotent set-up: a Python >= 3.11 virtual environment in .venv with leotwin and its test
# tools installed from pyproject.toml, and the dashboard's JavaScript (MapLibre GL JS) from the
# npm registry as pinned in package-lock.json.  On a bare Debian/Ubuntu machine (as root) it
# first installs the system packages it needs (python3-venv, nodejs, npm).  Called by
# `make setup`.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "setup: $PYTHON not found: install Python 3.11 or newer" >&2; exit 2
fi
"$PYTHON" - <<'PY' || { echo "setup: leotwin needs Python >= 3.11" >&2; exit 2; }
import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY
if ! "$PYTHON" -c "import venv, ensurepip" >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq python3-venv python3-dev >/dev/null
  else
    echo "setup: the Python venv module is missing: install python3-venv" >&2; exit 2
  fi
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
if ! command -v npm >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "setup: npm is missing (the dashboard needs it once): install nodejs and npm" >&2; exit 2
  fi
fi
npm ci --no-audit --no-fund --loglevel=error
