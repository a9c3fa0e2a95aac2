"""Bearer tokens with roles: viewer reads, operator writes terminals and files requests, admin
decides requests.  Tokens are random (256 bits) and stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
import time

from leotwin.controlplane.store import Store
from leotwin.errors import InputError

ROLES = ("viewer", "operator", "admin")
RANK = {r: k for k, r in enumerate(ROLES)}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(store: Store, role: str, label: str | None = None) -> str:
    if role not in ROLES:
        raise InputError(f"unknown role '{role}': expected {', '.join(ROLES)}", source="--role")
    token = "ltw_" + secrets.token_urlsafe(32)
    with store.write("cli", "token.create", role, {"role": role, "label": label}) as db:
        db.execute("INSERT INTO tokens (hash, role, created_at, label) VALUES (?, ?, ?, ?)",
                   (token_hash(token), role, time.time_ns(), label))
    return token


def role_of(store: Store, token: str) -> tuple[str, int] | None:
    rows = store.query("SELECT id, role FROM tokens WHERE hash = ?", (token_hash(token),))
    return (rows[0]["role"], rows[0]["id"]) if rows else None
