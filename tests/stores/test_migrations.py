"""Schema migrations on SQLite and PostgreSQL: fresh apply, re-apply, two migrators at once, an
upgrade that keeps data, and a SQLite file from before migrations existed."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from services.stores.connect import Dialect, connect_sqlite
from services.stores.migrations import Migration, Migrator, translate_ddl
from services.timeline.policy import Role
from services.timeline.users import SCHEMA_1 as USERS_SCHEMA
from services.timeline.users import UserStore
from tests.databases import Backend

V1 = Migration(1, "notes", "CREATE TABLE note (note_id TEXT PRIMARY KEY, body BLOB NOT NULL)")
V2 = Migration(
    2,
    "note numbers and authors",
    "CREATE TABLE counter (seq INTEGER PRIMARY KEY, note_id TEXT NOT NULL);"
    "ALTER TABLE note ADD COLUMN author TEXT NOT NULL DEFAULT 'unknown'",
)


def tables(backend: Backend, connection: Any) -> set[str]:
    if backend.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    else:
        sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    rows = connection.execute(sql).fetchall()
    connection.rollback()
    return {str(r[0]) for r in rows}


def test_fresh_apply_runs_every_migration_in_order_and_records_it(backend: Backend) -> None:
    connection = backend.connection("fresh")
    migrator = Migrator(connection)
    assert [m.version for m in migrator.pending([V2, V1])] == [1, 2]
    assert [m.version for m in migrator.apply([V2, V1])] == [1, 2]
    assert migrator.applied() == [1, 2]
    assert {"note", "counter", "schema_migrations"} <= tables(backend, connection)


def test_applying_again_is_a_no_op(backend: Backend) -> None:
    migrator = Migrator(backend.connection("again"))
    migrator.apply([V1, V2])
    assert migrator.apply([V1, V2]) == []
    assert Migrator(backend.connection("again")).apply([V1, V2]) == []  # another process
    assert migrator.pending([V1, V2]) == []


def test_two_migrators_starting_together_apply_each_migration_once(backend: Backend) -> None:
    """V1 and V2 are not idempotent DDL (no IF NOT EXISTS): running either twice would fail."""
    connections = [backend.connection("race") for _ in range(2)]
    start = threading.Barrier(2)
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def run(connection: Any) -> None:
        start.wait()
        try:
            results.append([m.version for m in Migrator(connection).apply([V1, V2])])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(c,)) for c in connections]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(results) == [[], [1, 2]]
    assert Migrator(connections[0]).applied() == [1, 2]


def test_upgrade_from_1_to_2_keeps_the_data(backend: Backend) -> None:
    connection = backend.connection("upgrade")
    migrator = Migrator(connection)
    migrator.apply([V1])
    mark = "?" if backend.name == "sqlite" else "%s"
    connection.execute(f"INSERT INTO note (note_id, body) VALUES ({mark}, {mark})", ("n1", b"\x00\xffhello"))
    connection.commit()
    assert [m.version for m in migrator.apply([V1, V2])] == [2]
    row = connection.execute("SELECT note_id, body, author FROM note").fetchone()
    assert (row[0], bytes(row[1]), row[2]) == ("n1", b"\x00\xffhello", "unknown")
    connection.execute(f"INSERT INTO counter (note_id) VALUES ({mark})", ("n1",))  # a rowid/identity key
    connection.execute(f"INSERT INTO counter (note_id) VALUES ({mark})", ("n1",))
    assert [r[0] for r in connection.execute("SELECT seq FROM counter ORDER BY seq").fetchall()] == [1, 2]
    connection.commit()


def test_a_failing_migration_leaves_nothing_behind(backend: Backend) -> None:
    broken = Migration(2, "broken", "CREATE TABLE half (x TEXT); CREATE TABLE note (again TEXT)")
    migrator = Migrator(backend.connection("broken"))
    migrator.apply([V1])
    with pytest.raises(Exception, match="note"):
        migrator.apply([V1, broken])
    assert migrator.applied() == [1]
    assert "half" not in tables(backend, backend.connection("broken"))


def test_repeated_versions_are_refused() -> None:
    with pytest.raises(ValueError, match="repeat"):
        Migrator(sqlite3.connect(":memory:")).apply([V1, Migration(1, "again", "SELECT 1")])


def test_a_sqlite_file_from_before_migrations_opens_with_its_rows(tmp_path: Path) -> None:
    """Files written before `schema_migrations` existed hold exactly migration 1's tables."""
    path = tmp_path / "users.sqlite"
    legacy = sqlite3.connect(path)
    legacy.executescript(USERS_SCHEMA)
    legacy.execute(
        "INSERT INTO hub_user VALUES ('hv', 'HV', 'health-visitor', '[\"E07000076\"]', '00', 'x', 1, 'then')"
    )
    legacy.commit()
    legacy.close()
    users = UserStore.open(path)
    principal = users.get("hv")
    assert principal is not None
    assert principal.role is Role.HEALTH_VISITOR
    assert principal.services == (), "an account from before service assignment works for no service"
    assert Migrator(connect_sqlite(path)).applied() == [m.version for m in UserStore.MIGRATIONS]


def test_sqlite_types_in_postgresql_words() -> None:
    ddl = "CREATE TABLE t (seq INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL, b BLOB, r REAL)"
    assert translate_ddl(ddl, Dialect.POSTGRESQL) == (
        "CREATE TABLE t (seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n BIGINT NOT NULL, "
        "b BYTEA, r DOUBLE PRECISION)"
    )
    assert translate_ddl(ddl, Dialect.SQLITE) == ddl


def test_the_gateway_repositories_sharing_a_database_check_its_migrations_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Partners, item statuses and the file ledger open on one `Database` at start-up: the gateway's
    migrations are applied (or found applied) once, and its tables are all there."""
    from services.gateway.database import Database
    from services.gateway.filedrop import FileLedger
    from services.gateway.idempotency import EventStatusStore
    from services.gateway.partners import PartnerStore

    applied: list[int] = []
    plain = Migrator.apply

    def counted(self: Migrator, migrations: Any) -> list[Migration]:
        applied.append(len(migrations))
        return plain(self, migrations)

    monkeypatch.setattr(Migrator, "apply", counted)
    db = Database.open(tmp_path / "gateway.sqlite")
    PartnerStore(db), EventStatusStore(db), FileLedger(db)
    assert len(applied) == 1
    assert {"partners", "api_keys", "item_status", "drop_files"} <= {
        r[0] for r in db.rows("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    other = (Migration(1, "another store's", "CREATE TABLE IF NOT EXISTS t (x TEXT)"),)
    db.migrate(other)  # a different set is still applied
    assert len(applied) == 2
