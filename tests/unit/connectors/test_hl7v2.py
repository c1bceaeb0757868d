"""The hl7v2 connector: public samples, our sample feed, broken messages, batches, identifiers.

Public samples: tests/data/public/hl7v2-samples/, from microsoft/FHIR-Converter
`data/SampleData/Hl7v2/` @ 70fd328 (MIT): US-flavoured, no NHS numbers, some with a UTF-8 BOM.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from connectors.base import Record, Rejection, SourceContext
from connectors.common.fhir_validation import validate_resource
from connectors.hl7v2.connector import Hl7v2Connector
from schemas.envelope import CONFIDENTIALITY_SYSTEM, HubEvent, Sensitivity
from schemas.event_types import EventType
from schemas.identifiers import NHS_NUMBER, local_system
from tests.public_data import public_sample

REPO = Path(__file__).resolve().parents[3]
PUBLIC = public_sample("hl7v2-samples")
SAMPLE = REPO / "samples" / "hl7v2" / "family-hub-feed.hl7"
SUPPORTED = (
    "ADT^A01",
    "ADT^A02",
    "ADT^A03",
    "ADT^A04",
    "ADT^A08",
    "ADT^A28",
    "ADT^A31",
    "ADT^A11",
    "ADT^A12",
    "ADT^A13",
    "ADT^A40",
    "VXU^V04",
    "ORU^R01",
)
# OBX(2) of this sample has no OBX-3 (observation identifier, required by HL7): rightly rejected.
KNOWN_INVALID = {"ORU-R01-01.hl7": "OBX(2)-3"}

connector = Hl7v2Connector()
CTX = SourceContext(partner="essex-nhs")

A28 = (
    "MSH|^~\\&|CHIS|ECH|HUBNET|FH|20250112093000+0000||ADT^A28^ADT_A05|C1|P|2.4\r"
    "EVN|A28|20250112093000+0000\r"
    "PID|1||999 000 1006^^^NHS^NH~CH42^^^ECH^MR||TESTCHILD^Olivia^^^^^L||20250110|F\r"
)


def _message_type(path: Path) -> str:
    head = path.read_bytes().removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].decode()
    fields = head.split("|")
    return "^".join(fields[8].split("^")[:2]) if len(fields) > 8 else ""


def _public(supported: bool) -> list[Path]:
    return [p for p in sorted(PUBLIC.glob("*.hl7")) if (_message_type(p) in SUPPORTED) == supported]


def _outcomes(data: bytes | str) -> list[HubEvent | Rejection]:
    return list(connector.convert(data.encode() if isinstance(data, str) else data, CTX))


def _events(data: bytes | str) -> list[HubEvent]:
    outcomes = _outcomes(data)
    rejections = [o for o in outcomes if isinstance(o, Rejection)]
    assert not rejections, rejections[0].reason
    return [o for o in outcomes if isinstance(o, HubEvent)]


def _rejection(data: bytes | str) -> Rejection:
    (outcome,) = _outcomes(data)
    assert isinstance(outcome, Rejection)
    return outcome


@pytest.mark.parametrize("path", _public(supported=True), ids=lambda p: p.name)
def test_public_samples_of_supported_types_convert_and_validate(path: Path) -> None:
    outcomes = _outcomes(path.read_bytes())
    if path.name in KNOWN_INVALID:
        assert [o.location for o in outcomes if isinstance(o, Rejection)] == [KNOWN_INVALID[path.name]]
        return
    assert outcomes
    for event in outcomes:
        assert isinstance(event, HubEvent), event.reason
        assert HubEvent.from_bytes(event.to_bytes()) == event
        for entry in event.entries:
            validate_resource(entry.resource)
        assert all(s.system.startswith(local_system("essex-nhs", "")) for s in event.subjects)


@pytest.mark.parametrize("path", _public(supported=False), ids=lambda p: p.name)
def test_public_samples_of_other_types_are_rejected_naming_the_supported_types(path: Path) -> None:
    for outcome in _outcomes(path.read_bytes()):
        assert isinstance(outcome, Rejection)
        assert outcome.location == "MSH-9"
        assert "is not supported" in outcome.reason
        assert "ADT^A01" in outcome.reason
        assert "ORU^R01" in outcome.reason


def test_sample_feed_converts_with_nhs_numbers() -> None:
    events = _events(SAMPLE.read_bytes())
    assert [e.event_type for e in events] == [
        EventType.PERSON_REGISTERED,
        EventType.ENCOUNTER,
        EventType.IMMUNISATION,
        EventType.OBSERVATION,
        EventType.PERSON_UPDATED,
    ]
    assert all(e.key == f"{NHS_NUMBER}|9990001006".encode() for e in events)
    related = events[0].entries[1].resource
    assert related["resourceType"] == "RelatedPerson"
    assert related["identifier"][0] == {
        "system": NHS_NUMBER,
        "value": "9990001014",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "NH"}]},
    }


def test_identifiers_are_normalised() -> None:
    (event,) = _events(A28)
    assert [s.token for s in event.subjects] == [
        f"{NHS_NUMBER}|9990001006",
        f"{local_system('essex-nhs', 'ech')}|CH42",
    ]


def test_a_wrong_nhs_check_digit_is_rejected_with_its_position() -> None:
    rejection = _rejection(A28.replace("999 000 1006", "999 000 1007"))
    assert rejection.location == "PID-3[1].1"
    assert "modulus 11" in rejection.reason
    assert "1007" not in rejection.reason


@pytest.mark.parametrize(
    ("message", "location", "words"),
    [
        ("PID|1||123^^^X^MR\r", "MSH", "does not start with an MSH"),
        (A28.replace("MSH|^~\\&|", "MSH|^~|", 1), "MSH-2", "encoding characters"),
        (A28.replace("MSH|^~\\&|", "MSH|^^\\&|", 1), "MSH-2", "encoding characters"),
        (A28.replace("EVN|", "E V|", 1), "segment 2", "not an HL7 segment"),
        (A28.replace("|P|2.4", "|P|2.2", 1), "MSH-12", "version '2.2' is not supported"),
        (A28.replace("ADT^A28^ADT_A05", "BAR^P01^BAR_P01", 1), "MSH-9", "BAR^P01 is not supported"),
        (A28.replace("|20250112093000+0000||", "|||", 1), "MSH-7", "date/time is missing"),
        (A28.replace("999 000 1006^^^NHS^NH~CH42^^^ECH^MR", ""), "PID-3", "no identifier"),
        (A28.replace("|20250110|", "|20251345|"), "PID-7.1", "does not exist in the calendar"),
        (A28.replace("|20250110|", "|10/01/2025|"), "PID-7.1", "not in HL7 form"),
        (A28.replace("PID|", "NK1|"), "PID", "no PID segment"),
    ],
)
def test_malformed_messages_are_rejected_with_a_location(message: str, location: str, words: str) -> None:
    rejection = _rejection(message)
    assert rejection.location == location
    assert words in rejection.reason
    assert rejection.original == message.encode()


def test_one_bad_message_in_a_batch_does_not_block_the_others() -> None:
    bad = A28.replace("999 000 1006", "999 000 1007").replace("|C1|", "|C2|")
    batch = "FHS|^~\\&|X\rBHS|^~\\&|X\r" + A28 + bad + A28.replace("|C1|", "|C3|") + "BTS|3\rFTS|1\r"
    outcomes = _outcomes(batch)
    assert [type(o).__name__ for o in outcomes] == ["HubEvent", "Rejection", "HubEvent"]
    rejection = outcomes[1]
    assert isinstance(rejection, Rejection)
    assert rejection.record_ref == "message 2"
    first = outcomes[0]
    assert isinstance(first, HubEvent)
    assert [e.event_id for e in connector.map_record(Record(raw=A28.encode()), CTX)] == [first.event_id]
    assert [r.raw for r in connector.split(rejection.original)] == [rejection.original]


@pytest.mark.parametrize(
    "layout",
    [
        lambda m: m.replace("\r", "\n"),
        lambda m: m.replace("\r", "\r\n"),
        lambda m: "\ufeff" + m,
        lambda m: "\x0b" + m + "\x1c\r",
    ],
    ids=["LF", "CRLF", "BOM", "MLLP"],
)
def test_line_ends_bom_and_framing_do_not_change_the_events(layout: Callable[[str], str]) -> None:
    expected = [e.event_id for e in _events(A28 + A28.replace("|C1|", "|C2|"))]
    two = layout(A28) + layout(A28.replace("|C1|", "|C2|"))
    assert [e.event_id for e in _events(two)] == expected


def test_event_ids_are_deterministic_and_versions_follow_msh7() -> None:
    first = _events(SAMPLE.read_bytes())
    again = _events(SAMPLE.read_bytes())
    assert [e.event_id for e in first] == [e.event_id for e in again]
    assert [e.entries[0].resource["id"] for e in first] == [e.entries[0].resource["id"] for e in again]
    (earlier,) = _events(A28)
    (later,) = _events(A28.replace("|20250112093000+0000||", "|20250113093000+0000||", 1))
    assert earlier.source_record_id == later.source_record_id
    assert earlier.event_id != later.event_id
    assert later.record_version > earlier.record_version


def test_a40_merge_names_both_records() -> None:
    message = (
        "MSH|^~\\&|PAS|H|HUB|FH|20250101120000||ADT^A40^ADT_A39|M1|P|2.5\r"
        "EVN|A40|20250101120000\r"
        "PID|1||9990001006^^^NHS^NH~R1^^^PAS^MR||TESTCHILD^Olivia\r"
        "MRG|R2^^^PAS^MR\r"
    )
    (event,) = _events(message)
    assert event.event_type is EventType.PERSON_MERGED
    assert [s.value for s in event.subjects] == ["9990001006", "R1", "R2"]
    patient = event.entries[0].resource
    assert patient["link"] == [
        {"other": {"identifier": patient["link"][0]["other"]["identifier"]}, "type": "replaces"}
    ]
    assert patient["link"][0]["other"]["identifier"]["value"] == "R2"
    assert _rejection(message.replace("MRG|R2^^^PAS^MR\r", "")).location == "PID"


VXU = (
    "MSH|^~\\&|GP|Y00001|HUB|FH|20250310110500+0000||VXU^V04^VXU_V04|V1|P|2.5.1\r"
    "PID|1||9990001006^^^NHS^NH||TESTCHILD^Olivia||20250110|F\r"
    "PD1||||||||||||Y\r"
    "ORC|RE||IMM-1^GP\r"
    "RXA|0|1|20250310||34765811000001105^Hexavalent^DMD|999|||00|||||||||||CP|A\r"
    "OBX|1|ST|Z1^Note^L||Given in left thigh \\T\\ well tolerated||||||F\r"
)


def test_vxu_maps_immunisation_and_pd1_protection_restricts() -> None:
    (event,) = _events(VXU)
    immunization = event.entries[0].resource
    assert immunization["status"] == "completed"
    assert immunization["occurrenceDateTime"] == "2025-03-10"
    assert "doseQuantity" not in immunization  # 999 = amount not recorded
    assert event.sensitivity is Sensitivity.RESTRICTED
    for entry in event.entries:
        assert {"system": CONFIDENTIALITY_SYSTEM, "code": "R"} in entry.resource["meta"]["security"]
    note = next(e.resource for e in event.entries if e.resource["resourceType"] == "Observation")
    assert note["valueString"] == "Given in left thigh & well tolerated"
    assert note["effectiveDateTime"] == "2025-03-10"


def test_a_deleted_vaccination_retracts_the_earlier_record() -> None:
    (given,) = _events(VXU)
    (deleted,) = _events(
        VXU.replace("|CP|A\r", "|CP|D\r").replace("|20250310110500+0000||", "|20250311||", 1)
    )
    assert deleted.event_type is EventType.RECORD_RETRACTED
    assert deleted.retracts == given.source_record_id == deleted.source_record_id
    assert deleted.record_version > given.record_version


def test_oru_values_keep_types_units_and_comparators() -> None:
    message = (
        "MSH|^~\\&|LAB|H|HUB|FH|20250320160000||ORU^R01|R1|P|2.3\r"
        "PID|1||L123^^^LAB^MR||TESTCHILD^Olivia\r"
        "OBR|1||ORD-9^LAB|Z^Panel^L|||20250320150000\r"
        "OBX|1|NM|29463-7^Body weight^LN||5.6|kg^kilogram^UCUM|||||F\r"
        "OBX|2|NM|X1^Level^L||<5|mmol/L|||||P\r"
        "OBX|3|SN|X2^Range^L||^10^-^20|||||F\r"
        "OBX|4|CE|X3^Coded^L||ABC^Something^L||||||C\r"
        "OBX|5|ED|X4^Document^L||^AP^^Base64^AAAA||||||F\r"
    )
    (event,) = _events(message)
    values = [e.resource for e in event.entries if e.resource["resourceType"] == "Observation"]
    assert values[0]["valueQuantity"] == {
        "value": 5.6,
        "unit": "kilogram",
        "code": "kg",
        "system": "http://unitsofmeasure.org",
    }
    assert values[0]["effectiveDateTime"].startswith("2025-03-20T15:00:00")
    assert values[1]["valueQuantity"]["comparator"] == "<"
    assert values[1]["status"] == "preliminary"
    assert values[2]["valueRange"]["high"]["value"] == 20
    assert values[3]["valueCodeableConcept"]["coding"][0]["code"] == "ABC"
    assert values[3]["status"] == "corrected"
    assert values[4]["dataAbsentReason"]["coding"][0]["code"] == "unsupported"
    bad = _rejection(message.replace("||5.6|", "||five|"))
    assert bad.location == "OBX-5[1].1"
