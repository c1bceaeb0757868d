"""Store fixtures on both backends: every test taking `backend` runs on SQLite and on PostgreSQL.

The PostgreSQL variant runs on a fresh database made for this test session (`hubnet_test_<hex>`,
dropped at the end). The server is one the session starts itself (tests/postgres_server.py: a
throwaway cluster on a free port, TLS on), so the tests neither depend on nor change a machine's own
PostgreSQL; `HUBNET_TEST_POSTGRES_URL` points them at another server instead (it must offer TLS for
the TLS test). When no server can be had the PostgreSQL variants skip, saying why, except under
`CI=true`, where they fail: CI never skips PostgreSQL silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import pytest

from services.core.settings import Settings
from services.stores.connect import connect_postgresql, connect_sqlite, schema_name
from services.streams.sqlstore import SqlStore
from tests.postgres_server import NoServerError, throwaway_server

BACKENDS = ("sqlite", "postgresql")
S = TypeVar("S", bound=SqlStore)


def with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def unreachable(reason: str) -> None:
    """Skip here, fail in CI: a CI run must never pass without having run PostgreSQL."""
    message = (
        f"PostgreSQL test server not available ({reason}); install PostgreSQL's server binaries "
        "(`.ci/run` does) or set HUBNET_TEST_POSTGRES_URL"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The server URL: HUBNET_TEST_POSTGRES_URL, else a throwaway server for this session."""
    configured = os.environ.get("HUBNET_TEST_POSTGRES_URL")
    if configured:
        yield configured
        return
    try:
        with throwaway_server() as url:
            yield url
    except NoServerError as error:
        unreachable(str(error))


@pytest.fixture(scope="session")
def postgres_url(postgres_server: str) -> Iterator[str]:
    """The URL of a fresh database for this session, dropped (with its connections) at the end."""
    import psycopg

    url = postgres_server
    database = f"hubnet_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.Error as error:
        unreachable(str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__)
    with admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        yield with_database(url, database)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@dataclass
class Backend:
    """Opens stores for one test on one backend; fresh and empty each time, closed at the end."""

    name: str
    tmp_path: Path
    url: str | None = None
    prefix: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:10]}")
    opened: list[Any] = field(default_factory=list)

    def connection(self, store: str) -> Any:
        """A new connection to `store` (same store again: another process's view of it)."""
        if self.url is None:
            connection = connect_sqlite(self.tmp_path / f"{store}.sqlite")
        else:
            connection = connect_postgresql(self.url, schema_name(store, self.prefix))
        self.opened.append(connection)
        return connection

    def open(self, cls: type[S], store: str | None = None) -> S:
        return cls(self.connection(store or cls.STORE or cls.__name__.lower()))

    def settings(self, **values: Any) -> Settings:
        """Settings placing every store on this backend (PostgreSQL: this test's schemas in the
        session database)."""
        placed: dict[str, Any] = {"data_dir": self.tmp_path, "database_url": self.url}
        return Settings(**(placed | {"database_schema_prefix": self.prefix} | values))

    def close(self) -> None:
        for connection in self.opened:
            connection.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    opened = Backend(request.param, tmp_path, url)
    try:
        yield opened
    finally:
        opened.close()
