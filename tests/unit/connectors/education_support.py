"""Helpers shared by the education connector tests: run a connector, check what comes out."""

from __future__ import annotations

from pathlib import Path

from connectors.base import Connector, Rejection, SourceContext
from connectors.common.fhir_validation import validate_resource
from schemas.envelope import HubEvent

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
CTX = SourceContext(partner="school-881-2001", source_name="test")


def run(connector: Connector, data: bytes) -> tuple[list[HubEvent], list[Rejection]]:
    """Convert and sort the outcomes into events and rejections."""
    outcomes = list(connector.convert(data, CTX))
    events = [o for o in outcomes if isinstance(o, HubEvent)]
    rejections = [o for o in outcomes if isinstance(o, Rejection)]
    return events, rejections


def assert_sound(event: HubEvent) -> None:
    """The event survives the wire, its resources validate, and its references resolve inside it."""
    assert HubEvent.from_bytes(event.to_bytes()) == event
    urls = {entry.full_url for entry in event.entries}
    for entry in event.entries:
        validate_resource(entry.resource)
        for key in ("subject", "patient"):
            if key in entry.resource:
                assert entry.resource[key]["reference"] in urls
