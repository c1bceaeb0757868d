"""Partner gateway security: a partner cannot publish as another organisation (403, audited, nothing
published) in any format that names its sender; expired, revoked and unknown keys are 401
(audited); a rotated key keeps working for its overlap only; a partner cannot look up another
partner's results. Real connectors and the shipped samples (samples/<format>/), FastAPI's client.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from schemas.audit import AuditRecord
from schemas.topics import AUDIT, EVENTS
from services.gateway import claims
from services.gateway.app import create_app
from services.gateway.service import Gateway, Limits
from tests.unit.gateway.support import ListPublisher, add_partner, open_gateway

pytestmark = pytest.mark.security
SAMPLES = Path(__file__).resolve().parents[2] / "samples"
HEADER_ID, PATIENT_ID = "6a0c3c55-4f6e-4b7a-9a57-1d0f2b8e4c11", "0b6f9d2e-8c3a-4e1f-b7d4-5a9e2c1f3d22"
SENDER = "RQ3"
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"


def fhir_message_json(sender: str) -> bytes:
    """A FHIR R4 message (MessageHeader naming its sender, and a synthetic Patient)."""
    header = {
        "resourceType": "MessageHeader", "id": HEADER_ID,
        "eventCoding": {"system": "https://fhir.nhs.uk/CodeSystem/message-event", "code": "patient-update"},
        "sender": {"identifier": {"system": ODS, "value": sender}},
        "source": {"endpoint": f"urn:nhs-uk:addressing:ods:{sender}"},
        "focus": [{"reference": f"urn:uuid:{PATIENT_ID}"}],
    }  # fmt: skip
    patient = {
        "resourceType": "Patient", "id": PATIENT_ID,
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990000018"}],
        "name": [{"family": "Testperson", "given": ["Alex"]}], "birthDate": "2020-01-01",
    }  # fmt: skip
    entries = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in (header, patient)]
    return orjson.dumps({"resourceType": "Bundle", "type": "message", "entry": entries})


def fhir_message_xml(sender: str) -> bytes:
    """The same message in FHIR XML: a sender check that read JSON only was bypassed by this."""
    return f"""<Bundle xmlns="http://hl7.org/fhir"><type value="message"/>
<entry><fullUrl value="urn:uuid:{HEADER_ID}"/><resource><MessageHeader><id value="{HEADER_ID}"/>
<eventCoding><system value="https://fhir.nhs.uk/CodeSystem/message-event"/>
<code value="patient-update"/></eventCoding>
<sender><identifier><system value="{ODS}"/><value value="{sender}"/></identifier></sender>
<source><endpoint value="urn:nhs-uk:addressing:ods:{sender}"/></source>
<focus><reference value="urn:uuid:{PATIENT_ID}"/></focus></MessageHeader></resource></entry>
<entry><fullUrl value="urn:uuid:{PATIENT_ID}"/><resource><Patient><id value="{PATIENT_ID}"/>
<identifier><system value="https://fhir.nhs.uk/Id/nhs-number"/><value value="9990000018"/></identifier>
<name><family value="Testperson"/><given value="Alex"/></name><birthDate value="2020-01-01"/></Patient>
</resource></entry></Bundle>""".encode()


def _sample(fmt: str) -> tuple[bytes, set[str]]:
    """A valid sample of the format and the organisation codes it claims to come from."""
    for path in sorted((SAMPLES / fmt).glob("*")):
        if path.is_file() and not path.name.startswith("invalid") and path.suffix != ".md":
            data = path.read_bytes()
            senders = {s.upper() for s in claims.EXTRACTORS[fmt](data)}
            if senders:
                return data, senders
    raise AssertionError(f"no sample of {fmt} names its sender: the impersonation check would be untested")


CASES = {
    **{
        f"{fmt} sample": (fmt, *_sample(fmt))
        for fmt in ("hl7v2", "ctf", "cin-census", "vcs-json", "vcs-csv", "bloodspot-csv")
    },
    "fhir message (JSON)": ("fhir", fhir_message_json(SENDER), {SENDER}),
    "fhir message (XML)": ("fhir", fhir_message_xml(SENDER), {SENDER}),
}


@pytest.fixture
def publisher() -> ListPublisher:
    return ListPublisher()


@pytest.fixture
def gateway(tmp_path: Path, publisher: ListPublisher) -> Iterator[Gateway]:
    gateway = open_gateway(tmp_path, publisher, Limits(rate_per_s=1000, burst=1000))
    yield gateway
    gateway.close()


@pytest.fixture
def client(gateway: Gateway) -> TestClient:
    return TestClient(create_app(gateway), raise_server_exceptions=False)


def _audits(publisher: ListPublisher) -> list[AuditRecord]:
    return [AuditRecord.from_bytes(m.value) for m in publisher.on(AUDIT)]


def _post(client: TestClient, key: str, fmt: str, data: bytes) -> int:
    response = client.post(f"/v1/events/{fmt}", content=data, headers={"X-API-Key": key})
    status: int = response.status_code
    return status


@pytest.mark.parametrize("case", list(CASES))
def test_impersonating_another_organisation_is_403_audited_and_publishes_nothing(
    client: TestClient, gateway: Gateway, publisher: ListPublisher, case: str
) -> None:
    fmt, data, senders = CASES[case]
    impostor = add_partner(gateway, "impostor", org_ids=("ZZZ99",), formats=(fmt,))
    assert _post(client, impostor, fmt, data) == 403
    assert publisher.on(EVENTS) == []
    [audit] = _audits(publisher)
    assert (audit.actor, audit.outcome) == ("impostor", "denied")
    genuine = add_partner(gateway, "genuine", org_ids=tuple(sorted(senders)), formats=(fmt,))
    assert _post(client, genuine, fmt, data) in (200, 202)
    assert publisher.on(EVENTS), "the sender's own key publishes the same message"


def _status(client: TestClient, key: str) -> int:
    code: int = client.get("/v1/partners/me", headers={"X-API-Key": key}).status_code
    return code


def test_expired_revoked_and_unknown_keys_are_401_and_audited(
    client: TestClient, gateway: Gateway, publisher: ListPublisher
) -> None:
    first = add_partner(gateway, "nelft-hv")
    second = gateway.partners.rotate_key("nelft-hv", overlap=timedelta(seconds=1)).token
    assert (_status(client, first), _status(client, second)) == (200, 200), "both work during the overlap"
    time.sleep(1.2)
    assert _status(client, first) == 401, "the old key expires when the overlap ends"
    assert _status(client, second) == 200
    second_id = second.split("_")[1]
    gateway.partners.revoke("nelft-hv", second_id)
    assert _status(client, second) == 401, "a revoked key"
    third = gateway.partners.rotate_key("nelft-hv", overlap=timedelta(hours=1)).token
    assert _status(client, third) == 200
    gateway.partners.revoke("nelft-hv")
    assert _status(client, third) == 401, "a revoked partner: every key stops"
    forged = f"{third[: -len(third.split('_')[2])]}{'A' * 43}"
    assert _status(client, forged) == 401, "the right key id with the wrong secret"
    refusals = [a for a in _audits(publisher) if a.action == "api.authenticate"]
    assert len(refusals) == 4
    assert all(a.outcome == "denied" for a in refusals)
    assert all(third.split("_")[2] not in a.model_dump_json() for a in refusals), "secrets never audited"


def test_a_partner_cannot_read_another_partners_results(client: TestClient, gateway: Gateway) -> None:
    owner = add_partner(gateway, "owner", org_ids=(SENDER,), formats=("fhir",))
    other = add_partner(gateway, "other", formats=("fhir",))
    data = fhir_message_json(SENDER)
    published = client.post("/v1/events/fhir", content=data, headers={"X-API-Key": owner}).json()
    ids = [item["event_id"] for item in published["items"] if item["event_id"]]
    assert ids
    for item_id in ids:
        assert client.get(f"/v1/events/{item_id}", headers={"X-API-Key": owner}).status_code == 200
        theirs = client.get(f"/v1/events/{item_id}", headers={"X-API-Key": other})
        assert theirs.status_code == 404
        assert "accepted" not in theirs.text
