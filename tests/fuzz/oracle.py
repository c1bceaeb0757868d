"""What must hold for any input to any connector: the contract of connectors/base.py, checked case by case.

`check_input` converts one input twice and raises `AssertionError` naming the broken rule when:
- `convert` raises, or gives no outcome at all;
- an event does not round-trip through its wire bytes, its message Bundle is not valid FHIR R4B,
  its id is not derived from (source system, record id, version), or a subject identifier is
  not normalised (ASCII NHS number with a good check digit, UPN with its check letter);
- a rejection has no reason, is the connector-bug fallback ("hubnet could not map this record"),
  repeats the personal-data canary, keeps bytes that are not part of the input, or cannot
  become a dead letter that round-trips;
- a second conversion (another trace id, the same receipt time) gives different event ids or
  different rejections (not deterministic).
Used by the pytest fuzz test and by the atheris script alike.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import fromstring
from fhir.resources.R4B.bundle import Bundle

from connectors import registry
from connectors.base import Outcome, Rejection, SourceContext
from schemas.dead_letter import DeadLetter
from schemas.envelope import HubEvent, event_id_for
from schemas.identifiers import NHS_NUMBER, UPN, nhs_number_is_valid, upn_is_valid
from services.core.dead_letters import dead_letter_for
from tests.fuzz.inputs import family_of
from tests.fuzz.text_mutations import BOM
from tests.fuzz.values import CANARY

MLLP_START, MLLP_END = b"\x0b", b"\x1c"
CONNECTOR_FAULT = "hubnet could not map this record"
"""The reason connectors/base.py gives when a connector raised something other than MappingError."""


def check_input(fmt: str, data: bytes) -> Counter[str]:
    """Convert `data` with the `fmt` connector and check every outcome; counts of
    'event' and 'rejection' for the caller's statistics."""
    connector = registry.get(fmt)
    received = datetime.now(UTC)
    first = _convert(fmt, data, "fuzz-1", received)
    assert first, "convert gave no outcome at all: the input vanished"
    counts: Counter[str] = Counter()
    for outcome in first:
        if isinstance(outcome, Rejection):
            check_rejection(connector.name, outcome, data)
            counts["rejection"] += 1
        else:
            check_event(outcome)
            counts["event"] += 1
    second = _convert(fmt, data, "fuzz-2", received)
    assert _fingerprint(second) == _fingerprint(first), "the same input gave different outcomes"
    return counts


def _convert(fmt: str, data: bytes, trace_id: str, received: datetime) -> list[Outcome]:
    """One conversion; the receipt time is an input too (SSDA903 rows are versioned by it)."""
    ctx = SourceContext(
        partner="fuzz-partner", trace_id=trace_id, source_name="fuzz-input", received_at=received
    )
    return list(registry.get(fmt).convert(data, ctx))


def _fingerprint(outcomes: list[Outcome]) -> list[tuple[str, ...]]:
    return [
        ("rejection", o.reason, o.location or "", o.original.hex())
        if isinstance(o, Rejection)
        else ("event", o.event_id)
        for o in outcomes
    ]


def check_event(event: HubEvent) -> None:
    assert HubEvent.from_bytes(event.to_bytes()) == event, "the event does not round-trip through its bytes"
    Bundle.model_validate(event.to_bundle())  # raises pydantic.ValidationError naming the element
    assert event.event_id == event_id_for(event.source_system, event.source_record_id, event.record_version)
    for subject in event.subjects:
        if subject.system == NHS_NUMBER:
            assert re.fullmatch(r"[0-9]{10}", subject.value), "NHS number subject is not 10 ASCII digits"
            assert nhs_number_is_valid(subject.value), "NHS number subject fails the modulus 11 check"
        elif subject.system == UPN:
            assert upn_is_valid(subject.value), "UPN subject fails its check letter"


def check_rejection(connector: str, rejection: Rejection, data: bytes) -> None:
    assert rejection.reason.strip(), "a rejection without a reason"
    assert CONNECTOR_FAULT not in rejection.reason, f"connector bug fallback: {rejection.reason}"
    said = f"{rejection.reason} {rejection.location or ''}"
    assert CANARY not in said, f"the reason repeats a personal value: {said[:300]}"
    assert is_part_of(rejection.original, data), "the rejection keeps bytes that are not part of the input"
    ctx = SourceContext(partner="fuzz-partner", trace_id="fuzz", source_name="fuzz-input")
    letter = dead_letter_for(rejection, connector, ctx)
    assert DeadLetter.from_bytes(letter.to_bytes()) == letter, "the dead letter does not round-trip"


def is_part_of(original: bytes, data: bytes) -> bool:
    """The whole input, a slice of it, or a record re-written from it: every line (CSV, HL7) or
    every leaf value (JSON, XML) of `original` occurs in `data`."""
    if original in data:
        return True
    leaves = _leaves(original)
    return bool(leaves) and leaves <= _leaves(data)


def _leaves(data: bytes) -> set[str]:
    """JSON scalars or XML text and attribute values when `data` parses as such; its lines otherwise
    (CSV and HL7, or a CSV whose first cell happens to start with '<'), MLLP framing bytes counted
    as line breaks (the HL7 connector takes messages out of their frames, as a listener would)."""
    data = data.removeprefix(BOM)
    family = family_of(data)
    try:
        if family == "json":
            return set(_json_leaves(json.loads(data)))
        if family == "xml":
            return set(_xml_leaves(fromstring(data)))
    except Exception:  # not a tree after all: compare lines
        pass
    unframed = data.replace(MLLP_START, b"\n").replace(MLLP_END, b"\n")
    return {line.decode("utf-8", errors="replace") for line in unframed.splitlines() if line.strip()}


def _json_leaves(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _json_leaves(value)
    elif isinstance(node, list):
        for value in node:
            yield from _json_leaves(value)
    else:
        yield node if isinstance(node, str) else json.dumps(node)


def _xml_leaves(root: Element) -> Iterator[str]:
    for element in root.iter():
        if element.text and element.text.strip():
            yield element.text.strip()
        yield from element.attrib.values()
