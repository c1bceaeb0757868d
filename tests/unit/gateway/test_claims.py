"""The sender each format family names, read from small synthetic inputs (no personal data)."""

from __future__ import annotations

import orjson
import pytest

from services.gateway.claims import UnverifiableSenderError, claimed_senders
from services.gateway.partners import Partner

HL7 = b"\xef\xbb\xbfMSH|^~\\&|SYSTEMONE|RAT^NELFT^L|HUBNET|ESSEX|20240501093000||ADT^A08|1|P|2.4\rPID|1||1\r"
FHIR = orjson.dumps(
    {
        "resourceType": "Bundle",
        "type": "message",
        "entry": [
            {"resource": {"resourceType": "MessageHeader", "sender": {"identifier": {"value": "RAT"}}}}
        ],
    }
)
CTF = (
    b"<CTfile><Header><SourceSchool><LEA>881</LEA><Estab>4001</Estab><URN>100001</URN></SourceSchool>"
    b"</Header></CTfile>"
)
VCS_JSON = b'[{"organisation": "1234567"}, {"record_id": "no-organisation"}, {"organisation": "7654321"}]'
VCS_CSV = b"record_id,organisation\nA1,1234567\nA2,7654321\n"
CIN = b"<Message><Header><Source><LEA>881</LEA></Source></Header><Children/></Message>"
BLOODSPOT = b"record_id,laboratory_ods_code\nNBS-1,rq3\nNBS-2,\nNBS-3,RX1\n"


@pytest.mark.parametrize(
    ("fmt", "data", "expected"),
    [
        ("hl7v2", HL7, {"RAT"}),
        ("fhir", FHIR, {"RAT"}),
        ("nems", FHIR, {"RAT"}),
        ("ctf", CTF, {"100001", "8814001"}),
        ("cin-census", CIN, {"881"}),
        ("cin-census", b"<Message><Header><Source/></Header></Message>", set()),
        ("vcs-json", VCS_JSON, {"1234567", "7654321"}),
        ("vcs-csv", VCS_CSV, {"1234567", "7654321"}),
        ("bloodspot-csv", BLOODSPOT, {"RQ3", "RX1"}),
        ("ssda903", b"CHILD,SEX\n1,1\n", set()),
    ],
)
def test_claimed_senders(fmt: str, data: bytes, expected: set[str]) -> None:
    assert claimed_senders(fmt, data) == expected


@pytest.mark.parametrize(
    "fmt", ["hl7v2", "fhir", "ctf", "cin-census", "vcs-json", "vcs-csv", "bloodspot-csv"]
)
def test_unreadable_input_claims_nothing(fmt: str) -> None:
    assert claimed_senders(fmt, b"\x00<<not{readable") == set()


MSH_OWN = b"MSH|^~\\&|SYSTEMONE|RAT|HUBNET|ESSEX|20240501093000||ADT^A08|1|P|2.4\rPID|1||1\r"
MSH_FOREIGN = b"MSH|^~\\&|SYSTEMONE|RQ3|HUBNET|ESSEX|20240501093000||ADT^A08|2|P|2.4\rPID|1||2\r"


@pytest.mark.parametrize(
    "data",
    [
        MSH_OWN + b"\x0b" + MSH_FOREIGN,  # an MLLP start byte before the later message
        MSH_OWN + b"\xef\xbb\xbf" + MSH_FOREIGN,  # a BOM before the later message
        MSH_OWN + b"\x1c\x0d\x0b" + MSH_FOREIGN,  # a whole MLLP frame boundary
        MSH_OWN.replace(b"\r", b"\n") + MSH_FOREIGN.replace(b"\r", b"\n"),
    ],
    ids=["start-block", "bom", "frame", "lf"],
)
def test_every_hl7_message_the_connector_sees_has_its_sender_read(data: bytes) -> None:
    """The claim is read from the messages the connector's own splitter cuts, so no framing byte
    can hide a later message's MSH-4 from the check and still have it converted."""
    assert claimed_senders("hl7v2", data) == {"RAT", "RQ3"}


def fhir_bundle(sender: dict[str, object], *others: dict[str, object]) -> bytes:
    header = {"resourceType": "MessageHeader", "sender": sender}
    entries = [{"fullUrl": "urn:uuid:h", "resource": header}, *others]
    return orjson.dumps({"resourceType": "Bundle", "type": "message", "entry": entries})


ORG = {
    "fullUrl": "urn:uuid:0b6f9d2e-8c3a-4e1f-b7d4-5a9e2c1f3d22",
    "resource": {
        "resourceType": "Organization", "id": "org1",
        "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RQ3"}],
    },
}  # fmt: skip


@pytest.mark.parametrize("reference", ["urn:uuid:0b6f9d2e-8c3a-4e1f-b7d4-5a9e2c1f3d22", "Organization/org1"])
def test_fhir_sender_given_by_reference_is_resolved_to_its_ods_code(reference: str) -> None:
    assert claimed_senders("fhir", fhir_bundle({"reference": reference}, ORG)) == {"RQ3"}


def test_fhir_sender_with_identifier_and_reference_claims_both() -> None:
    sender = {"reference": "Organization/org1", "identifier": {"value": "RAT"}}
    assert claimed_senders("fhir", fhir_bundle(sender, ORG)) == {"RAT", "RQ3"}


@pytest.mark.parametrize(
    "sender",
    [
        {"reference": "Organization/not-in-the-bundle"},
        {"reference": "https://elsewhere.example/Organization/1"},
    ],
)
def test_fhir_sender_reference_that_does_not_resolve_is_unverifiable(sender: dict[str, object]) -> None:
    with pytest.raises(UnverifiableSenderError, match=r"MessageHeader\.sender"):
        claimed_senders("fhir", fhir_bundle(sender, ORG))


def test_fhir_sender_organisation_without_an_ods_code_is_unverifiable() -> None:
    org = {"fullUrl": "urn:uuid:o", "resource": {"resourceType": "Organization", "name": "A clinic"}}
    with pytest.raises(UnverifiableSenderError, match="ODS"):
        claimed_senders("fhir", fhir_bundle({"reference": "urn:uuid:o"}, org))


def test_partner_may_claim_its_own_ids_in_any_case_and_spacing() -> None:
    partner = Partner(code="school-a", name="School A", org_ids=("100 001",), sender_ids=("8814001",))
    assert partner.may_claim("100001")
    assert partner.may_claim("8814001")
    assert not partner.may_claim("RAT")
