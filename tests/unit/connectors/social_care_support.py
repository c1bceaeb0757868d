"""Helpers shared by the social care connector tests: a fixed arrival time (so "in the future"
checks do not drift with the calendar), running a connector, and checking restricted labels."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from connectors.base import Connector, Rejection, SourceContext
from schemas.envelope import CONFIDENTIALITY_SYSTEM, HubEvent, Sensitivity
from tests.public_data import public_sample
from tests.unit.connectors.education_support import SAMPLES, assert_sound

__all__ = ["CTX", "PARTNER", "SAMPLES", "assert_restricted", "assert_sound", "run", "shared_data"]

PARTNER = "essex-csc"
RECEIVED = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
CTX = SourceContext(partner=PARTNER, source_name="test", trace_id="t" * 32, received_at=RECEIVED)


def shared_data(folder: str) -> Path:
    """A folder of the public children's social care samples (tests/data/public)."""
    return public_sample("childrens-social-care", folder)


def run(
    connector: Connector, data: bytes, ctx: SourceContext = CTX
) -> tuple[list[HubEvent], list[Rejection]]:
    """Convert and sort the outcomes into events and rejections."""
    outcomes = list(connector.convert(data, ctx))
    events = [o for o in outcomes if isinstance(o, HubEvent)]
    rejections = [o for o in outcomes if isinstance(o, Rejection)]
    return events, rejections


def assert_restricted(event: HubEvent) -> None:
    """The event and every resource in it carry the restricted confidentiality label."""
    assert event.sensitivity is Sensitivity.RESTRICTED
    for entry in event.entries:
        labels = entry.resource.get("meta", {}).get("security", [])
        assert {"system": CONFIDENTIALITY_SYSTEM, "code": "R"} in labels, entry.resource["resourceType"]
