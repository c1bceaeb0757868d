"""Helpers shared by the fhir and nems connector tests: public sample folders and event checks."""

from __future__ import annotations

from pathlib import Path

from connectors.base import Rejection
from connectors.common.fhir_validation import validate_resource
from schemas.envelope import HubEvent
from tests.public_data import public_sample


def shared(folder: str) -> Path:
    """A public sample folder (tests/data/public, see its README)."""
    return public_sample(folder)


def assert_sound(event: HubEvent) -> None:
    """Survives the wire; every resource validates as R4 and carries its hub id."""
    assert HubEvent.from_bytes(event.to_bytes()) == event
    assert event.subjects
    for entry in event.entries:
        validate_resource(entry.resource)
        assert entry.full_url == f"urn:uuid:{entry.resource['id']}"


def assert_explained(rejection: Rejection) -> None:
    """A rejection says where and why, in words."""
    assert rejection.location
    assert len(rejection.reason) > 20
