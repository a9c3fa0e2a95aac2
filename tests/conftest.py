"""Shared helpers: paths to fixtures and an in-process CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
#: the control-plane fixtures (db_url on SQLite and PostgreSQL, api)
pytest_plugins = ["controlplane_fixtures"]


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def cli(capsys):
    """Run ``leotwin ARGS`` in-process; returns (exit code, stdout, stderr)."""
    from leotwin.cli import main

    def run(*args: str):
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
