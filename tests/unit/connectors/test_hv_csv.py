"""The hv-csv connector: health-visiting mandated reviews, per docs/connectors/native-formats.md.

No public sample of this partner-native layout exists; the inputs are hubnet's own synthetic
sample (samples/hv-csv/hv-reviews.csv) and broken variants written here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.base import Record, Rejection, SourceContext
from connectors.common.fhir_validation import validate_resource
from connectors.hv_csv.connector import HvCsvConnector
from connectors.registry import get
from schemas.envelope import HubEvent
from schemas.event_types import EventType
from schemas.identifiers import NHS_NUMBER

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "hv-csv" / "hv-reviews.csv"
HEADER = (
    "Record_ID,NHS_Number,Given_Name,Family_Name,Birth_Date,Sex,Postcode,Review_Type,Review_Date,"
    "Outcome,ASQ3_Communication,Breastfeeding_Status,Record_Version\n"
)
GOOD = "R1,999 000 2010,Noah,SAMPLE,2025-01-08,male,co151ab,new-birth,2025-01-20,,,exclusive,\n"
connector = HvCsvConnector()
CTX = SourceContext(partner="essex-hv")


def _outcomes(text: str) -> list[HubEvent | Rejection]:
    return list(connector.convert(text.encode(), CTX))


def _event(row: str) -> HubEvent:
    (outcome,) = _outcomes(HEADER + row)
    assert isinstance(outcome, HubEvent), getattr(outcome, "reason", "")
    return outcome


def _rejection(row: str, header: str = HEADER) -> Rejection:
    (outcome,) = _outcomes(header + row)
    assert isinstance(outcome, Rejection)
    return outcome


def test_the_registry_knows_the_format() -> None:
    assert isinstance(get("hv-csv"), HvCsvConnector)


def test_sample_converts_to_valid_review_events() -> None:
    events = _outcomes(SAMPLE.read_text())
    assert len(events) == 5
    for event in events:
        assert isinstance(event, HubEvent), getattr(event, "reason", "")
        assert event.event_type is EventType.HEALTH_VISITOR_REVIEW
        assert HubEvent.from_bytes(event.to_bytes()) == event
        for entry in event.entries:
            validate_resource(entry.resource)


def test_review_maps_encounter_patient_and_breastfeeding() -> None:
    event = _event(GOOD)
    encounter, patient, feeding = (e.resource for e in event.entries)
    assert [s.token for s in event.subjects] == [f"{NHS_NUMBER}|9990002010"]
    assert encounter["status"] == "finished"
    assert encounter["type"][0]["coding"][0]["code"] == "new-birth"
    assert encounter["period"] == {"start": "2025-01-20", "end": "2025-01-20"}
    assert patient["address"] == [{"use": "home", "postalCode": "CO15 1AB"}]
    assert feeding["valueCodeableConcept"]["coding"][0]["code"] == "exclusive"
    assert feeding["encounter"]["reference"] == f"urn:uuid:{encounter['id']}"
    assert event.occurred_at.isoformat() == "2025-01-20T00:00:00+00:00"
    assert event.record_version == "1"


def test_asq3_scores_become_integer_observations() -> None:
    event = _event("R2,9990002029,Ava,EX,2024-02-14,female,,12-month,2025-02-20,completed,55,,\n")
    (score,) = (e.resource for e in event.entries if e.resource["resourceType"] == "Observation")
    assert score["code"]["coding"][0]["code"] == "communication"
    assert score["valueInteger"] == 55


def test_a_missed_review_is_a_cancelled_encounter() -> None:
    event = _event(GOOD.replace(",,,exclusive,", ",not-attended,,,"))
    assert event.entries[0].resource["status"] == "cancelled"
    assert event.entries[0].resource["type"][1]["coding"][0]["code"] == "not-attended"


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        (GOOD.replace("999 000 2010", "999 000 2011"), "nhs_number", "modulus 11"),
        (GOOD.replace("999 000 2010", ""), "nhs_number", "empty"),
        (GOOD.replace("new-birth", "newborn"), "review_type", "not one of the allowed codes"),
        (GOOD.replace("2025-01-20", "20/01/2025"), "review_date", "not a date"),
        (GOOD.replace("2025-01-08", "2025-02-08"), "birth_date", "after the review date"),
        (GOOD.replace(",,,exclusive,", ",,61,exclusive,"), "asq3_communication", "out of range"),
        (GOOD.replace(",,,exclusive,", ",,40,exclusive,"), "asq3_communication", "new-birth review"),
        (GOOD.replace("new-birth", "12-month"), "breastfeeding_status", "12-month review"),
        (GOOD.replace(",exclusive,", ",mixed,"), "breastfeeding_status", "not one of the allowed codes"),
        (GOOD.replace(",male,", ",boy,"), "sex", "not one of the allowed codes"),
        (GOOD.replace("exclusive,", "exclusive,v2"), "record_version", "neither a whole number"),
    ],
)
def test_bad_cells_are_rejected_with_line_and_column(row: str, column: str, words: str) -> None:
    rejection = _rejection(row)
    assert rejection.location == f"line 2, column {column}"
    assert words in rejection.reason
    assert "2011" not in rejection.reason


def test_missing_columns_reject_the_file_naming_them() -> None:
    rejection = _rejection(
        GOOD, header=HEADER.replace("NHS_Number,", "NHS,").replace("Review_Date,", "Date,")
    )
    assert rejection.location == "line 1"
    assert "required columns missing: nhs_number, review_date" in rejection.reason


def test_one_bad_row_does_not_block_the_others_and_replays_alone() -> None:
    bad = GOOD.replace("R1,", "R2,").replace("999 000 2010", "999 000 2011")
    outcomes = _outcomes(HEADER + GOOD + bad + GOOD.replace("R1,", "R3,"))
    assert [type(o).__name__ for o in outcomes] == ["HubEvent", "Rejection", "HubEvent"]
    rejection = outcomes[1]
    assert isinstance(rejection, Rejection)
    assert rejection.record_ref == "line 3"
    assert rejection.location == "line 3, column nhs_number"
    fixed = rejection.original.replace(b"999 000 2011", b"999 000 2010")
    (replayed,) = connector.map_record(Record(raw=fixed, ref=rejection.record_ref), CTX)
    assert replayed.source_record_id == "R2"


def test_event_ids_are_deterministic_and_follow_the_version() -> None:
    first, again = _event(GOOD), _event(GOOD)
    assert first.event_id == again.event_id
    assert [e.resource["id"] for e in first.entries] == [e.resource["id"] for e in again.entries]
    corrected = _event(GOOD.removesuffix(",\n") + ",2\n")
    assert corrected.record_version == "2"
    assert corrected.event_id != first.event_id
    assert [e.resource["id"] for e in corrected.entries] == [e.resource["id"] for e in first.entries]
