"""Consent recorded by hub staff (the `hubnet consent` command and the staff web UI, #20).

A staff decision travels as every decision does: a `consent-recorded` hub event on `fh.events`
(from `STAFF_RECORDER`, a code no partner can register), so identity resolution links it to the
family and both readers (timeline, referral gate) apply it by the same rules; staff authority lets
it reverse a withdrawal. Every decision is audited on `fh.audit` (actor = the staff user) in the
same outbox transaction as the event, so neither goes without the other.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from schemas.audit import AuditRecord
from schemas.envelope import Entry, HubEvent, Identifier, resource_id
from schemas.errors import HubnetError
from schemas.event_types import EventType
from schemas.identifiers import NHS_NUMBER, local_system, nhs_number_is_valid, normalise_nhs_number
from services.consent.model import STAFF_RECORDER
from services.core.audit import audit_message
from services.core.outbox import OutboundMessage
from services.ingest.pipeline import event_message

RECIPIENT_ROLE = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]
}
"""Consent.provision.actor.role: the partner the decision is about receives (or no longer receives)
the family's information."""
CONSENT_SCOPE = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]
}


class ConsentInputError(HubnetError):
    """A staff consent decision cannot be recorded as given (bad NHS number, no partner, no user)."""


class Outbox(Protocol):
    def publish(self, messages: list[OutboundMessage]) -> int: ...


def staff_decision(
    *,
    user: str,
    nhs_number: str,
    about: str,
    permit: bool,
    note: str | None = None,
    now: datetime | None = None,
    stated_at: datetime | None = None,
) -> HubEvent:
    """The `consent-recorded` event of one staff decision; `ConsentInputError` says what to fix.

    `stated_at` is when the family gave it (the Consent's `dateTime`, for people to read; the
    decision still takes effect when hubnet receives it): never later than now."""
    number = normalise_nhs_number(nhs_number)
    if not nhs_number_is_valid(number):
        raise ConsentInputError(f"'{nhs_number}' is not a valid NHS number (10 digits, modulus 11 check)")
    if not about.strip() or not user.strip():
        raise ConsentInputError("say which partner the decision is about (--about) and who records it (--by)")
    at = now or datetime.now(UTC)
    if stated_at is not None and stated_at > at:
        raise ConsentInputError("the date the family gave the decision cannot be in the future")
    record = resource_id("staff-consent", number, about, at.isoformat())
    consent: dict[str, Any] = {
        "resourceType": "Consent",
        "id": record,
        "status": "active" if permit else "rejected",
        "scope": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}
            ]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "dateTime": (stated_at or at).isoformat(),
        "performer": [{"display": user}],
        "provision": {
            "type": "permit" if permit else "deny",
            "actor": [{"role": RECIPIENT_ROLE, "reference": {"identifier": {"value": about}}}],
        },
    }
    if note:
        consent["policyRule"] = {"text": note}
    return HubEvent.create(
        event_type=EventType.CONSENT_RECORDED,
        source_partner=STAFF_RECORDER,
        source_system=local_system(STAFF_RECORDER, "consent"),
        source_record_id=record,
        record_version="1",
        occurred_at=at,
        ingested_at=at,
        subjects=[Identifier(system=NHS_NUMBER, value=number)],
        entries=[Entry.of(consent)],
    )


def record_by_staff(outbox: Outbox, **decision: Any) -> HubEvent:
    """Queue a staff decision and its audit record together; returns the event queued."""
    event = staff_decision(**decision)
    action = "consent.record" if decision["permit"] else "consent.withdraw"
    audit = AuditRecord(
        actor=str(decision["user"]), actor_role="staff", action=action,
        target=event.event_id, outcome="allowed", reason=f"about partner {decision['about']}",
        trace_id=event.trace_id,
    )  # fmt: skip
    outbox.publish([event_message(event), audit_message(audit)])
    return event
