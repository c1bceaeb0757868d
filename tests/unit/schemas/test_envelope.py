from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fhir.resources.R4B.bundle import Bundle

from schemas.envelope import (
    Entry,
    HubEvent,
    Identifier,
    Sensitivity,
    event_id_for,
    resource_id,
    version_order,
)
from schemas.event_types import CODE_SYSTEM_URL, EventType
from schemas.identifiers import NHS_NUMBER, UPN, local_system


def make_event(**overrides: object) -> HubEvent:
    patient = {"resourceType": "Patient", "id": resource_id("p", "1"), "gender": "female"}
    fields: dict[str, object] = {
        "event_type": EventType.PERSON_REGISTERED,
        "source_partner": "RQ8",
        "source_system": "https://trust.example/pas",
        "source_record_id": "P1",
        "record_version": "3",
        "occurred_at": datetime(2025, 1, 2, 9, 30, tzinfo=UTC),
        "subjects": [
            Identifier(system=local_system("RQ8", "mrn"), value="M1"),
            Identifier(system=NHS_NUMBER, value="9434765919"),
        ],
        "entries": [Entry.of(patient)],
        "ingested_at": datetime(2025, 1, 2, 9, 31, tzinfo=UTC),
        "trace_id": "t1",
    }
    fields.update(overrides)
    return HubEvent.create(**fields)  # type: ignore[arg-type]


def test_event_id_is_stable_for_the_same_record_and_version() -> None:
    assert make_event().event_id == make_event(ingested_at=datetime.now(UTC)).event_id
    assert make_event().event_id == event_id_for("https://trust.example/pas", "P1", "3")


def test_a_new_version_or_record_gets_a_new_id() -> None:
    assert make_event().event_id != make_event(record_version="4").event_id
    assert make_event().event_id != make_event(source_record_id="P2").event_id


def test_bundle_is_a_valid_fhir_message_with_the_header_first() -> None:
    bundle = make_event().to_bundle()
    Bundle.model_validate(bundle)
    header = bundle["entry"][0]["resource"]
    assert bundle["type"] == "message"
    assert header["resourceType"] == "MessageHeader"
    assert header["eventCoding"] == {
        "system": CODE_SYSTEM_URL,
        "code": "person-registered",
        "display": "Person registered",
    }
    assert header["source"]["name"] == "RQ8"
    assert header["focus"] == [{"reference": bundle["entry"][1]["fullUrl"]}]


def test_round_trip_through_bytes_keeps_every_field() -> None:
    event = make_event(sensitivity=Sensitivity.RESTRICTED, retracts="P0")
    assert HubEvent.from_bytes(event.to_bytes()) == event


def test_kafka_key_prefers_the_nhs_number_then_upn() -> None:
    assert make_event().key == f"{NHS_NUMBER}|9434765919".encode()
    upn_only = make_event(subjects=[Identifier(system="x", value="1"), Identifier(system=UPN, value="A881")])
    assert upn_only.key == f"{UPN}|A881".encode()


def test_headers_carry_the_routing_facts() -> None:
    headers = dict(make_event().headers())
    expected = "event_id event_type source_partner occurred_at ingested_at trace_id schema_version"
    assert set(headers) == set(expected.split())
    assert headers["event_type"] == b"person-registered"
    assert headers["occurred_at"] == b"2025-01-02T09:30:00+00:00"


def test_an_event_needs_a_subject() -> None:
    with pytest.raises(ValueError, match="subjects"):
        make_event(subjects=[])


def test_naive_times_are_taken_as_utc() -> None:
    assert make_event(occurred_at=datetime(2025, 1, 2, 9, 30)).occurred_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("bundle", "message"),
    [
        ({"resourceType": "Bundle", "type": "collection"}, "not a FHIR message Bundle"),
        (
            {"resourceType": "Bundle", "type": "message", "entry": []},
            "entry\\[0\\] must be the MessageHeader",
        ),
    ],
)
def test_parsing_a_foreign_bundle_says_what_is_wrong(bundle: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        HubEvent.from_bundle(bundle)


def test_versions_order_numbers_numerically_and_timestamps_as_text() -> None:
    assert version_order("10") > version_order("9")
    assert version_order("2025-01-02T00:00:00Z") > version_order("2024-12-31T23:59:59Z")


@pytest.mark.parametrize(
    "parts",
    [("",), ("p", "1"), ("essex/chis", "patient:ab12", "NK1(2)"), ("é", "☃", "\x1f"), ("x" * 500,)],
)
def test_ids_are_the_rfc_4122_version_5_uuids_of_their_parts(parts: tuple[str, ...]) -> None:
    """Ids are computed without `uuid.UUID` objects for speed; they must stay exactly uuid5,
    or every event and resource id already stored would change."""
    import uuid

    from schemas.envelope import EVENT_ID_NAMESPACE

    assert resource_id(*parts) == str(uuid.uuid5(EVENT_ID_NAMESPACE, "\x1f".join(parts)))
    assert event_id_for(*(parts * 3)[:3]) == str(uuid.uuid5(EVENT_ID_NAMESPACE, "\x1f".join((parts * 3)[:3])))
