"""ADT specifics: NHS Data Dictionary gender codes, visit cancellations (A11/A12/A13), transfers (A02).

The messages are written from the standards' text, not copied from a file: NHS England's ITK HL7
v2 ADT messages (v2.4, NHS number in PID-3 with authority NHS and type NH) carry PID-8 and NK1-15
as NHS Data Dictionary person gender codes (1 male, 2 female, 9 indeterminate, 0 not known,
X not specified); HL7 v2.5 chapter 3.3.11-13 defines A11 (cancel admit / visit notification: an
A01 or an A04), A12 (cancel transfer) and A13 (cancel discharge). NHS numbers are from the 999
test range with valid check digits.
"""

from __future__ import annotations

import pytest

from connectors.base import Rejection, SourceContext
from connectors.hl7v2.connector import Hl7v2Connector
from schemas.envelope import HubEvent
from schemas.event_types import EventType
from schemas.linked import LinkedEvent
from services.timeline.model import Filters
from services.timeline.store import TimelineStore
from tests.databases import Backend
from tests.unit.timeline.events import feed

connector = Hl7v2Connector()
CTX = SourceContext(partner="essex-acute")


def itk(trigger: str, sent: str, *, sex: str = "2", visit: str = "V123", kin_sex: str = "1") -> str:
    """An ITK-style ADT message (v2.4) about one baby and her father."""
    structure = {"A11": "ADT_A09", "A12": "ADT_A12", "A13": "ADT_A01"}.get(trigger, "ADT_A01")
    return (
        f"MSH|^~\\&|PAS|RAJ|HUBNET|FH|{sent}||ADT^{trigger}^{structure}|C{trigger}{sent}|P|2.4|||AL|NE\r"
        f"EVN|{trigger}|{sent}\r"
        f"PID|1||9990001006^^^NHS^NH~H77^^^RAJ^PI||TESTBABY^Amara^^^^^L||20250110|{sex}\r"
        f"NK1|1|TESTBABY^Kwame|FTH^Father^HL70063||||||||||||{kin_sex}\r"
        f"PV1|1|I|RAJ^WARD 4^BED 2|||RAJ^WARD 1^BED 9|||||||||||||{visit}\r"
    )


def outcomes(message: str) -> list[HubEvent | Rejection]:
    return list(connector.convert(message.encode(), CTX))


def events(message: str) -> list[HubEvent]:
    found = outcomes(message)
    assert not [o for o in found if isinstance(o, Rejection)], found
    return [o for o in found if isinstance(o, HubEvent)]


def rejection(message: str) -> Rejection:
    (outcome,) = outcomes(message)
    assert isinstance(outcome, Rejection)
    return outcome


@pytest.mark.parametrize(
    ("code", "gender"),
    [
        ("1", "male"),
        ("2", "female"),
        ("9", "other"),
        ("0", "unknown"),
        ("X", "unknown"),
        ("x", "unknown"),
        ("M", "male"),
        ("F", "female"),
        ("O", "other"),
        ("A", "other"),
        ("U", "unknown"),
        ("N", "unknown"),
    ],
)
def test_nhs_data_dictionary_and_hl7_sex_codes_become_fhir_gender(code: str, gender: str) -> None:
    (event,) = events(itk("A01", "20250112093000", sex=code, kin_sex=code))
    resources = {e.resource["resourceType"]: e.resource for e in event.entries}
    assert resources["Patient"]["gender"] == gender
    assert resources["RelatedPerson"]["gender"] == gender


def test_no_sex_sent_gives_no_gender() -> None:
    (event,) = events(itk("A01", "20250112093000", sex="", kin_sex=""))
    assert all("gender" not in e.resource for e in event.entries)


@pytest.mark.parametrize(("field", "location"), [("sex", "PID-8"), ("kin_sex", "NK1-15")])
def test_a_sex_code_of_neither_table_is_refused_naming_the_field(field: str, location: str) -> None:
    refused = rejection(itk("A01", "20250112093000", **{field: "Z"}))
    assert refused.location == location
    assert "administrative sex" in refused.reason
    assert "NHS Data Dictionary" in refused.reason


def test_a11_cancel_admit_retracts_the_admission_and_the_registration_of_that_visit() -> None:
    (admitted,) = events(itk("A01", "20250112093000"))
    cancels = events(itk("A11", "20250112100000"))
    assert [c.event_type for c in cancels] == [EventType.RECORD_RETRACTED] * 2
    assert [c.retracts for c in cancels] == ["A01:visit:V123", "A04:visit:V123"]
    assert admitted.source_record_id == "A01:visit:V123"
    assert all(c.retracts == c.source_record_id for c in cancels)
    assert all(c.record_version > admitted.record_version for c in cancels)
    assert all(c.subjects == admitted.subjects and not c.entries for c in cancels)


def test_a13_cancel_discharge_retracts_the_discharge_only() -> None:
    (discharged,) = events(itk("A03", "20250114093000"))
    (cancel,) = events(itk("A13", "20250114100000"))
    assert cancel.retracts == discharged.source_record_id == "A03:visit:V123"


def test_a02_transfer_is_an_encounter_at_the_new_location_and_a12_retracts_it() -> None:
    (transfer,) = events(itk("A02", "20250113080000"))
    assert transfer.event_type is EventType.ENCOUNTER
    assert transfer.source_record_id == "A02:visit:V123"
    encounter = transfer.entries[0].resource
    assert encounter["resourceType"] == "Encounter"
    assert encounter["location"] == [
        {"location": {"display": "RAJ, WARD 4, BED 2"}, "status": "active"},
        {"location": {"display": "RAJ, WARD 1, BED 9"}, "status": "completed"},
    ]
    assert transfer.occurred_at.isoformat() == "2025-01-13T08:00:00+00:00"
    (cancel,) = events(itk("A12", "20250113090000"))
    assert cancel.retracts == transfer.source_record_id


@pytest.mark.parametrize("trigger", ["A11", "A12", "A13"])
def test_a_cancel_without_a_visit_number_is_refused_not_guessed(trigger: str) -> None:
    refused = rejection(itk(trigger, "20250112100000", visit=""))
    assert refused.location == "PV1-19"
    assert "visit number" in refused.reason


def test_a_cancelled_admission_leaves_the_timeline_and_a_late_resend_does_not_return(
    backend: Backend,
) -> None:
    """Through the real timeline store (SQLite, and PostgreSQL when reachable)."""
    store = backend.open(TimelineStore)
    admission = itk("A01", "20250112093000")
    (admitted,) = events(admission)
    (discharged,) = events(itk("A03", "20250114093000"))
    feed(store, *(LinkedEvent(event=e, person_id="p1", family_ids=("f1",)) for e in (admitted, discharged)))
    assert store.count_entries() == 2
    cancels = events(itk("A11", "20250112100000"))
    feed(store, *(LinkedEvent(event=e, person_id="p1", family_ids=("f1",)) for e in cancels))
    assert [e.source_record_id for e in store.entries(["p1"], Filters())] == ["A03:visit:V123"]
    feed(store, LinkedEvent(event=admitted, person_id="p1", family_ids=("f1",)))
    assert store.count_entries() == 1
