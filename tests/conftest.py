"""Fixtures shared by every test tier.

The embedded broker is started once per test session on a free port and stopped by its own
process id. Integration tests take `bootstrap`; unit tests never start a broker.

FHIR validation is imported first, as in every hubnet process, so the fhir.resources models that
test modules import run the checks hubnet installs (connectors/common/fhir_core_checks.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import connectors.common.fhir_validation  # noqa: F401  (installs fhir_core_checks before models exist)
from services.core.broker import EmbeddedBroker, free_port
from services.core.settings import Settings

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def embedded_broker() -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker(port=free_port()) as broker:
        yield broker


@pytest.fixture(scope="session")
def bootstrap(embedded_broker: EmbeddedBroker) -> str:
    return embedded_broker.bootstrap


@pytest.fixture
def settings(tmp_path: Path, bootstrap: str) -> Settings:
    """Settings pointing at the session broker (the embedded one: its short group timing), with a
    private data dir per test."""
    return Settings(KAFKA_BOOTSTRAP_SERVERS=bootstrap, data_dir=tmp_path, broker_profile="embedded")


@pytest.fixture
def unique() -> str:
    """A suffix for topic and group names, so tests sharing the session broker never collide."""
    return uuid.uuid4().hex[:8]


pytest_plugins = ["tests.databases"]
