"""One SQLite database (WAL) for the gateway's stores: partners, keys, event statuses, file ledger.

Repositories take a `Database` and speak plain SQL with `?` parameters and no SQLite-only
statements beyond `INSERT ... ON CONFLICT`, so a PostgreSQL driver can take the same classes later.
`transaction()` takes the write lock first (`BEGIN IMMEDIATE`), which also serialises writers in
other processes sharing the file (the API and `hubnet watch`).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DB_FILE = "gateway.sqlite"
Row = tuple[Any, ...]


class Database:
    """Thread-safe: one connection, one lock; a transaction holds the lock until it ends."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> Database:
        return cls(data_dir / DB_FILE)

    def script(self, sql: str) -> None:
        """Create tables (idempotent DDL); called by each repository's constructor."""
        with self._lock:
            self._db.executescript(sql)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._lock:
            return list(self._db.execute(sql, params).fetchall())

    def row(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement in its own transaction; returns the number of rows changed."""
        with self._lock:
            return self._db.execute(sql, params).rowcount

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.transaction():
            self._db.executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All statements inside commit together or not at all; nested use joins the outer one."""
        with self._lock:
            if self._db.in_transaction:
                yield
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()
