"""The fh.linked envelope extension: build, parse, key and headers; the merge notice's Linkage is
valid FHIR R4."""

from __future__ import annotations

import orjson
import pytest

from connectors.common.fhir_validation import validate_resource
from schemas.envelope import HubEvent
from schemas.event_types import EventType
from schemas.linked import HUB_PERSON, LinkedEvent, merge_event
from tests.unit.identity.events import event, nhs, person


def test_a_linked_event_round_trips_and_keeps_the_hub_event_intact() -> None:
    source = event(person("Amy", "Jones", "2019-05-02", nhs_number=nhs(1)), "r1")
    linked = LinkedEvent(event=source, person_id="p-1", family_ids=("f-1", "f-2"), related_ids=("p-2",))
    parsed = LinkedEvent.from_bytes(linked.to_bytes())
    assert parsed == linked
    assert HubEvent.from_bundle(orjson.loads(linked.to_bytes())).event_id == source.event_id
    assert linked.key == b"f-1"
    headers = dict(linked.headers())
    assert headers["person_id"] == b"p-1"
    assert headers["family_id"] == b"f-1,f-2"
    assert headers["event_id"] == source.event_id.encode()


def test_a_plain_hub_event_is_not_a_linked_event() -> None:
    source = event(person("Amy", "Jones", "2019-05-02"), "r1")
    with pytest.raises(ValueError, match="hub-person"):
        LinkedEvent.from_bytes(source.to_bytes())


def test_the_merge_notice_names_both_persons_in_a_valid_linkage() -> None:
    notice = merge_event(
        decision_id="merge:a:b",
        kept="a",
        absorbed="b",
        family_ids=("f",),
        by="rule:nhs-number",
        unmerge=False,
    )
    assert notice.event.event_type == EventType.HUB_PERSONS_MERGED
    assert [(s.system, s.value) for s in notice.event.subjects] == [(HUB_PERSON, "a"), (HUB_PERSON, "b")]
    validate_resource(notice.event.entries[0].resource)
    again = merge_event(
        decision_id="merge:a:b",
        kept="a",
        absorbed="b",
        family_ids=("f",),
        by="rule:nhs-number",
        unmerge=False,
    )
    assert again.event.event_id == notice.event.event_id
