"""The `bloodspot-csv` connector: newborn blood spot screening laboratory results.

No public column layout of the laboratories' results files exists, so hubnet specifies one
(docs/connectors/bloodspot-csv.md) around what is published: the nine conditions of the NHS
newborn blood spot programme and its CHIS status codes (gov.uk "NHS newborn blood spot (NBS)
screening programme status codes": 01 specimen received, 02 declined, 03 repeat or further sample
required, 04 condition not suspected, 08 condition suspected; sub codes such as 0301 too young
for reliable screening). Babies and NHS numbers are invented (999 test range).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors import registry
from connectors.base import Rejection, SourceContext
from connectors.bloodspot_csv.codes import STATUS_SYSTEM
from connectors.bloodspot_csv.connector import BloodspotCsvConnector
from schemas.envelope import HubEvent, version_order
from schemas.event_types import EventType
from schemas.identifiers import NHS_NUMBER, RECORD_SCOPED_KIND, local_system
from tests.unit.connectors.fhir_support import assert_explained, assert_sound

CONNECTOR = BloodspotCsvConnector()
SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "bloodspot-csv" / "nbs-results.csv"
CONDITIONS = ("pku", "cht", "scd", "cf", "mcadd", "msud", "iva", "ga1", "hcu")
HEADER = (
    "record_id,record_version,action,nhs_number,given_name,family_name,birth_date,sex,postcode,"
    "laboratory_ods_code,sample_taken,sample_received,reported," + ",".join(CONDITIONS)
)
ROW = {
    "record_id": "NBS-1",
    "record_version": "1",
    "action": "",
    "nhs_number": "9990000018",
    "given_name": "Robin",
    "family_name": "EXAMPLE",
    "birth_date": "2025-03-01",
    "sex": "female",
    "postcode": "co151ab",
    "laboratory_ods_code": "RQ3",
    "sample_taken": "2025-03-06T09:40:00+00:00",
    "sample_received": "2025-03-07",
    "reported": "2025-03-10T14:00:00+00:00",
    **dict.fromkeys(CONDITIONS, "04"),
}


def line(**changes: str) -> str:
    values = {**ROW, **changes}
    return ",".join(values[c] for c in HEADER.split(","))


def convert(*rows: str, header: str = HEADER) -> list[HubEvent | Rejection]:
    data = "\n".join([header, *rows]).encode()
    return list(CONNECTOR.convert(data, SourceContext(partner="essex-nbs-lab")))


def event_of(row: str) -> HubEvent:
    (outcome,) = convert(row)
    assert isinstance(outcome, HubEvent), outcome
    assert_sound(outcome)
    return outcome


def results(event: HubEvent) -> dict[str, dict[str, object]]:
    return {
        e.resource["code"]["coding"][0]["code"]: e.resource
        for e in event.entries
        if e.resource["resourceType"] == "Observation"
    }


def test_registered_with_a_sample_that_converts() -> None:
    assert isinstance(registry.get("bloodspot-csv"), BloodspotCsvConnector)
    outcomes = list(CONNECTOR.convert(SAMPLE.read_bytes(), SourceContext(partner="x")))
    assert len(outcomes) == 2
    assert all(isinstance(o, HubEvent) for o in outcomes)


def test_a_card_is_a_diagnostic_report_with_one_observation_per_condition() -> None:
    event = event_of(line(pku="08", cht="0301", scd="", cf="01"))
    assert event.event_type is EventType.NEWBORN_SCREENING
    assert [s.token for s in event.subjects] == [f"{NHS_NUMBER}|9990000018"]
    report = event.entries[0].resource
    assert report["resourceType"] == "DiagnosticReport"
    assert report["status"] == "final"
    assert report["performer"][0]["identifier"]["value"] == "RQ3"
    assert report["issued"] == "2025-03-10T14:00:00+00:00"
    found = results(event)
    assert sorted(found) == sorted(c for c in CONDITIONS if c != "scd")
    assert [r["reference"] for r in report["result"]] == [
        e.full_url for e in event.entries if e.resource["resourceType"] == "Observation"
    ]
    pku = found["pku"]
    assert pku["valueCodeableConcept"]["coding"] == [
        {"system": STATUS_SYSTEM, "code": "08", "display": "Condition suspected"}
    ]
    assert pku["interpretation"][0]["coding"][0]["code"] == "POS"
    assert found["mcadd"]["interpretation"][0]["coding"][0]["code"] == "NEG"
    cht = found["cht"]["valueCodeableConcept"]["coding"]
    assert [c["code"] for c in cht] == ["03", "0301"]
    assert cht[1]["display"] == "Too young for reliable screening"
    assert found["cf"]["status"] == "registered"
    assert "interpretation" not in found["cf"]
    patient = event.entries[-1].resource
    assert patient["gender"] == "female"
    assert patient["address"] == [{"use": "home", "postalCode": "CO15 1AB"}]


def test_other_programme_status_codes_are_carried_as_sent() -> None:
    found = results(event_of(line(scd="06")))
    assert found["scd"]["valueCodeableConcept"]["coding"] == [{"system": STATUS_SYSTEM, "code": "06"}]


def test_a_later_version_supersedes_and_delete_retracts_the_card() -> None:
    first = event_of(line())
    second = event_of(line(record_version="2", pku="08"))
    deleted = event_of(line(record_version="3", action="delete"))
    assert first.source_record_id == second.source_record_id == deleted.retracts == "NBS-1"
    assert version_order(second.record_version) > version_order(first.record_version)
    assert deleted.event_type is EventType.RECORD_RETRACTED


def test_without_an_nhs_number_the_baby_is_named_by_this_card_only() -> None:
    one, two = (
        event_of(line(nhs_number="", record_id=r, given_name=g))
        for r, g in (("NBS-1", "Robin"), ("NBS-2", "Sam"))
    )
    system = local_system("essex-nbs-lab", RECORD_SCOPED_KIND)
    assert [s.token for s in one.subjects] == [f"{system}|NBS-1"]
    assert [s.token for s in two.subjects] == [f"{system}|NBS-2"]


def test_a_file_without_a_condition_column_is_refused_naming_it() -> None:
    (refused,) = convert(line(), header=HEADER.replace(",hcu", ",homocystinuria"))
    assert isinstance(refused, Rejection)
    assert refused.location == "line 1"
    assert "hcu" in refused.reason


@pytest.mark.parametrize(
    ("changes", "column", "words"),
    [
        ({"pku": "4"}, "pku", "status code"),
        ({"cf": "11"}, "cf", "status code"),
        ({"cf": "positive"}, "cf", "status code"),
        (dict.fromkeys(CONDITIONS, ""), "pku", "no result"),
        ({"nhs_number": "9990000019"}, "nhs_number", "modulus 11"),
        ({"birth_date": "2025-03-07"}, "birth_date", "after the sample was taken"),
        ({"sample_received": "2025-03-05"}, "sample_received", "before it was taken"),
        ({"sample_taken": "06/03/2025"}, "sample_taken", "date-time"),
        ({"sex": "girl"}, "sex", "allowed codes"),
        ({"laboratory_ods_code": "lab one"}, "laboratory_ods_code", "ODS code"),
        ({"action": "amend"}, "action", "allowed codes"),
        ({"given_name": ""}, "given_name", "empty"),
    ],
)
def test_a_bad_cell_is_refused_with_line_and_column_and_the_rest_go_on(
    changes: dict[str, str], column: str, words: str
) -> None:
    outcomes = convert(line(record_id="ok-1"), line(**changes), line(record_id="ok-2"))
    refused = [o for o in outcomes if isinstance(o, Rejection)]
    assert len(outcomes) == 3
    assert len(refused) == 1
    assert_explained(refused[0])
    assert refused[0].location == f"line 3, column {column}"
    assert words in refused[0].reason
