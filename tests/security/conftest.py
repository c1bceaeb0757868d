"""The staff app over the matrix county (tests/security/world.py), shared by a module's tests:
reads change nothing but the audit trail, which each test looks up by its own user name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from services.timeline.audit import AuditTrail
from services.timeline.store import TimelineStore
from services.timeline.users import UserStore
from services.web.app import create_app
from tests.security.world import GridEntry, build_store


@pytest.fixture(scope="module")
def county() -> Iterator[tuple[TimelineStore, list[GridEntry]]]:
    store, grid = build_store()
    yield store, grid
    store.close()


@pytest.fixture(scope="module")
def staff_app(county: tuple[TimelineStore, list[GridEntry]]) -> Iterator[FastAPI]:
    """`hubnet serve api`'s app with OIDC identities from a trusted proxy, as in production."""
    store, _ = county
    users = UserStore.open(":memory:")
    yield create_app(store, users, AuditTrail(store), b"m" * 32, trust_proxy=True)
    users.close()
