"""csc-events: children's social care case events (CSV or JSON) to hub events.

No public sample of this hubnet-defined contract (docs/connectors/native-formats.md) exists in
tests/data/public, so these tests use hubnet's synthetic sample (samples/csc-events: invented
children, NHS numbers from the 999 test range, UPNs with valid check letters) and broken
variants written here.
"""

from __future__ import annotations

import csv
import io

import orjson
import pytest

from connectors import registry
from connectors.base import Record
from connectors.social_care.connector import CscEventsConnector
from schemas.envelope import HubEvent, Sensitivity
from schemas.event_types import EventType
from schemas.identifiers import NHS_NUMBER, UPN, local_system
from tests.unit.connectors.social_care_support import (
    CTX,
    PARTNER,
    SAMPLES,
    assert_restricted,
    assert_sound,
    run,
)

CONNECTOR = CscEventsConnector()
SAMPLE = SAMPLES / "csc-events" / "case-events.csv"
HEADER = (
    "record_id,person_id,nhs_number,upn,given_name,family_name,birth_date,event_type,event_date,{extra}\n"
)


def row(
    event_type: str, extra: str = "", *, record: str = "R-1", nhs: str = "9995260182", **cells: str
) -> bytes:
    """A one-row file; `extra` names one more column whose value is in `cells`."""
    header = HEADER.format(extra=extra or "reason")
    value = cells.get(extra, "") if extra else ""
    line = f"{record},P-1,{nhs},T881200101001,Test,Child,2017-04-12,{event_type},2025-03-01,{value}\n"
    return (header + line).encode()


def by_record(events: list[HubEvent]) -> dict[str, HubEvent]:
    return {e.source_record_id: e for e in events}


def test_registered_under_its_format_name() -> None:
    assert isinstance(registry.get("csc-events"), CscEventsConnector)


def test_sample_converts_to_sound_events() -> None:
    events, rejections = run(CONNECTOR, SAMPLE.read_bytes())
    assert rejections == []
    for event in events:
        assert_sound(event)
    codes = [(e.event_type, e.source_record_id) for e in events]
    assert codes[:8] == [
        (EventType.SOCIAL_CARE_CONTACT, "EV-1001"),
        (EventType.SOCIAL_CARE_REFERRAL, "EV-1002"),
        (EventType.SOCIAL_CARE_ASSESSMENT, "EV-1003"),
        (EventType.SOCIAL_CARE_ASSESSMENT, "EV-1004"),
        (EventType.CARE_EPISODE, "EV-1005"),
        (EventType.CARE_EPISODE, "EV-1006"),
        (EventType.CARE_EPISODE, "EV-1007"),
        (EventType.REFERRAL_REQUESTED, "EV-1007/step-down"),
    ]
    assert codes[-1] == (EventType.RECORD_RETRACTED, "EV-3002")
    assert events[-1].retracts == "EV-3002"


def test_rc9_closure_is_also_a_referral_into_the_hub_network() -> None:
    events, _ = run(CONNECTOR, SAMPLE.read_bytes())
    closure, step_down = by_record(events)["EV-1007"], by_record(events)["EV-1007/step-down"]
    episode = closure.entries[0].resource
    assert episode["resourceType"] == "EpisodeOfCare"
    assert episode["status"] == "finished"
    assert {c["coding"][0]["code"] for c in episode["type"]} == {"cin-case", "RC9"}
    request = step_down.entries[0].resource
    assert step_down.event_type is EventType.REFERRAL_REQUESTED
    assert request["resourceType"] == "ServiceRequest"
    assert request["category"][0]["coding"][0]["code"] == "early-help-referral"
    assert request["status"] == "active"
    assert step_down.event_id != closure.event_id


@pytest.mark.parametrize(
    ("event_type", "extra", "value", "code", "resources"),
    [
        ("cp-plan-start", "cp_category", "sexual", EventType.CARE_EPISODE, ["CarePlan", "Flag", "Patient"]),
        ("lac-start", "legal_status", "C2", EventType.CARE_EPISODE, ["EpisodeOfCare", "Patient"]),
        ("missing-start", "", "", EventType.FLAG_RAISED, ["Flag", "Patient"]),
        (
            "assessment-end",
            "assessment_outcome",
            "s47",
            EventType.SOCIAL_CARE_ASSESSMENT,
            ["Procedure", "Patient"],
        ),
        ("referral", "reason", "N1", EventType.SOCIAL_CARE_REFERRAL, ["ServiceRequest", "Patient"]),
        (
            "contact",
            "reason",
            "Mother disclosed domestic abuse",
            EventType.SOCIAL_CARE_CONTACT,
            ["Encounter", "Patient"],
        ),
    ],
)
def test_protection_care_missing_and_abuse_are_restricted(
    event_type: str, extra: str, value: str, code: EventType, resources: list[str]
) -> None:
    events, rejections = run(CONNECTOR, row(event_type, extra, **{extra: value} if extra else {}))
    assert rejections == []
    [event] = events
    assert event.event_type is code
    assert [e.resource["resourceType"] for e in event.entries] == resources
    assert_restricted(event)
    assert_sound(event)


def test_early_help_and_cin_plans_are_not_restricted() -> None:
    for kind in ("early-help-start", "cin-plan-end", "contact"):
        [event], _ = run(CONNECTOR, row(kind))
        assert event.sensitivity is Sensitivity.NORMAL
        assert "meta" not in event.entries[0].resource


def test_missing_episode_is_an_urgent_active_flag_until_it_ends() -> None:
    [started], _ = run(CONNECTOR, row("missing-start"))
    [ended], _ = run(CONNECTOR, row("missing-end", record="R-2"))
    flag = started.entries[0].resource
    assert flag["status"] == "active"
    assert flag["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "urgent"
    assert flag["period"] == {"start": "2025-03-01"}
    assert ended.entries[0].resource["status"] == "inactive"
    assert ended.entries[0].resource["period"] == {"end": "2025-03-01"}


def test_json_array_and_events_object_give_the_csv_event_ids() -> None:
    text = SAMPLE.read_text()
    rows = [{k: v for k, v in r.items() if v} for r in csv.DictReader(io.StringIO(text))]
    from_csv, _ = run(CONNECTOR, text.encode())
    for body in (orjson.dumps(rows), orjson.dumps({"events": rows})):
        from_json, rejections = run(CONNECTOR, body)
        assert rejections == []
        assert [e.event_id for e in from_json] == [e.event_id for e in from_csv]


def test_json_values_may_be_numbers_booleans_and_null() -> None:
    item = {
        "record_id": 77,
        "record_version": 2,
        "person_id": "P-1",
        "given_name": "Test",
        "family_name": "Child",
        "event_type": "referral",
        "event_date": "2025-03-01",
        "referral_source": 6,
        "nhs_number": None,
        "purge": False,
    }
    [event], rejections = run(CONNECTOR, orjson.dumps([item]))
    assert rejections == []
    assert (event.source_record_id, event.record_version) == ("77", "2")
    assert event.entries[0].resource["requester"]["display"] == "Police"


def test_json_errors_name_the_json_path() -> None:
    good = {"record_id": "A", "person_id": "P", "given_name": "T", "family_name": "C"}
    body = {
        "events": [
            {**good, "event_type": "contact", "event_date": "2025-03-01"},
            {**good, "event_type": "x", "event_date": "2025-03-01"},
        ]
    }
    events, rejections = run(CONNECTOR, orjson.dumps(body))
    assert len(events) == 1
    assert [r.location for r in rejections] == ["$.events[1].event_type"]
    nested = [{**good, "event_type": "contact", "event_date": "2025-03-01", "person": {"id": 1}}]
    _, [rejection] = run(CONNECTOR, orjson.dumps(nested))
    assert rejection.location == "$[0].person"
    _, [broken] = run(CONNECTOR, b'[{"record_id": ')
    assert broken.location is not None
    assert "not valid JSON" in broken.reason


def test_wrong_column_names_reject_the_file_naming_them() -> None:
    data = b"record_id,person,given_name,family_name,event_type,date\nR-1,P-1,T,C,contact,2025-03-01\n"
    _, [rejection] = run(CONNECTOR, data)
    assert rejection.location == "line 1"
    assert "person_id" in rejection.reason
    assert "event_date" in rejection.reason


@pytest.mark.parametrize(
    ("data", "location", "words"),
    [
        (row("case-opened"), "line 2, column event_type", "not one of the allowed codes"),
        (row("lac-start", "placement_type", placement_type="ZZ"), "line 2, column placement_type", "DfE"),
        (
            row("case-closure", "closure_reason", closure_reason="RC12"),
            "line 2, column closure_reason",
            "DfE",
        ),
        (row("referral", "referral_source", referral_source="11"), "line 2, column referral_source", "DfE"),
        (row("contact").replace(b"2017-04-12", b"2027-01-01"), "line 2, column birth_date", "after the date"),
        (row("contact").replace(b"2025-03-01", b"2027-01-01"), "line 2, column event_date", "in the future"),
        (
            row("contact").replace(b"2017-04-12", b"2025-06-01"),
            "line 2, column birth_date",
            "after the event",
        ),
        (row("contact").replace(b"2025-03-01", b"01/03/2025"), "line 2, column event_date", "not a date"),
        (row("contact").replace(b",Test,", b",,"), "line 2, column given_name", "required"),
    ],
)
def test_bad_rows_are_rejected_with_location_and_reason(data: bytes, location: str, words: str) -> None:
    events, [rejection] = run(CONNECTOR, data)
    assert events == []
    assert rejection.location == location
    assert words in rejection.reason
    assert "2017-04-12" not in rejection.reason
    assert rejection.original == data


def test_one_bad_row_does_not_block_the_others_and_replays_alone() -> None:
    lines = SAMPLE.read_text().splitlines(keepends=True)
    broken = lines[3].replace("assessment-start", "assessment-begin")
    data = "".join([*lines[:3], broken, *lines[4:]]).encode()
    events, [rejection] = run(CONNECTOR, data)
    good, _ = run(CONNECTOR, SAMPLE.read_bytes())
    assert len(events) == len(good) - 1
    assert rejection.record_ref == "line 4"
    assert rejection.original == (lines[0] + broken).encode()
    _, [again] = run(CONNECTOR, rejection.original)
    assert again.location == "line 2, column event_type"
    replayed = CONNECTOR.map_record(Record(raw=(lines[0] + lines[3]).encode(), ref="line 4"), CTX)
    assert replayed[0].event_id == good[2].event_id


def test_invalid_cross_reference_is_dropped_not_fatal() -> None:
    [event], rejections = run(CONNECTOR, row("contact", nhs="9995260183"))
    assert rejections == []
    assert [s.system for s in event.subjects] == [local_system(PARTNER, "person"), UPN]
    patient = event.entries[-1].resource
    assert [i["system"] for i in patient["identifier"]] == [local_system(PARTNER, "person"), UPN]


def test_identifiers_are_normalised() -> None:
    data = row("contact", nhs="999 526 0182").replace(b"T881200101001", b"t881200101001 ")
    [event], _ = run(CONNECTOR, data)
    assert [(s.system, s.value) for s in event.subjects] == [
        (local_system(PARTNER, "person"), "P-1"),
        (NHS_NUMBER, "9995260182"),
        (UPN, "T881200101001"),
    ]


def test_event_ids_are_deterministic_and_follow_the_version() -> None:
    first, _ = run(CONNECTOR, SAMPLE.read_bytes())
    second, _ = run(CONNECTOR, SAMPLE.read_bytes())
    assert [e.event_id for e in first] == [e.event_id for e in second]
    assert [e.entries[0].resource["id"] for e in first if e.entries] == [
        e.entries[0].resource["id"] for e in second if e.entries
    ]
    header = "record_id,record_version,person_id,given_name,family_name,event_type,event_date\n"
    v1, v2, stamp = (
        run(CONNECTOR, f"{header}R-1,{v},P-1,T,C,contact,2025-03-01\n".encode())[0][0]
        for v in ("1", "2", "2025-03-01T10:00:00+01:00")
    )
    assert len({v1.event_id, v2.event_id, stamp.event_id}) == 3
    assert stamp.record_version == "2025-03-01T09:00:00.000000Z"


def test_purged_case_closure_also_retracts_its_step_down() -> None:
    header = "record_id,record_version,person_id,event_type,event_date,purge\n"
    events, rejections = run(CONNECTOR, f"{header}EV-1007,2,P-1,case-closure,,true\n".encode())
    assert rejections == []
    assert [(e.event_type, e.retracts) for e in events] == [
        (EventType.RECORD_RETRACTED, "EV-1007"),
        (EventType.RECORD_RETRACTED, "EV-1007/step-down"),
    ]
    assert events[0].occurred_at == CTX.received_at


def test_family_id_follows_the_person_ids_and_never_keys_the_event() -> None:
    """The sample's `family_id` (F-301) becomes a `local/<partner>/family` subject after the
    child's own identifiers, in CSV and JSON alike; the Patient does not carry it."""
    text = SAMPLE.read_text()
    rows = [{k: v for k, v in r.items() if v} for r in csv.DictReader(io.StringIO(text))]
    from_csv, _ = run(CONNECTOR, text.encode())
    from_json, _ = run(CONNECTOR, orjson.dumps(rows))
    family = (local_system(PARTNER, "family"), "F-301")
    for event in (from_csv[0], from_json[0]):
        subjects = [(s.system, s.value) for s in event.subjects]
        assert subjects[0] == (local_system(PARTNER, "person"), "P-5001")
        assert subjects[-1] == family
        assert event.key == f"{NHS_NUMBER}|9995260182".encode()
        patient = event.entries[-1].resource
        assert family[0] not in {i["system"] for i in patient["identifier"]}


def test_a_row_without_family_id_has_no_family_subject() -> None:
    [event], _ = run(CONNECTOR, row("contact", nhs=""))
    assert [s.system for s in event.subjects] == [local_system(PARTNER, "person"), UPN]
    assert event.key == f"{UPN}|T881200101001".encode()
