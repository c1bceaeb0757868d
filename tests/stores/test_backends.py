"""What the PostgreSQL backend adds: settings, TLS, a schema per store, `hubnet migrate`, the
write lock between processes, and no password in a message or a log line."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from schemas.errors import ConfigurationError
from services.cli.main import app
from services.core.logging import redact_value
from services.core.settings import Settings, load_settings
from services.gateway import schema as gateway_schema
from services.gateway.database import Database
from services.gateway.partners import PartnerStore
from services.referrals.store import ReferralStore
from services.stores.connect import connect_postgresql, redacted_url
from services.timeline.policy import Role
from services.timeline.users import UserStore
from tests.databases import Backend


def test_tls_is_used_when_required(postgres_url: str) -> None:
    connection = connect_postgresql(postgres_url, None, sslmode="require")
    try:
        row = connection.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
    finally:
        connection.close()
    assert row == (True,)


def test_settings_place_each_store_in_its_own_schema(postgres_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=postgres_url, database_sslmode="require")
    users = UserStore.from_settings(settings)
    try:
        users.add("hv-schema-test", "a-long-password", Role.HEALTH_VISITOR, ["E07000076"])
        schema = users._one("SELECT current_schema()")[0]
    finally:
        users.close()
    assert schema == "hubnet_users"
    assert not list(tmp_path.iterdir())  # no SQLite file when PostgreSQL is configured


def test_same_store_code_on_both_backends(backend: Backend) -> None:
    users = backend.open(UserStore)
    users.add("sw", "a-long-password", Role.SOCIAL_WORKER, ["E07000076"], "Sam Worker")
    users.add("sw", "another-password", Role.SOCIAL_WORKER, ["E07000077"])  # upsert keeps one row
    assert users.authenticate("sw", "another-password") is not None
    assert users.authenticate("sw", "a-long-password") is None
    assert [p.areas for p in users.list()] == [("E07000077",)]


def test_write_transactions_of_two_processes_take_turns(backend: Backend) -> None:
    """The worker and the inbox API each hold a connection; the second writer waits for the
    first to commit instead of both reading and both writing their next version."""
    first, second = backend.open(ReferralStore), backend.open(ReferralStore)
    order: list[str] = []
    inside = threading.Event()

    def other() -> None:
        inside.wait(10)
        with second.transaction():
            order.append("second")

    thread = threading.Thread(target=other)
    thread.start()
    with first.transaction():
        first.remember("event-1")
        inside.set()
        time.sleep(0.3)  # room for the other writer to (wrongly) get in
        order.append("first")
    thread.join(30)
    assert order == ["first", "second"]
    assert second.seen("event-1")


def test_migrate_command_applies_once_and_lists_pending(backend: Backend) -> None:
    env = {"HUBNET_DATA_DIR": str(backend.tmp_path), "HUBNET_DATABASE_URL": backend.url or ""}
    if backend.url is None:
        del env["HUBNET_DATABASE_URL"]
        dry = CliRunner().invoke(app, ["migrate", "--dry-run"], env=env)
        assert dry.exit_code == 0, dry.output
        assert "referrals: pending 1" in dry.output
    first = CliRunner().invoke(app, ["migrate"], env=env)
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(app, ["migrate"], env=env)
    assert again.exit_code == 0, again.output
    for store in ("gateway", "identity", "ops", "outbox", "referrals", "timeline", "users"):
        assert f"{store}: up to date" in again.output
    if backend.url is None:
        assert "referrals: applied 1" in first.output


def test_a_gateway_file_made_before_migrations_is_adopted_with_its_partners(tmp_path: Path) -> None:
    """The gateway's tables were made by idempotent DDL before they had migrations: `hubnet
    migrate` records version 1 on such a file without losing a row, and the partner registry
    then opens it without applying anything more."""
    legacy = sqlite3.connect(tmp_path / "gateway.sqlite")
    legacy.executescript(gateway_schema.MIGRATIONS[0].sql)
    legacy.execute(
        "INSERT INTO partners VALUES (?, ?, '[]', '[]', '[\"*\"]', '[\"*\"]', '2026-01-01', NULL)",
        ("hv-east", "East HV"),
    )
    legacy.commit()
    legacy.close()
    result = CliRunner().invoke(app, ["migrate"], env={"HUBNET_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert "gateway: applied 1 partners, api keys, item statuses, file ledger" in result.output
    assert "ops: applied 1" in result.output
    assert f"gateway: applied {gateway_schema.MIGRATIONS[-1].version} " in result.output
    db = Database.at(tmp_path)
    try:
        assert PartnerStore(db).get("hv-east").name == "East HV"
        applied = db.rows("SELECT version FROM schema_migrations ORDER BY version")
        assert applied == [(m.version,) for m in gateway_schema.MIGRATIONS]  # by `migrate`, none on open
    finally:
        db.close()


def test_a_bad_database_url_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBNET_DATABASE_URL", "mysql://db/hubnet")
    with pytest.raises(ConfigurationError, match="HUBNET_DATABASE_URL"):
        load_settings()


def test_no_password_in_errors_or_logs() -> None:
    url = "postgresql://hub:s3cret-Pa55@127.0.0.1:1/hubnet"
    assert "s3cret" not in redacted_url(url)
    assert "s3cret" not in str(redact_value(f"connecting to {url}"))
    with pytest.raises(ConfigurationError) as raised:
        connect_postgresql(url, None, sslmode="disable")
    assert "s3cret" not in str(raised.value)
    assert "127.0.0.1" in str(raised.value)


def kill(connection: Any, postgres_url: str) -> None:
    """End a store's server session as a restart or fail-over would."""
    pid = connection.info.backend_pid
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))  # waits until it is gone


def test_a_lost_connection_is_opened_again_and_lost_work_is_reported(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=postgres_url, database_schema_prefix="t_lost")
    store = ReferralStore.from_settings(settings)
    with store.transaction():
        store.remember("kept")
    kill(store._db, postgres_url)
    with pytest.raises(psycopg.OperationalError):  # the first use finds the session gone
        store.seen("kept")
    assert store.seen("kept")  # between units: reopened, nothing was pending

    def unit_losing_its_connection() -> None:
        with store.transaction():
            store.remember("lost")
            kill(store._db, postgres_url)
            store.remember("after")

    with pytest.raises(psycopg.OperationalError):
        unit_losing_its_connection()
    with store.transaction():
        store.remember("next")
    assert not store.seen("lost")
    assert store.seen("next")

    store.remember("uncommitted")  # outside a unit, as a group commit leaves work pending
    kill(store._db, postgres_url)
    with pytest.raises(psycopg.OperationalError):
        store.seen("uncommitted")  # the driver notices the loss
    with pytest.raises(psycopg.OperationalError, match="uncommitted work"):
        store.seen("uncommitted")  # reconnected, and says the pending work is gone
    assert not store.seen("uncommitted")
    store.close()
