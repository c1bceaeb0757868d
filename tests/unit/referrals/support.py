"""Hand-made linked events for referral tests: synthetic people only, NHS numbers from the test range,
postcodes made up in the demo county's places, which its county pack lists (networks.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from schemas.envelope import Entry, HubEvent, Identifier, Sensitivity, resource_id
from schemas.event_types import EventType
from schemas.identifiers import NHS_NUMBER, nhs_check_digit
from schemas.linked import LinkedEvent
from services.referrals.network import Network
from services.referrals.service import ReferralService
from services.referrals.sla import ManualClock
from services.referrals.store import ReferralStore
from tests.unit.referrals.networks import demo_network

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC (= London time in March)
CLACTON = "CO15 1AB"  # Tendring, a priority place
COLCHESTER = "CO3 4PQ"  # Colchester, neighbours Tendring
HARLOW = "CM20 2XY"  # Harlow
CHELMSFORD = "CM1 1AA"  # Chelmsford


def nhs(serial: int) -> str:
    """A valid test-range NHS number (999 ...): the first issuable one from this serial on."""
    while (check := nhs_check_digit(f"999{serial:06d}")) is None:
        serial += 1
    return f"999{serial:06d}{check}"


def born_years_ago(years: int) -> str:
    """A birth date making the child `years` old at `NOW` (born on 15 January)."""
    return date(NOW.year - years, 1, 15).isoformat()


def patient(number: str, born: str | None, postcode: str | None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": resource_id("test-patient", number),
        "identifier": [{"system": NHS_NUMBER, "value": number}],
    }
    if born:
        resource["birthDate"] = born
    if postcode:
        resource["address"] = [{"postalCode": postcode}]
    return resource


def linked(
    event_type: EventType,
    record: str,
    resources: list[dict[str, Any]],
    *,
    number: str,
    person: str,
    family: str,
    partner: str = "nhs-hv",
    version: str = "1",
    retracts: str | None = None,
    sensitivity: Sensitivity = Sensitivity.NORMAL,
) -> LinkedEvent:
    event = HubEvent.create(
        event_type=event_type,
        source_partner=partner,
        source_system=f"https://example.org/{partner}/records",
        source_record_id=record,
        record_version=version,
        occurred_at=NOW,
        ingested_at=NOW,
        subjects=[Identifier(system=NHS_NUMBER, value=number)],
        entries=[Entry.of(r) for r in resources],
        retracts=retracts,
        sensitivity=sensitivity,
        trace_id="t" * 32,
    )
    return LinkedEvent(event=event, person_id=person, family_ids=(family,))


def referral(
    record: str,
    code: str,
    *,
    serial: int = 1,
    age: int | None = 3,
    postcode: str | None = CLACTON,
    family: str = "fam-1",
    person: str | None = None,
    partner: str = "nhs-hv",
    consent: bool | None = None,
    status: str = "active",
    version: str = "1",
) -> LinkedEvent:
    """A REFERRAL_REQUESTED linked event for a child of `age` living at `postcode`, asking `code`."""
    number = nhs(serial)
    child = patient(number, born_years_ago(age) if age is not None else None, postcode)
    request = {
        "resourceType": "ServiceRequest",
        "id": resource_id("test-request", partner, record),
        "status": status,
        "intent": "order",
        "code": {"coding": [{"system": "https://example.org/codes", "code": code}]},
        "subject": {"reference": f"urn:uuid:{child['id']}"},
    }
    resources = [request, child]
    if consent is not None:
        resources.append(consent_resource(f"{record}-consent", permit=consent, patient_id=child["id"]))
    return linked(
        EventType.REFERRAL_REQUESTED,
        record,
        resources,
        number=number,
        person=person or f"person-{serial}",
        family=family,
        partner=partner,
        version=version,
    )


def consent_resource(
    cid: str, *, permit: bool, patient_id: str, when: str = "2025-03-03T08:00:00Z"
) -> dict[str, Any]:
    return {
        "resourceType": "Consent",
        "id": resource_id("test-consent", cid),
        "status": "active" if permit else "rejected",
        "scope": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}
            ]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": f"urn:uuid:{patient_id}"},
        "dateTime": when,
        "provision": {"type": "permit" if permit else "deny"},
    }


def consent_event(
    record: str, *, serial: int, family: str, permit: bool = True, when: str = "2025-03-03T10:00:00Z"
) -> LinkedEvent:
    number = nhs(serial)
    return linked(
        EventType.CONSENT_RECORDED,
        record,
        [consent_resource(record, permit=permit, patient_id=resource_id("test-patient", number), when=when)],
        number=number,
        person=f"person-{serial}",
        family=family,
        partner="hub-staff",
    )


def sen_event(record: str, *, serial: int, family: str, provision: str = "E") -> LinkedEvent:
    number = nhs(serial)
    flag = {
        "resourceType": "Flag",
        "id": resource_id("test-flag", record),
        "status": "active",
        "code": {"coding": [{"system": "https://example.org/dfe-sen-provision", "code": provision}]},
        "subject": {"reference": f"urn:uuid:{resource_id('test-patient', number)}"},
    }
    return linked(
        EventType.SEN_STATUS,
        record,
        [flag],
        number=number,
        person=f"person-{serial}",
        family=family,
        partner="school",
    )


class Harness:
    """A referral service on a store (in-memory SQLite unless given) with a manual clock."""

    def __init__(self, network: Network | None = None, store: ReferralStore | None = None) -> None:
        self.clock = ManualClock(NOW)
        self.network = network or demo_network()
        self.store = store or ReferralStore.open(":memory:")
        self.service = ReferralService(self.store, self.network, self.clock)

    def messages(self) -> list[HubEvent]:
        return [HubEvent.from_bytes(m.value) for m in self.store.outbox(100_000)]

    def tasks(self) -> list[dict[str, Any]]:
        return [m.entries[0].resource for m in self.messages()]
