"""Fixtures every identity test module shares."""

from __future__ import annotations

import pytest

from services.identity.service import IdentityService
from services.identity.store import IdentityStore
from tests.databases import Backend


@pytest.fixture
def service(backend: Backend) -> IdentityService:
    """On SQLite and on PostgreSQL (tests/databases.py): the identity index runs the same SQL."""
    return IdentityService(backend.open(IdentityStore))
