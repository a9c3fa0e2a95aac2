"""Test helper: small policy files written to a temporary folder."""

from __future__ import annotations

import textwrap

#: one granted log entry of a ``policy.log`` list (format with ``id`` and ``change``)
ENTRY = """
        - id: {id}
          requested_at: 2026-01-01
          requested_by: x
          decided_by: y
          decision: granted
          change: {change}
"""


def policy_file(tmp_path, body: str):
    """``body`` (dedented) written as ``tmp_path/p.yaml``; its path."""
    path = tmp_path / "p.yaml"
    path.write_text(textwrap.dedent(body))
    return path
