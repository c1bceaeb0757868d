"""vcs-json and vcs-csv: charity activity records to hub events.

No public sample of this hubnet-defined contract (docs/connectors/native-formats.md) exists in
tests/data/public, so these tests use hubnet's own synthetic samples (samples/vcs-json,
samples/vcs-csv: invented people, NHS numbers from the 999 test range) and broken variants of them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors import registry
from connectors.base import Connector, Rejection, SourceContext
from connectors.common.fhir_validation import validate_resource
from schemas.envelope import HubEvent, Sensitivity
from schemas.event_types import EventType
from schemas.identifiers import NHS_NUMBER, local_system

REPO = Path(__file__).parents[3]
JSON_SAMPLE = REPO / "samples" / "vcs-json" / "activity.json"
CSV_SAMPLE = REPO / "samples" / "vcs-csv" / "activity.csv"
RECEIVED = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
HEADER = (
    "record_id,record_version,organisation,activity,date,local_id,given_name,family_name,"
    "birth_date,postcode,nhs_number,service_name,notes\n"
)
GOOD_ROW = "R-1,1,1234567,debt-advice,2025-03-11,C-1,Amy,Testchild,2019-05-02,co151ab,,Money Advice,\n"


def ctx() -> SourceContext:
    return SourceContext(partner="clacton-cvs", trace_id="t-1", received_at=RECEIVED)


def run(name: str, data: bytes) -> list[HubEvent | Rejection]:
    connector: Connector = registry.get(name)
    return list(connector.convert(data, ctx()))


def events(outcomes: list[HubEvent | Rejection]) -> list[HubEvent]:
    assert all(isinstance(o, HubEvent) for o in outcomes), [o for o in outcomes if isinstance(o, Rejection)]
    return [o for o in outcomes if isinstance(o, HubEvent)]


def only_rejection(outcomes: list[HubEvent | Rejection]) -> Rejection:
    assert len(outcomes) == 1
    assert isinstance(outcomes[0], Rejection)
    return outcomes[0]


def activity(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "record_id": "FB-1",
        "organisation": "1234567",
        "activity": "foodbank-referral",
        "date": "2025-03-14",
        "person": {
            "local_id": "C-881",
            "given_name": "Amy",
            "family_name": "Testchild",
            "birth_date": "2019-05-02",
        },
    }
    person = changes.pop("person", {})
    body.update(changes)
    body["person"] = {**body["person"], **person}
    return body


@pytest.mark.parametrize(("name", "sample"), [("vcs-json", JSON_SAMPLE), ("vcs-csv", CSV_SAMPLE)])
def test_every_sample_record_converts_to_valid_events(name: str, sample: Path) -> None:
    found = events(run(name, sample.read_bytes()))
    assert len(found) >= 2
    for event in found:
        assert event.subjects
        assert event.entries[0].full_url == event.focus
        for entry in event.entries:
            validate_resource(entry.resource)
        assert HubEvent.from_bytes(event.to_bytes()).event_id == event.event_id


def test_foodbank_referral_is_a_service_request_with_the_person_for_matching() -> None:
    (event,) = events(run("vcs-json", orjson.dumps(activity(person={"postcode": "co15 1ab"}))))
    assert event.event_type is EventType.REFERRAL_REQUESTED
    request, patient, organisation = (e.resource for e in event.entries)
    assert request["resourceType"] == "ServiceRequest"
    assert request["subject"] == {"reference": f"urn:uuid:{patient['id']}"}
    assert request["requester"] == {"reference": f"urn:uuid:{organisation['id']}"}
    assert patient["name"] == [{"use": "usual", "family": "Testchild", "given": ["Amy"]}]
    assert patient["birthDate"] == "2019-05-02"
    assert patient["address"] == [{"use": "home", "postalCode": "CO15 1AB"}]
    assert organisation["identifier"] == [{"system": "https://org-id.guide/list/GB-CHC", "value": "1234567"}]
    assert [s.token for s in event.subjects] == [f"{local_system('clacton-cvs', 'client')}|C-881"]


@pytest.mark.parametrize(
    ("code", "resource_type", "event_type"),
    [
        ("session-attended", "Encounter", EventType.COMMUNITY_ACTIVITY),
        ("housing-advice", "Encounter", EventType.COMMUNITY_ACTIVITY),
        ("parenting-course-started", "Observation", EventType.COMMUNITY_ACTIVITY),
        ("parenting-course-completed", "Observation", EventType.COMMUNITY_ACTIVITY),
        ("foodbank-referral", "ServiceRequest", EventType.REFERRAL_REQUESTED),
    ],
)
def test_each_activity_maps_to_its_resource_and_code(
    code: str, resource_type: str, event_type: EventType
) -> None:
    (event,) = events(run("vcs-json", orjson.dumps(activity(activity=code))))
    assert event.entries[0].resource["resourceType"] == resource_type
    assert event.event_type is event_type
    assert event.sensitivity is Sensitivity.NORMAL


def test_relationship_support_is_restricted_in_the_envelope_and_the_resource() -> None:
    (event,) = events(run("vcs-json", orjson.dumps(activity(activity="relationship-support"))))
    assert event.sensitivity is Sensitivity.RESTRICTED
    assert event.entries[0].resource["meta"]["security"][0]["code"] == "R"


def test_nhs_number_is_normalised_and_leads_the_subjects() -> None:
    body = activity(person={"local_id": None, "nhs_number": "999 000 0018"})
    (event,) = events(run("vcs-json", orjson.dumps(body)))
    assert event.subjects[0].system == NHS_NUMBER
    assert event.subjects[0].value == "9990000018"
    assert event.key == f"{NHS_NUMBER}|9990000018".encode()


def test_without_a_local_id_the_derived_client_id_is_the_same_for_the_same_person() -> None:
    first = activity(record_id="A", person={"local_id": None})
    second = activity(record_id="B", person={"local_id": None, "given_name": " amy "})
    other = activity(record_id="C", person={"local_id": None, "birth_date": "2019-05-03"})
    subjects = [events(run("vcs-json", orjson.dumps(b)))[0].subjects[0] for b in (first, second, other)]
    assert subjects[0].system == local_system("clacton-cvs", "derived-client")
    assert subjects[0] == subjects[1]
    assert subjects[0] != subjects[2]


def test_event_ids_are_deterministic_and_follow_the_record_version() -> None:
    body = orjson.dumps(activity())
    first = events(run("vcs-json", body))[0]
    again = events(run("vcs-json", body))[0]
    resent = events(run("vcs-json", orjson.dumps(activity(record_version="2"))))[0]
    assert first.event_id == again.event_id
    assert resent.event_id != first.event_id
    assert resent.entries[0].resource["id"] == first.entries[0].resource["id"]


def test_csv_and_json_of_the_same_record_give_the_same_event_id() -> None:
    body = {
        "record_id": "R-1",
        "organisation": "1234567",
        "activity": "debt-advice",
        "date": "2025-03-11",
        "person": {
            "local_id": "C-1",
            "given_name": "Amy",
            "family_name": "Testchild",
            "birth_date": "2019-05-02",
        },
    }
    from_json = events(run("vcs-json", orjson.dumps(body)))[0]
    from_csv = events(run("vcs-csv", (HEADER + GOOD_ROW).encode()))[0]
    assert from_json.event_id == from_csv.event_id


@pytest.mark.parametrize(
    ("body", "location", "words"),
    [
        (activity(activity="yoga"), "$.activity", "not one of the known codes"),
        (activity(person={"birth_date": "2031-01-01"}), "$.person.birth_date", "after the activity date"),
        (activity(person={"birth_date": "2019-02-30"}), "$.person.birth_date", "not a real date"),
        (activity(date="2025-07-01"), "$.date", "in the future"),
        (activity(person={"nhs_number": "9990000019"}), "$.person.nhs_number", "modulus 11"),
        (activity(organisation="12"), "$.organisation", "charity number"),
        (activity(record_version="v2"), "$.record_version", "record version"),
        (activity(record_id=""), "$.record_id", "required"),
        (activity(person={"dob": "2019-05-02"}), "$.person", "unknown field name: dob"),
        (
            activity(person={"local_id": None, "family_name": None}),
            "$.person.local_id",
            "cannot be identified",
        ),
    ],
)
def test_bad_json_fields_are_rejected_with_path_and_reason(
    body: dict[str, Any], location: str, words: str
) -> None:
    rejection = only_rejection(run("vcs-json", orjson.dumps(body)))
    assert rejection.location == location
    assert words in rejection.reason
    assert "Testchild" not in rejection.reason
    assert "2031" not in rejection.reason


def test_one_bad_item_in_a_json_array_does_not_block_the_others() -> None:
    batch = [activity(record_id="A"), activity(record_id="B", activity="yoga"), activity(record_id="C")]
    outcomes = run("vcs-json", orjson.dumps(batch))
    assert [type(o).__name__ for o in outcomes] == ["HubEvent", "Rejection", "HubEvent"]
    rejection = outcomes[1]
    assert isinstance(rejection, Rejection)
    assert rejection.location == "$[1].activity"
    assert rejection.record_ref == "$[1]"
    assert orjson.loads(rejection.original)["record_id"] == "B"


def test_broken_json_is_rejected_whole() -> None:
    rejection = only_rejection(run("vcs-json", b'{"record_id": "A",'))
    assert "not well-formed JSON" in rejection.reason
    assert rejection.location is not None
    assert rejection.location.startswith("JSON line 1")


def test_one_bad_csv_row_does_not_block_the_others_and_is_replayable_alone() -> None:
    bad = "R-2,1,1234567,debt-advice,2025-03-11,C-2,Jo,Testparent,2030-01-01,,,,\n"
    data = (HEADER + GOOD_ROW + bad + GOOD_ROW.replace("R-1", "R-3")).encode()
    outcomes = run("vcs-csv", data)
    assert [type(o).__name__ for o in outcomes] == ["HubEvent", "Rejection", "HubEvent"]
    rejection = outcomes[1]
    assert isinstance(rejection, Rejection)
    assert rejection.location == "line 3, column birth_date"
    assert rejection.record_ref == "line 3"
    replayed = only_rejection(run("vcs-csv", rejection.original))  # alone, the row is line 2
    assert replayed.location == "line 2, column birth_date"


def test_a_misnamed_csv_column_rejects_the_file_naming_the_column() -> None:
    data = (HEADER.replace("birth_date", "dob") + GOOD_ROW).encode()
    rejection = only_rejection(run("vcs-csv", data))
    assert rejection.location == "line 1"
    assert "birth_date" in rejection.reason


def test_csv_headers_are_case_insensitive_and_a_bom_is_tolerated() -> None:
    data = b"\xef\xbb\xbf" + (HEADER.upper() + GOOD_ROW).encode()
    (event,) = events(run("vcs-csv", data))
    assert event.source_record_id == "R-1"


def test_a_date_time_version_is_normalised_to_utc_text_order() -> None:
    body = activity(record_version="2025-03-14T10:00:00+01:00")
    (event,) = events(run("vcs-json", orjson.dumps(body)))
    assert event.record_version == "2025-03-14T09:00:00.000000Z"
