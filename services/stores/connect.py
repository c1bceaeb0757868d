"""Open the DB-API connection of one store from the settings: a SQLite file or PostgreSQL.

Unset `HUBNET_DATABASE_URL` keeps today's layout: one SQLite file per store in the data dir (WAL,
so readers such as the CLI and the API never block the worker). Set, every store lives in that
PostgreSQL database, each in its own schema (`hubnet_<store>`, prefix from
`HUBNET_DATABASE_SCHEMA_PREFIX`) made the connection's `search_path`. A schema per store, rather
than table-name prefixes, keeps every store's SQL exactly as it runs on SQLite (stores share
table names such as `person`, `consent` and `outbox`) and mirrors the one-file-per-store layout,
so a store can move to its own server later.
"""

from __future__ import annotations

import atexit
import contextlib
import sqlite3
import weakref
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from schemas.errors import ConfigurationError
from services.core.settings import Settings


class Dialect(StrEnum):
    """The SQL a connection speaks; stores write portable SQL and `SqlStore` bridges the rest."""

    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


def dialect_of(connection: Any) -> Dialect:
    return Dialect.SQLITE if isinstance(connection, sqlite3.Connection) else Dialect.POSTGRESQL


def schema_name(store: str, prefix: str = "hubnet") -> str:
    """The PostgreSQL schema of a store; names are ours (never user text), checked all the same."""
    name = f"{prefix}_{store}".lower()
    if not name.replace("_", "").isalnum() or not name.isascii():
        raise ValueError(f"schema name {name!r}: use letters, digits and underscores")
    return name


def redacted_url(url: str) -> str:
    """The URL with its password replaced, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class _StoreConnection(sqlite3.Connection):
    """A store's SQLite connection; a subclass only so that `_OPEN` may hold it weakly."""


_OPEN: weakref.WeakSet[sqlite3.Connection] = weakref.WeakSet()
"""Every store connection of this process not yet collected, for `_close_at_exit`."""


@atexit.register
def _close_at_exit() -> None:
    """Close every store connection still open when the process ends. A service (a worker, the
    API, the gateway) holds its stores until it is stopped and never closes them itself, and SQLite
    folds the write-ahead log into the main file only on the last close of a file: without this, a
    stopped hubnet left most rows in `<store>.sqlite-wal`, and a copy of the main files alone lost
    them (docs/operations.md, backups). A unit still open is rolled back, as a crash would leave it."""
    for connection in list(_OPEN):
        with contextlib.suppress(sqlite3.Error):  # e.g. a daemon thread still using it
            connection.close()


def connect_sqlite(
    path: Path | str, *, cache_kib: int = 65536, synchronous: str = "NORMAL", busy_timeout_s: float = 30.0
) -> Any:
    """SQLite in WAL mode; `synchronous` NORMAL for stores rebuilt from Kafka, FULL for the rest;
    a write waits up to `busy_timeout_s` for another connection's lock, then fails as transient."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(
        str(path), check_same_thread=False, timeout=busy_timeout_s, factory=_StoreConnection
    )
    _OPEN.add(connection)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA synchronous={synchronous}")
    connection.execute(f"PRAGMA cache_size=-{int(cache_kib)}")
    return connection


def connect_postgresql(
    url: str,
    schema: str | None,
    *,
    password: str | None = None,
    sslmode: str = "prefer",
    sslrootcert: Path | None = None,
    autocommit: bool = False,
) -> Any:
    """A psycopg connection (autocommit off: stores commit their own units) whose `search_path`
    is `schema` (created by the migration runner, which holds the lock that makes that safe).
    Raises `ConfigurationError` naming the server (never the password) when it cannot connect."""
    import psycopg

    options: dict[str, Any] = {"sslmode": sslmode, "autocommit": autocommit, "connect_timeout": 10}
    if password:
        options["password"] = password
    if sslrootcert:
        options["sslrootcert"] = str(sslrootcert)
    if schema:
        options["options"] = f"-c search_path={schema}"
    try:
        return psycopg.connect(url, **options)
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigurationError(
            f"cannot connect to PostgreSQL at {redacted_url(url)} (sslmode={sslmode}): {reason}. "
            "Check HUBNET_DATABASE_URL, HUBNET_DATABASE_PASSWORD and HUBNET_DATABASE_SSLMODE, and "
            "that the server is running (pg_isready)."
        ) from None


def connect(settings: Settings, store: str, *, cache_kib: int = 65536, synchronous: str = "NORMAL") -> Any:
    """The connection of one store (`referrals`, `timeline`, ...) as the settings place it."""
    if not settings.database_url:
        return connect_sqlite(
            settings.data_dir / f"{store}.sqlite",
            cache_kib=cache_kib,
            synchronous=synchronous,
            busy_timeout_s=settings.sqlite_busy_timeout_s,
        )
    return connect_postgresql(
        settings.database_url,
        schema_name(store, settings.database_schema_prefix),
        password=settings.database_password.get_secret_value() if settings.database_password else None,
        sslmode=settings.database_sslmode,
        sslrootcert=settings.database_sslrootcert,
    )
