"""The staff app over the matrix county (tests/security/world.py), shared by a module's tests:
reads change nothing but the audit trail, which each test looks up by its own user name; and the
partner API on a real uvicorn server over a gateway whose outbox is a list (`partner_api`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from services.gateway.app import create_app as create_partner_app
from services.gateway.service import Gateway
from services.timeline.audit import AuditTrail
from services.timeline.audit_store import AuditStore
from services.timeline.store import TimelineStore
from services.timeline.users import UserStore
from services.web.app import create_app
from tests.e2e.serving import served
from tests.security.world import GridEntry, build_store
from tests.unit.gateway.support import ListPublisher, open_gateway


@pytest.fixture(scope="module")
def county() -> Iterator[tuple[TimelineStore, list[GridEntry], AuditStore]]:
    """The matrix county's timeline, its grid, and the audit store its staff app writes to."""
    store, grid = build_store()
    audit = AuditStore.open(":memory:")
    yield store, grid, audit
    audit.close()
    store.close()


@pytest.fixture(scope="module")
def staff_app(county: tuple[TimelineStore, list[GridEntry], AuditStore]) -> Iterator[FastAPI]:
    """`hubnet serve api`'s app with OIDC identities from a trusted proxy, as in production."""
    store, _, audit = county
    users = UserStore.open(":memory:")
    yield create_app(store, users, AuditTrail(audit), b"m" * 32, trust_proxy=True)
    users.close()


@pytest.fixture
def partner_gateway(tmp_path: Path) -> Iterator[tuple[Gateway, ListPublisher]]:
    publisher = ListPublisher()
    gateway = open_gateway(tmp_path, publisher)
    yield gateway, publisher
    gateway.close()


@pytest.fixture
def partner_api(partner_gateway: tuple[Gateway, ListPublisher]) -> Iterator[str]:
    """The partner API on a real uvicorn server on a free loopback port."""
    with served(create_partner_app(partner_gateway[0]), lifespan="off") as url:
        yield url
