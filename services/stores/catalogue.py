"""Every store hubnet keeps and its migrations: what `hubnet migrate` walks through.

A store also applies its own pending migrations when it opens (so `make run` needs no extra
step); `hubnet migrate` lets a deployment do it first, in one place, and see what it did.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.core import outbox
from services.core.settings import Settings
from services.county import store as county_store
from services.gateway import database as gateway_database
from services.gateway import schema as gateway_schema
from services.identity.store import IdentityStore
from services.ops import store as ops_store
from services.reference.store import ReferenceStore
from services.referrals.store import ReferralStore
from services.stores.connect import connect
from services.stores.migrations import Migration, Migrator
from services.timeline.audit_store import AuditStore
from services.timeline.store import TimelineStore
from services.timeline.users import UserStore


@dataclass(frozen=True)
class StoreSchema:
    """One store: its name (file `<name>.sqlite`, schema `hubnet_<name>`) and its migrations."""

    name: str
    migrations: tuple[Migration, ...]


def catalogue() -> list[StoreSchema]:
    return [
        StoreSchema(AuditStore.STORE, AuditStore.migrations()),
        StoreSchema(gateway_database.STORE, gateway_schema.MIGRATIONS),
        StoreSchema(county_store.STORE, county_store.MIGRATIONS),
        StoreSchema(IdentityStore.STORE, IdentityStore.migrations()),
        StoreSchema(ops_store.STORE, ops_store.MIGRATIONS),
        StoreSchema(outbox.STORE, outbox.MIGRATIONS),
        StoreSchema(ReferenceStore.STORE, ReferenceStore.migrations()),
        StoreSchema(ReferralStore.STORE, ReferralStore.migrations()),
        StoreSchema(TimelineStore.STORE, TimelineStore.migrations()),
        StoreSchema(UserStore.STORE, UserStore.migrations()),
    ]


def migrate(settings: Settings, *, dry_run: bool = False) -> dict[str, list[Migration]]:
    """Per store, the migrations applied now (or, with `dry_run`, the ones pending)."""
    done: dict[str, list[Migration]] = {}
    for store in catalogue():
        connection = connect(settings, store.name)
        try:
            migrator = Migrator(connection)
            done[store.name] = (
                migrator.pending(store.migrations) if dry_run else migrator.apply(store.migrations)
            )
        finally:
            connection.close()
    return done
