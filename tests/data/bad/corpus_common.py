"""The case record of the bad-input corpus and the valid texts the cases are made from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

GOOD = Path(__file__).parent / "good"


@dataclass
class Case:
    """One malformed input: ``path`` (under ``tests/data/bad/``) holds ``content``; ``argv``
    runs it; the error line must contain every ``|``-separated part of ``expect``."""

    id: str
    path: str
    content: str | bytes
    argv: str
    expect: str
    extra: dict = field(default_factory=dict)  # more files beside ``path``: name → content


def good(name: str) -> str:
    return (GOOD / name).read_text()


WINDOW = "--start 2026-01-15T00:00Z --duration 10m --step 5m"
