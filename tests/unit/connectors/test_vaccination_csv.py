"""The `vaccination-csv` connector: the NHS vaccination record batch file (Immunisation API).

Rows are written in the layout of NHS England's published batch file specification: the 34
columns of NHSDigital/immunisation-fhir-api's batch test data (`NHS_NUMBER|PERSON_FORENAME|...|
LOCATION_CODE_TYPE_URI`), pipe-separated, quoted values, dates YYYYMMDD, DATE_AND_TIME
YYYYMMDDThhmmss[zz], ACTION_FLAG new/update/delete. People and NHS numbers are invented (999 test
range with valid check digits).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors import registry
from connectors.base import Rejection, SourceContext
from connectors.vaccination_csv.connector import VaccinationCsvConnector
from connectors.vaccination_csv.layout import COLUMNS
from schemas.envelope import HubEvent, version_order
from schemas.event_types import EventType
from schemas.identifiers import NHS_NUMBER, RECORD_SCOPED_KIND, local_system
from tests.unit.connectors.fhir_support import assert_explained, assert_sound

CONNECTOR = VaccinationCsvConnector()
SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "vaccination-csv"
FILE = "RSV_Vaccinations_v5_X99XX_20250310T09000000.csv"
HEADER = "|".join(c.upper() for c in COLUMNS)
URI = "https://supplier.example.org/vaccinations"
ROW = {
    "NHS_NUMBER": "9990000018",
    "PERSON_FORENAME": "ROBIN",
    "PERSON_SURNAME": "EXAMPLE",
    "PERSON_DOB": "20231201",
    "PERSON_GENDER_CODE": "2",
    "PERSON_POSTCODE": "co151ab",
    "DATE_AND_TIME": "20250310T083000",
    "SITE_CODE": "X99XX",
    "SITE_CODE_TYPE_URI": "https://fhir.nhs.uk/Id/ods-organization-code",
    "UNIQUE_ID": "RSV-0001",
    "UNIQUE_ID_URI": URI,
    "ACTION_FLAG": "new",
    "PERFORMING_PROFESSIONAL_FORENAME": "Alex",
    "PERFORMING_PROFESSIONAL_SURNAME": "O'Nurse",
    "RECORDED_DATE": "20250310",
    "PRIMARY_SOURCE": "TRUE",
    "VACCINATION_PROCEDURE_CODE": "1303503001",
    "VACCINATION_PROCEDURE_TERM": "Administration of RSV vaccine (procedure)",
    "DOSE_SEQUENCE": "1",
    "VACCINE_PRODUCT_CODE": "42605811000001109",
    "VACCINE_PRODUCT_TERM": "Abrysvo vaccine powder and solvent for solution for injection 0.5ml vials",
    "VACCINE_MANUFACTURER": "Pfizer",
    "BATCH_NUMBER": "RSVTEST",
    "EXPIRY_DATE": "20251231",
    "SITE_OF_VACCINATION_CODE": "368208006",
    "SITE_OF_VACCINATION_TERM": "Left upper arm structure (body structure)",
    "ROUTE_OF_VACCINATION_CODE": "78421000",
    "ROUTE_OF_VACCINATION_TERM": "Intramuscular route (qualifier value)",
    "DOSE_AMOUNT": "0.5",
    "DOSE_UNIT_CODE": "258773002",
    "DOSE_UNIT_TERM": "Milliliter (qualifier value)",
    "INDICATION_CODE": "",
    "LOCATION_CODE": "X99XX",
    "LOCATION_CODE_TYPE_URI": "https://fhir.nhs.uk/Id/ods-organization-code",
}


def line(delimiter: str = "|", **changes: str) -> str:
    values = {**ROW, **changes}
    return delimiter.join(f'"{values[c.upper()]}"' if values[c.upper()] else "" for c in COLUMNS)


def convert(
    *rows: str, name: str | None = FILE, header: str = HEADER, encoding: str = "utf-8"
) -> list[HubEvent | Rejection]:
    data = "\n".join([header, *rows]).encode(encoding)
    return list(CONNECTOR.convert(data, SourceContext(partner="essex-imms", source_name=name)))


def events(
    *rows: str, name: str | None = FILE, header: str = HEADER, encoding: str = "utf-8"
) -> list[HubEvent]:
    outcomes = convert(*rows, name=name, header=header, encoding=encoding)
    assert not [o for o in outcomes if isinstance(o, Rejection)], outcomes
    return [o for o in outcomes if isinstance(o, HubEvent)]


def rejection(*rows: str) -> Rejection:
    (outcome,) = convert(*rows)
    assert isinstance(outcome, Rejection)
    assert_explained(outcome)
    return outcome


def test_registered_under_its_format_name_with_a_sample() -> None:
    assert isinstance(registry.get("vaccination-csv"), VaccinationCsvConnector)
    outcomes = [
        o
        for p in SAMPLE.glob("*.csv")
        for o in CONNECTOR.convert(p.read_bytes(), SourceContext("x", source_name=p.name))
    ]
    assert outcomes
    assert all(isinstance(o, HubEvent) for o in outcomes)


def test_a_new_row_becomes_an_immunisation_with_every_column_mapped() -> None:
    (event,) = events(line())
    assert_sound(event)
    assert event.event_type is EventType.IMMUNISATION
    assert event.source_record_id == f"{URI}|RSV-0001"
    assert [s.token for s in event.subjects] == [f"{NHS_NUMBER}|9990000018"]
    assert event.occurred_at.isoformat() == "2025-03-10T08:30:00+00:00"
    immunization, patient = (e.resource for e in event.entries)
    assert immunization["identifier"] == [{"system": URI, "value": "RSV-0001"}]
    assert immunization["vaccineCode"]["coding"][0]["code"] == "42605811000001109"
    assert immunization["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "1303503001"
    assert immunization["occurrenceDateTime"] == "2025-03-10T08:30:00+00:00"
    assert immunization["recorded"] == "2025-03-10"
    assert immunization["primarySource"] is True
    assert immunization["lotNumber"] == "RSVTEST"
    assert immunization["expirationDate"] == "2025-12-31"
    assert immunization["doseQuantity"] == {
        "value": 0.5,
        "system": "http://snomed.info/sct",
        "code": "258773002",
        "unit": "Milliliter (qualifier value)",
    }
    assert immunization["protocolApplied"] == [{"doseNumberPositiveInt": 1}]
    assert immunization["performer"][0]["actor"] == {"type": "Practitioner", "display": "Alex O'Nurse"}
    assert immunization["performer"][1]["actor"]["identifier"]["value"] == "X99XX"
    assert immunization["location"]["identifier"]["value"] == "X99XX"
    assert immunization["patient"]["reference"] == f"urn:uuid:{patient['id']}"
    assert patient["gender"] == "female"
    assert patient["birthDate"] == "2023-12-01"
    assert patient["address"] == [{"use": "home", "postalCode": "CO15 1AB"}]


def test_bst_offset_and_missing_product_are_read_as_specified() -> None:
    (event,) = events(
        line(DATE_AND_TIME="20250610T08300001", VACCINE_PRODUCT_CODE="", VACCINE_PRODUCT_TERM="")
    )
    immunization = event.entries[0].resource
    assert immunization["occurrenceDateTime"] == "2025-06-10T08:30:00+01:00"
    assert immunization["vaccineCode"]["coding"][0]["code"] == "NAVU"


def test_comma_separated_and_windows_1252_files_are_read() -> None:
    (event,) = events(line(",", PERSON_FORENAME="ZOË"), header=HEADER.replace("|", ","), encoding="cp1252")
    assert event.entries[1].resource["name"][0]["given"] == ["ZOË"]


def test_update_supersedes_new_and_delete_retracts_the_record() -> None:
    (new,) = events(line())
    (update,) = events(line(ACTION_FLAG="UPDATE", BATCH_NUMBER="RSVFIXED"))
    (later,) = events(line(ACTION_FLAG="update"), name="RSV_Vaccinations_v5_X99XX_20250311T09000000.csv")
    (delete,) = events(line(ACTION_FLAG="delete"))
    assert new.source_record_id == update.source_record_id == delete.source_record_id
    assert update.event_type is EventType.IMMUNISATION
    versions = [version_order(e.record_version) for e in (new, update, later)]
    assert versions == sorted(versions)
    assert len(set(versions)) == 3
    assert delete.event_type is EventType.RECORD_RETRACTED
    assert delete.retracts == new.source_record_id
    assert version_order(delete.record_version) > version_order(update.record_version)


def test_the_same_file_again_gives_the_same_event_ids() -> None:
    assert [e.event_id for e in events(line())] == [e.event_id for e in events(line())]


def test_without_a_file_time_the_action_still_orders_the_versions() -> None:
    versions = [events(line(ACTION_FLAG=a), name=None)[0].record_version for a in ("new", "update", "delete")]
    assert versions == ["1", "2", "3"]


def test_a_delete_row_needs_only_its_record_and_person() -> None:
    empty = {c: "" for c in ROW if c not in ("NHS_NUMBER", "UNIQUE_ID", "UNIQUE_ID_URI")}
    (delete,) = events(line(**{**empty, "ACTION_FLAG": "delete"}))
    assert delete.event_type is EventType.RECORD_RETRACTED


def test_without_an_nhs_number_the_subject_is_this_record_only_so_two_children_stay_two() -> None:
    first, second = events(
        line(NHS_NUMBER=""),
        line(NHS_NUMBER="", UNIQUE_ID="RSV-0002", PERSON_FORENAME="SAM", PERSON_DOB="20240115"),
    )
    system = local_system("essex-imms", RECORD_SCOPED_KIND)
    assert [s.token for s in first.subjects] == [f"{system}|{URI}|RSV-0001"]
    assert [s.token for s in second.subjects] == [f"{system}|{URI}|RSV-0002"]
    assert first.entries[1].resource["id"] != second.entries[1].resource["id"]


def test_a_header_without_the_specified_columns_is_refused_naming_them() -> None:
    (refused,) = convert(line(), header=HEADER.replace("|BATCH_NUMBER", "|LOT"))
    assert isinstance(refused, Rejection)
    assert refused.location == "line 1"
    assert "batch_number" in refused.reason


@pytest.mark.parametrize(
    ("changes", "column", "words"),
    [
        ({"NHS_NUMBER": "9990000019"}, "nhs_number", "modulus 11"),
        ({"PERSON_DOB": "2023-12-01"}, "person_dob", "not a date"),
        ({"PERSON_DOB": "20260101"}, "person_dob", "after the vaccination"),
        ({"PERSON_GENDER_CODE": "F"}, "person_gender_code", "person gender code"),
        ({"DATE_AND_TIME": "20250310T0830"}, "date_and_time", "date and time"),
        ({"DATE_AND_TIME": "20250310T08300002"}, "date_and_time", "date and time"),
        ({"ACTION_FLAG": "amend"}, "action_flag", "allowed codes"),
        ({"ACTION_FLAG": ""}, "action_flag", "empty"),
        ({"PRIMARY_SOURCE": "yes"}, "primary_source", "allowed codes"),
        ({"SITE_CODE": ""}, "site_code", "empty"),
        ({"UNIQUE_ID_URI": ""}, "unique_id_uri", "empty"),
        ({"DOSE_SEQUENCE": "10"}, "dose_sequence", "out of range"),
        ({"DOSE_AMOUNT": "half"}, "dose_amount", "positive number"),
        ({"VACCINE_PRODUCT_CODE": "MMR"}, "vaccine_product_code", "SNOMED CT"),
    ],
)
def test_a_bad_cell_is_refused_with_line_and_column_and_the_rest_go_on(
    changes: dict[str, str], column: str, words: str
) -> None:
    outcomes = convert(line(UNIQUE_ID="ok-1"), line(**changes), line(UNIQUE_ID="ok-2"))
    refused = [o for o in outcomes if isinstance(o, Rejection)]
    assert len(refused) == 1
    assert len(outcomes) == 3
    assert refused[0].location == f"line 3, column {column}"
    assert words in refused[0].reason
    assert ROW["NHS_NUMBER"] not in refused[0].reason


def test_a_rejected_windows_1252_row_keeps_the_partners_own_bytes() -> None:
    data = "\n".join([HEADER, line(PERSON_FORENAME="ZOË", PERSON_DOB="2023-12-01")]).encode("cp1252")
    (refused,) = CONNECTOR.convert(data, SourceContext(partner="essex-imms", source_name=FILE))
    assert isinstance(refused, Rejection)
    assert refused.location == "line 2, column person_dob"
    assert refused.original in data
    (replayed,) = CONNECTOR.convert(refused.original, SourceContext(partner="essex-imms", source_name=FILE))
    assert isinstance(replayed, Rejection)
    assert replayed.location == "line 2, column person_dob"
