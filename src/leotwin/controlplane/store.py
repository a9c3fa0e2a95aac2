"""The durable store of the control plane: SQLite embedded by default, PostgreSQL by URL.

Every write and its audit record commit in **one transaction**: an acknowledged write is on disk
(WAL journal, ``synchronous=FULL``) together with its audit row, and a write that was not
acknowledged is not half-applied.  The audit trail is a hash chain: each row's hash is
SHA-256 over the previous hash and the row's canonical JSON, so any edit, insertion or deletion
of an earlier row breaks every later hash (``verify_audit``).

Schema changes are migrations, applied in order and recorded in ``schema_version``.  The same
code path serves both databases: statements are written with ``?`` placeholders (translated for
PostgreSQL), and the PostgreSQL migrations differ only in column types (BIGINT, BIGSERIAL).
Writers are serialised (SQLite ``BEGIN IMMEDIATE``; PostgreSQL an exclusive lock on the audit
table), so the hash chain has no forks.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from leotwin.errors import InputError

GENESIS = "0" * 64
#: the schema, one statement per migration (applied in order, never edited once released);
#: ``{key}`` is an auto-numbered primary key and ``{int}`` a 64-bit integer in each dialect
_SCHEMA = [
    """CREATE TABLE tokens (id {key}, hash TEXT UNIQUE NOT NULL,
         role TEXT NOT NULL, created_at {int} NOT NULL, label TEXT)""",
    """CREATE TABLE terminals (terminal_id TEXT PRIMARY KEY, account TEXT, plan TEXT NOT NULL,
         home_country TEXT, whitelisted TEXT NOT NULL DEFAULT '[]',
         deactivated_at {int}, deactivation_reason TEXT,
         created_at {int} NOT NULL, updated_at {int} NOT NULL)""",
    """CREATE TABLE requests (id {key}, requested_at {int} NOT NULL,
         effective_at {int}, until {int}, requested_by TEXT NOT NULL, reason TEXT,
         change TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending', decided_by TEXT,
         decided_at {int}, decision_reason TEXT)""",
    """CREATE TABLE audit (seq {int} PRIMARY KEY, at {int} NOT NULL, actor TEXT NOT NULL,
         action TEXT NOT NULL, target TEXT, payload TEXT NOT NULL, prev_hash TEXT NOT NULL,
         hash TEXT NOT NULL)""",
    # 5: one namespace per scenario (rows from before it are in namespace ''); requests on
    # the wall clock or the scenario's (what-if); registry changes are log entries too
    ("""CREATE TABLE terminals_v5 (namespace TEXT NOT NULL, terminal_id TEXT NOT NULL,
         account TEXT, plan TEXT NOT NULL, home_country TEXT,
         whitelisted TEXT NOT NULL DEFAULT '[]', deactivated_at {int}, deactivation_reason TEXT,
         created_at {int} NOT NULL, updated_at {int} NOT NULL,
         PRIMARY KEY (namespace, terminal_id))""",
     """INSERT INTO terminals_v5 SELECT '', terminal_id, account, plan, home_country,
         whitelisted, deactivated_at, deactivation_reason, created_at, updated_at
         FROM terminals""",
     "DROP TABLE terminals",
     "ALTER TABLE terminals_v5 RENAME TO terminals",
     "ALTER TABLE requests ADD COLUMN namespace TEXT NOT NULL DEFAULT ''",
     "ALTER TABLE requests ADD COLUMN clock TEXT NOT NULL DEFAULT 'wall'",
     "ALTER TABLE requests ADD COLUMN origin TEXT NOT NULL DEFAULT 'request'",
     "CREATE INDEX requests_namespace ON requests (namespace, id)"),
    # 6: whitelist owners, for registration rules (``policy.registration``)
    ("ALTER TABLE terminals ADD COLUMN owner TEXT",
     "ALTER TABLE terminals ADD COLUMN owner_kind TEXT NOT NULL DEFAULT 'person'"),
]
MIGRATIONS = [tuple(x.format(key="INTEGER PRIMARY KEY", int="INTEGER")
                    for x in ((m,) if isinstance(m, str) else m)) for m in _SCHEMA]
PG_MIGRATIONS = [tuple(x.format(key="BIGSERIAL PRIMARY KEY", int="BIGINT")
                       for x in ((m,) if isinstance(m, str) else m)) for m in _SCHEMA]


class _Tx:
    """The connection inside a write, with ``?`` placeholders on either database."""

    def __init__(self, store: Store):
        self.store = store

    def execute(self, sql: str, args: tuple = ()):
        return self.store._exec(sql, args)

    def insert(self, sql: str, args: tuple) -> int:
        """Run an INSERT and return the new row's ``id``."""
        if self.store.dialect == "postgresql":
            return self.store._exec(sql + " RETURNING id", args).fetchone()["id"]
        return self.store._exec(sql, args).lastrowid


def is_conflict(exc: Exception) -> bool:
    """A unique-key violation (the row exists already), on either database."""
    text = str(exc)
    return "UNIQUE" in text or "PRIMARY KEY" in text or "duplicate key" in text


def default_db_path() -> Path:
    from platformdirs import user_data_dir

    folder = Path(user_data_dir("leotwin", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "leotwin.sqlite"


def _canonical(row: dict) -> str:
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev: str, row: dict) -> str:
    return hashlib.sha256((prev + _canonical(row)).encode()).hexdigest()


def _read_only_media(path: Path) -> bool:
    """Whether ``path`` (or its folder, for a file still to be made) is on a file system
    mounted read-only."""
    target = path if path.exists() else path.parent
    try:
        return bool(os.statvfs(target).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _sqlite_problem(path: Path, exc: sqlite3.Error) -> str:
    """One line for why SQLite could not open ``path`` (the user can fix each cause)."""
    text = str(exc)
    if _read_only_media(path):
        return (f"database '{path}' is on a read-only file system: only 'leotwin audit verify' "
                "reads it there; copy it to writable media to change it")
    if "not a database" in text or (isinstance(exc, sqlite3.DatabaseError) and \
            not isinstance(exc, sqlite3.OperationalError)):
        return f"'{path}' is not a leotwin database ({text}): give another --db"
    if "locked" in text or "busy" in text:
        return f"database '{path}' is locked by another process: try again when it is done"
    if "readonly" in text or "read-only" in text:
        return f"database '{path}' is on read-only media or not writable ({text})"
    return f"cannot open database '{path}': {text}"


class Store:
    """A SQLite file (``sqlite:///path`` or a plain path) or ``postgresql://…``."""

    #: the database's display name (a file path, or the URL without its password)
    path: str | Path
    #: a sqlite3 or psycopg connection (one code path: both take ``?``-style SQL here)
    conn: Any

    def __init__(self, url: str | Path | None = None, *, read_only: bool = False):
        """``read_only``: open an existing database for reading only (SQLite ``mode=ro``; a
        missing file is an :class:`InputError`, never created; no migration runs)."""
        self._lock = threading.RLock()
        text = None if url is None else str(url)
        if text is not None and text.startswith(("postgresql://", "postgres://")):
            try:
                import psycopg
            except ImportError:
                raise InputError("a PostgreSQL database needs psycopg (in leotwin[controlplane]): "
                                 "pip install 'leotwin[controlplane]'", source="--db") from None
            from psycopg.rows import dict_row

            self.dialect = "postgresql"
            self.path = _redact(text)
            try:
                self.conn = psycopg.connect(text, autocommit=True, row_factory=dict_row)
            except psycopg.Error as exc:
                raise InputError(f"cannot connect to PostgreSQL: {str(exc).splitlines()[0]}",
                                 source="--db") from None
            if not read_only:
                self._migrate(PG_MIGRATIONS)
            return
        self.dialect = "sqlite"
        path = _sqlite_path(url)
        self.path = path
        if read_only:
            if not path.is_file():
                raise InputError(f"database '{path}' does not exist", source="--db")
            # on read-only media nothing can change the file: SQLite may then skip the WAL
            # index it cannot create there (immutable=1), so a copy on a DVD verifies
            flags = "mode=ro" + ("&immutable=1" if _read_only_media(path) else "")
            self.conn = sqlite3.connect(f"{path.resolve().as_uri()}?{flags}", uri=True,
                                        check_same_thread=False, isolation_level=None)
            self.conn.row_factory = sqlite3.Row
            try:
                self.conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            except sqlite3.DatabaseError as exc:
                self.conn.close()
                raise InputError(f"'{path}' is not a leotwin database: {exc}",
                                 source="--db") from None
            return
        existed = path.exists()
        try:
            self.conn = sqlite3.connect(str(path), check_same_thread=False,
                                        isolation_level=None)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self._migrate(MIGRATIONS)
        except sqlite3.Error as exc:
            if getattr(self, "conn", None) is not None:
                self.conn.close()
            if not existed:  # nothing of ours is left behind
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
            raise InputError(_sqlite_problem(path, exc), source="--db") from None

    def _exec(self, sql: str, args: tuple = ()):
        if self.dialect == "postgresql":
            return self.conn.execute(sql.replace("?", "%s"), args)
        return self.conn.execute(sql, args)

    def _begin(self) -> None:
        if self.dialect == "postgresql":
            self.conn.execute("BEGIN")
            self.conn.execute("LOCK TABLE audit IN EXCLUSIVE MODE")
        else:
            self.conn.execute("BEGIN IMMEDIATE")

    def _migrate(self, migrations: list[tuple[str, ...]]) -> None:
        with self._lock:
            self._exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
            row = self._exec("SELECT MAX(version) AS v FROM schema_version").fetchone()
            current = row["v"] or 0
            for k, statements in enumerate(migrations[current:], start=current + 1):
                self._exec("BEGIN")
                try:
                    for sql in statements:  # one migration, one transaction
                        self._exec(sql)
                    self._exec("INSERT INTO schema_version VALUES (?)", (k,))
                    self._exec("COMMIT")
                except BaseException:
                    self._exec("ROLLBACK")
                    raise

    @property
    def version(self) -> int:
        """Changes on every write (the data version), so readers can cache."""
        with self._lock:
            # the audit trail is append-only: its last sequence number (a primary-key lookup,
            # O(log n), where COUNT(*) would scan the table) changes on every write
            return self._exec("SELECT COALESCE(MAX(seq), 0) AS n FROM audit").fetchone()["n"]

    @contextmanager
    def write(self, actor: str, action: str, target: str | None, payload: dict
              ) -> Iterator[_Tx]:
        """A transaction that also appends the audit row; commits on success only."""
        with self._lock:
            self._begin()
            try:
                yield _Tx(self)
                last = self._exec(
                    "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
                seq = (last["seq"] + 1) if last else 1
                prev = last["hash"] if last else GENESIS
                row = {"seq": seq, "at": time.time_ns(), "actor": actor, "action": action,
                       "target": target, "payload": payload}
                self._exec(
                    "INSERT INTO audit (seq, at, actor, action, target, payload, prev_hash, hash)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (seq, row["at"], actor, action, target, _canonical(payload), prev,
                     chain_hash(prev, row)))
                self._exec("COMMIT")
            except BaseException:
                self._exec("ROLLBACK")
                raise

    def query(self, sql: str, args: tuple = ()) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self._exec(sql, args).fetchall()]

    def close(self) -> None:
        self.conn.close()


def verify_audit(store: Store) -> tuple[bool, str]:
    """Recompute the hash chain; (True, summary) when intact, else (False, first bad row)."""
    prev = GENESIS
    try:
        rows = store.query("SELECT * FROM audit ORDER BY seq")
    except Exception as exc:  # sqlite3 or psycopg: no audit table here
        raise InputError(f"{store.path} has no audit trail: not a leotwin database "
                         f"({str(exc).splitlines()[0]})", source="--db") from None
    for expected_seq, r in enumerate(rows, start=1):
        if r["seq"] != expected_seq:
            return False, f"audit row {expected_seq} is missing (found {r['seq']})"
        row = {"seq": r["seq"], "at": r["at"], "actor": r["actor"], "action": r["action"],
               "target": r["target"], "payload": json.loads(r["payload"])}
        if r["prev_hash"] != prev or chain_hash(prev, row) != r["hash"]:
            return False, f"audit row {r['seq']} does not match its hash: the trail was altered"
        prev = r["hash"]
    return True, f"{len(rows)} audit rows, chain intact"


def _sqlite_path(url) -> Path:
    if url is None:
        return default_db_path()
    text = str(url)
    if text.startswith("sqlite:///"):
        text = text[len("sqlite:///"):]
    path = Path(text)
    if not path.parent.exists():
        raise InputError(f"folder '{path.parent}' does not exist", source="--db")
    return path


def _redact(url: str) -> str:
    """A database URL without its password, for messages."""
    import re

    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)
