"""The base of every worker's store (identity index, referral state, timeline): one DB-API
connection, SQLite by default and PostgreSQL in production with the same SQL.

Subclasses declare `SCHEMA` (portable DDL, statements separated by `;`) and write plain SQL with
`?` placeholders, translated here for drivers that use `%s`. Each unit of work (one event, one
human decision) runs in `transaction()`, so its effects are stored whole or not at all; a worker
that commits a batch of events at once runs each in a `savepoint()` inside one `transaction()`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Self


class SqlStore:
    """Repository base over one DB-API connection."""

    SCHEMA: ClassVar[str] = ""
    SQLITE_CACHE_KIB: ClassVar[int] = 65536
    """SQLite page cache per connection; a store whose index must stay in memory raises it."""

    def __init__(self, connection: Any, paramstyle: str = "qmark") -> None:
        self._db = connection
        self._paramstyle = paramstyle
        for statement in self.SCHEMA.split(";"):
            if statement.strip():
                self._db.execute(statement)
        self._db.commit()

    @classmethod
    def open(cls, path: Path | str) -> Self:
        """SQLite in WAL mode: readers (a CLI, an API) never block the worker."""
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(str(path), check_same_thread=False, timeout=30.0)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute(f"PRAGMA cache_size=-{int(cls.SQLITE_CACHE_KIB)}")
        return cls(connection)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Commit on success, roll back on any error, so a failed unit leaves no half state."""
        try:
            yield
        except BaseException:
            self._db.rollback()
            raise
        self._db.commit()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """One unit inside a bigger transaction (group commit): a failing unit undoes only its
        own writes, the units before it stay for the commit. Opens the transaction if needed, so
        releasing the savepoint never commits on its own."""
        if not getattr(self._db, "in_transaction", True):
            self._run("BEGIN")
        self._run("SAVEPOINT unit")
        try:
            yield
        except BaseException:
            self._run("ROLLBACK TO SAVEPOINT unit")
            self._run("RELEASE SAVEPOINT unit")
            raise
        self._run("RELEASE SAVEPOINT unit")

    def _sql(self, text: str) -> str:
        return text.replace("?", "%s") if self._paramstyle in ("format", "pyformat") else text

    def _run(self, text: str, params: Sequence[Any] = ()) -> Any:
        return self._db.execute(self._sql(text), tuple(params))

    def _one(self, text: str, params: Sequence[Any] = ()) -> Any:
        return self._run(text, params).fetchone()

    def _all(self, text: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(self._run(text, params).fetchall())
