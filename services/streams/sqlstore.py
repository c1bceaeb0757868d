"""The base of every worker's store (identity index, referral state, timeline, users): one
DB-API connection, SQLite by default and PostgreSQL in production with the same SQL.

Subclasses declare their schema as numbered `MIGRATIONS` (services/stores/migrations.py; a store
with only a `SCHEMA` string has it as migration 1), applied when the store opens, and write plain
SQL with `?` placeholders, translated here for psycopg's `%s`. Write portable SQL: `INSERT ...
ON CONFLICT (key) DO NOTHING / DO UPDATE SET c = excluded.c` (`upsert()` builds it), never
`INSERT OR REPLACE`. Each unit of work (one event, one human decision) runs in `transaction()`, so
its effects are stored whole or not at all; a worker that commits a batch of events at once runs
each in a `savepoint()` inside one `transaction()`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, ClassVar, Self

from services.core.settings import Settings
from services.stores.connect import Dialect, connect, connect_sqlite, dialect_of
from services.stores.migrations import Migration, Migrator, lock_key


@functools.lru_cache(maxsize=4096)
def to_format_style(text: str) -> str:
    """`?` placeholders as psycopg's `%s` (a literal `%` doubled), cached: stores repeat their SQL."""
    return text.replace("%", "%%").replace("?", "%s")


class SqlStore:
    """Repository base over one DB-API connection (sqlite3 or psycopg)."""

    STORE: ClassVar[str] = ""
    """The store's name: its SQLite file `<name>.sqlite`, its PostgreSQL schema `hubnet_<name>`."""
    SCHEMA: ClassVar[str] = ""
    MIGRATIONS: ClassVar[tuple[Migration, ...]] = ()
    SQLITE_CACHE_KIB: ClassVar[int] = 65536
    """SQLite page cache per connection; a store whose index must stay in memory raises it."""

    def __init__(self, connection: Any, reconnect: Callable[[], Any] | None = None) -> None:
        """`reconnect` opens the same store again: a PostgreSQL connection lost (server restart,
        fail-over) is replaced between units instead of failing every unit after it."""
        self._db = connection
        self._reconnect = reconnect
        self._last_status = 0
        self.dialect = dialect_of(connection)
        self._postgres = self.dialect is Dialect.POSTGRESQL
        self._unit = 0
        migrator = Migrator(connection)
        migrator.apply(self.migrations())
        self._write_lock = lock_key(f"hubnet.write.{migrator.schema()}") if self._postgres else 0
        connection.commit()  # end the transaction reading the schema name: the store starts idle

    @classmethod
    def migrations(cls) -> tuple[Migration, ...]:
        if cls.MIGRATIONS:
            return cls.MIGRATIONS
        return (Migration(1, "schema", cls.SCHEMA),) if cls.SCHEMA.strip() else ()

    @classmethod
    def open(cls, path: Path | str) -> Self:
        """A SQLite file in WAL mode: readers (a CLI, an API) never block the worker."""
        return cls(connect_sqlite(path, cache_kib=cls.SQLITE_CACHE_KIB))

    @classmethod
    def from_settings(cls, settings: Settings, path: Path | None = None) -> Self:
        """The store where the settings put it: `<data dir>/<STORE>.sqlite`, or PostgreSQL when
        `HUBNET_DATABASE_URL` is set; `path`, a SQLite file named on a command line, overrides
        both. Every service opens its stores through here."""
        if path is not None:
            return cls.open(path)

        def reconnect() -> Any:
            return connect(settings, cls.STORE, cache_kib=cls.SQLITE_CACHE_KIB)

        return cls(reconnect(), reconnect if settings.database_url else None)

    def close(self) -> None:
        self._db.close()

    @property
    def in_transaction(self) -> bool:
        if self._postgres:
            return bool(self._db.info.transaction_status != 0)  # 0 = IDLE
        return bool(self._db.in_transaction)

    def _begin(self) -> None:
        """Open a transaction if none is (PostgreSQL opens one with the next statement itself)."""
        if not self._postgres and not self._db.in_transaction:
            self._run("BEGIN")

    def transaction(self) -> AbstractContextManager[None]:
        """Commit on success, roll back on any error, so a failed unit leaves no half state."""
        return self._transaction()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._unit += 1
        try:
            yield
        except BaseException:
            if not (self._postgres and self._db.closed):
                self._db.rollback()
            self._last_status = 0  # the caller hears of the loss from this error
            raise
        finally:
            self._unit -= 1
        self._db.commit()
        self._last_status = 0

    @contextmanager
    def write_transaction(self) -> Iterator[None]:
        """`transaction()` that takes the store's write lock first, so two processes (a worker and
        an API) never both read a row and both write their next version of it: `BEGIN IMMEDIATE`
        on SQLite, a transaction-scoped advisory lock on PostgreSQL."""
        fresh = not self.in_transaction
        with self._transaction():
            if fresh and self._postgres:
                self._run("SELECT pg_advisory_xact_lock(?)", (self._write_lock,))
            elif fresh:
                self._run("BEGIN IMMEDIATE")
            yield

    @contextmanager
    def savepoint(self, name: str = "unit") -> Iterator[None]:
        """One unit inside a bigger transaction (group commit): a failing unit undoes only its
        own writes, the units before it stay for the commit. Opens the transaction if needed, so
        releasing the savepoint never commits on its own."""
        self._begin()
        self._unit += 1
        self._run(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self._run(f"ROLLBACK TO SAVEPOINT {name}")
            self._run(f"RELEASE SAVEPOINT {name}")
            raise
        finally:
            self._unit -= 1
        self._run(f"RELEASE SAVEPOINT {name}")

    def upsert(self, table: str, columns: Sequence[str], key: Sequence[str]) -> str:
        """`INSERT ... ON CONFLICT (key) DO UPDATE` of every other column: the portable form of
        SQLite's `INSERT OR REPLACE` (both databases run it; the row keeps its identity)."""
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
        action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
        return (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "  # noqa: S608
            f"ON CONFLICT ({', '.join(key)}) {action}"
        )

    def _sql(self, text: str) -> str:
        """The statement in this connection's placeholder style."""
        return to_format_style(text) if self._postgres else text

    def _run(self, text: str, params: Sequence[Any] = ()) -> Any:
        if not self._postgres:
            return self._db.execute(text, tuple(params))
        if self._db.closed:
            self._recover()
        idle = not self._unit and self._db.info.transaction_status == 0
        cursor = self._db.execute(to_format_style(text), tuple(params))
        if idle and text.lstrip()[:6].upper() == "SELECT":
            # A read outside any unit ends its implicit transaction (rows are already fetched),
            # as SQLite does: a reader never sits idle in a transaction holding back vacuum.
            self._db.commit()
        self._last_status = self._db.info.transaction_status
        return cursor

    def _recover(self) -> None:
        """Open the lost PostgreSQL connection again. When it was lost inside a transaction, say
        so (psycopg `OperationalError`, which workers treat as transient and retry the whole unit
        or batch) rather than carry on as if the uncommitted writes had been kept."""
        if self._reconnect is None:
            return  # the driver raises on use
        import psycopg

        pending = self._last_status != 0
        self._db, self._last_status = self._reconnect(), 0
        if pending:
            raise psycopg.OperationalError(
                "the PostgreSQL connection was lost with uncommitted work; reconnected, retry the unit"
            )

    def _many(self, text: str, rows: Sequence[Sequence[Any]]) -> None:
        if self._postgres:
            with self._db.cursor() as cursor:
                cursor.executemany(self._sql(text), rows)
        else:
            self._db.executemany(text, rows)

    def _one(self, text: str, params: Sequence[Any] = ()) -> Any:
        return self._run(text, params).fetchone()

    def _all(self, text: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(self._run(text, params).fetchall())
