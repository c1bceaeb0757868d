"""One database for the gateway's stores: partners, keys, event statuses, file ledger (and the
ops store's samples): a SQLite file (WAL) by default, the `hubnet_gateway` schema on PostgreSQL
when `HUBNET_DATABASE_URL` is set.

Repositories take a `Database` and speak plain SQL with `?` parameters and portable statements
(`INSERT ... ON CONFLICT`), translated here for psycopg. Each repository applies its store's
numbered migrations when it opens (`migrate()`; the gateway's in services/gateway/schema.py), under
the store's migration lock, so two processes starting together never race. `transaction()` takes
the write lock first (`BEGIN IMMEDIATE` on SQLite, a transaction-scoped advisory lock on
PostgreSQL), which serialises writers in other processes sharing the store (the API and
`hubnet watch`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from services.core.settings import Settings
from services.stores.connect import Dialect, connect, connect_sqlite, dialect_of
from services.stores.migrations import Migration, Migrator, lock_key
from services.streams.sqlstore import to_format_style

STORE = "gateway"
Row = tuple[Any, ...]


class Database:
    """Thread-safe: one connection, one lock; a transaction holds the lock until it ends.

    The connection runs in autocommit (sqlite3 `isolation_level=None`, psycopg `autocommit`):
    a statement outside `transaction()` is its own transaction."""

    def __init__(self, connection: Any) -> None:
        self._lock = threading.RLock()
        self._db = connection
        self.dialect = dialect_of(connection)
        self._postgres = self.dialect is Dialect.POSTGRESQL
        self._write_lock = lock_key(f"hubnet.write.{Migrator(connection).schema()}") if self._postgres else 0
        self._depth = 0
        self._migrated: set[tuple[Migration, ...]] = set()

    @classmethod
    def open(cls, path: Path) -> Database:
        connection = connect_sqlite(path, synchronous="FULL")
        connection.isolation_level = None
        connection.execute("PRAGMA foreign_keys=ON")
        return cls(connection)

    @classmethod
    def at(cls, place: Path | Settings, store: str = STORE) -> Database:
        """A store on this class (the gateway's, or `ops`) in a data folder (SQLite file
        `<store>.sqlite`), or where settings put it (PostgreSQL schema `hubnet_<store>`)."""
        if isinstance(place, Path):
            return cls.open(place / f"{store}.sqlite")
        if not place.database_url:
            return cls.open(place.data_dir / f"{store}.sqlite")
        connection = connect(place, store)
        connection.autocommit = True
        return cls(connection)

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> Database:
        return cls.at(data_dir)

    def migrate(self, migrations: Sequence[Migration]) -> None:
        """Apply the store's pending migrations (under the migration lock, so two processes
        opening it together apply each once); each repository calls it when it opens. The
        gateway's three repositories share one `Database` and one set: checked once, not three
        times (a store's applied versions never go back)."""
        done = tuple(migrations)
        with self._lock:
            if done in self._migrated:
                return
            Migrator(self._db).apply(done)
            self._migrated.add(done)

    def _sql(self, sql: str) -> str:
        return to_format_style(sql) if self._postgres else sql

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._lock:
            return [tuple(r) for r in self._db.execute(self._sql(sql), tuple(params)).fetchall()]

    def row(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement (in its own transaction outside `transaction()`); rows changed."""
        with self._lock:
            return int(self._db.execute(self._sql(sql), tuple(params)).rowcount)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.transaction():
            if self._postgres:
                with self._db.cursor() as cursor:
                    cursor.executemany(self._sql(sql), rows)
            else:
                self._db.executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All statements inside commit together or not at all; nested use joins the outer one."""
        with self._lock:
            if self._depth:
                yield
                return
            self._db.execute("BEGIN" if self._postgres else "BEGIN IMMEDIATE")
            if self._postgres:
                self._db.execute("SELECT pg_advisory_xact_lock(%s)", (self._write_lock,))
            self._depth += 1
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            finally:
                self._depth -= 1
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()
