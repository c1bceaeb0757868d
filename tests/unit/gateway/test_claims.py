"""The sender each format family names, read from small synthetic inputs (no personal data)."""

from __future__ import annotations

import orjson
import pytest

from services.gateway.claims import claimed_senders
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


@pytest.mark.parametrize(
    ("fmt", "data", "expected"),
    [
        ("hl7v2", HL7, {"RAT"}),
        ("fhir", FHIR, {"RAT"}),
        ("nems", FHIR, {"RAT"}),
        ("ctf", CTF, {"100001", "8814001"}),
        ("vcs-json", VCS_JSON, {"1234567", "7654321"}),
        ("vcs-csv", VCS_CSV, {"1234567", "7654321"}),
        ("ssda903", b"CHILD,SEX\n1,1\n", set()),
    ],
)
def test_claimed_senders(fmt: str, data: bytes, expected: set[str]) -> None:
    assert claimed_senders(fmt, data) == expected


@pytest.mark.parametrize("fmt", ["hl7v2", "fhir", "ctf", "vcs-json", "vcs-csv"])
def test_unreadable_input_claims_nothing(fmt: str) -> None:
    assert claimed_senders(fmt, b"\x00<<not{readable") == set()


def test_partner_may_claim_its_own_ids_in_any_case_and_spacing() -> None:
    partner = Partner(code="school-a", name="School A", org_ids=("100 001",), sender_ids=("8814001",))
    assert partner.may_claim("100001")
    assert partner.may_claim("8814001")
    assert not partner.may_claim("RAT")
