"""The consent rules, pure: what a FHIR `Consent` decides, when it takes effect, who may reverse it.

1. A decision takes effect when hubnet received it (the event's `ingested_at`). The `dateTime` the
   sender wrote orders nothing: a `Consent` dated in the future is refused at the gateway
   (`future_dated`), and a decision received earlier never replaces one received later.
2. A decision is about the partners its `provision.actor` or `organization` name (by identifier
   value or display, as partner codes), else about the partner that recorded it.
3. A partner records consent only when its registration allows it, for the partners it names
   (`authority_refusal`, applied by the gateway; staff record it on their own authority).
4. Only an authorised recorder reverses a withdrawal: a later permit replaces a withdrawal when it
   comes from hub staff or from the recorder of that withdrawal; a withdrawal always stands
   against an earlier permit. When unsure, the entries stay withheld.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Any

from connectors.common.fhir_time import parse_fhir_datetime
from schemas.envelope import HubEvent, resource_id
from schemas.linked import LinkedEvent
from services.consent.model import STAFF_RECORDER, Authority, ConsentDecision

ANY_PARTNER = "*"
"""In a registration's consent grant: may record consent about any partner."""
CLOCK_SKEW = timedelta(minutes=5)
"""How far a sender's clock may run ahead of hubnet's before its `dateTime` counts as future."""
_WITHDRAWN_STATUSES = frozenset({"rejected", "inactive", "entered-in-error"})
_NOT_IN_A_CODE = re.compile(r"[^a-z0-9]+")


def consents_in(event: HubEvent) -> list[dict[str, Any]]:
    """The FHIR `Consent` resources an event carries (a consent event, or a referral's Bundle)."""
    return [e.resource for e in event.entries if e.resource.get("resourceType") == "Consent"]


def permits(resource: dict[str, Any]) -> bool:
    """Permitted when active and its provision does not deny."""
    provision = resource.get("provision") or {}
    return resource.get("status") not in _WITHDRAWN_STATUSES and provision.get("type") != "deny"


def stated_at(resource: dict[str, Any]) -> datetime | None:
    when = resource.get("dateTime")
    return parse_fhir_datetime(when) if isinstance(when, str) else None


def named_partners(resource: dict[str, Any]) -> list[str]:
    """The partner codes a Consent names (provision.actor, organization); empty when none."""
    references = [a.get("reference") or {} for a in (resource.get("provision") or {}).get("actor") or []]
    references += list(resource.get("organization") or [])
    found = []
    for ref in references:
        value = (ref.get("identifier") or {}).get("value") or ref.get("display")
        if code := partner_code(str(value or "")):
            found.append(code)
    return list(dict.fromkeys(found))


def partner_code(value: str) -> str:
    """A Consent's name for a partner as a partner code (`[a-z0-9-]`): lower case, each run of other
    characters one hyphen. Digits stay: codes such as a charity number (`1900101`) or an ODS code
    (`f89001`) must keep them, or a decision about one partner would count for another, or nobody."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().lower()
    return _NOT_IN_A_CODE.sub("-", ascii_text).strip("-")


def decisions_of(linked: LinkedEvent) -> list[ConsentDecision]:
    """Every decision a linked event's Consents make, one per partner each is about."""
    event = linked.event
    staff = event.source_partner == STAFF_RECORDER
    decisions = []
    for position, resource in enumerate(consents_in(event)):
        recorder = f"staff:{_performer(resource)}" if staff else event.source_partner
        for about in named_partners(resource) or [event.source_partner]:
            decisions.append(
                ConsentDecision(
                    decision_id=resource_id("hub-consent", event.event_id, str(position), about),
                    person_id=linked.person_id,
                    family_ids=linked.family_ids,
                    about=about,
                    permit=permits(resource),
                    recorder=recorder,
                    authority=Authority.STAFF if staff else Authority.PARTNER,
                    received_at=event.ingested_at,
                    stated_at=stated_at(resource),
                )
            )
    return decisions


def replaces(current: ConsentDecision | None, new: ConsentDecision) -> bool:
    """Whether `new` becomes the standing decision in place of `current` (same family and partner)."""
    if current is None:
        return True
    if (new.received_at, new.decision_id) <= (current.received_at, current.decision_id):
        return False  # received earlier (or the same decision again): what came later stands
    if new.permit and not current.permit:
        return may_reverse(current, new)
    return True


def may_reverse(withdrawal: ConsentDecision, permit: ConsentDecision) -> bool:
    """Hub staff, or whoever recorded the withdrawal, may record the family's consent again."""
    return permit.authority is Authority.STAFF or (
        bool(withdrawal.recorder) and permit.recorder == withdrawal.recorder
    )


def sharing_decision(standing: Iterable[ConsentDecision]) -> ConsentDecision | None:
    """What the referral gate reads: any standing withdrawal of the family's wins (the latest of
    them), else the latest standing permit, else nothing recorded."""
    decisions = sorted(standing, key=lambda d: (d.received_at, d.decision_id))
    withdrawals = [d for d in decisions if not d.permit]
    if withdrawals:
        return withdrawals[-1]
    return decisions[-1] if decisions else None


def future_dated(resource: dict[str, Any], received_at: datetime) -> str | None:
    """The reason a Consent is refused for a `dateTime` later than its arrival, else None."""
    when = stated_at(resource)
    if when is None or when <= received_at + CLOCK_SKEW:
        return None
    return (
        f"Consent.dateTime {when.isoformat()} is in the future; hubnet records a consent decision at "
        "the time it receives it: send the time the family decided"
    )


def authority_refusal(recorder: str, grant: Collection[str], resource: dict[str, Any]) -> str | None:
    """Why `recorder` (whose registration may record consent about `grant`) may not send this
    Consent, else None."""
    if not grant:
        return (
            f"partner '{recorder}' is not registered to record consent; ask the hub to add it "
            "(hubnet partners add ... --consent-for PARTNER)"
        )
    if ANY_PARTNER in grant:
        return None
    outside = [p for p in named_partners(resource) or [recorder] if p not in grant]
    if outside:
        return f"partner '{recorder}' may not record consent about {', '.join(outside)}"
    return None


def consent_refusal(recorder: str, grant: Collection[str], event: HubEvent) -> str | None:
    """Why the gateway refuses the Consents an event carries (no authority for the partners they
    name, or a `dateTime` after the event was received), else None. Audited as a refusal."""
    for resource in consents_in(event):
        reason = authority_refusal(recorder, grant, resource) or future_dated(resource, event.ingested_at)
        if reason:
            return reason
    return None


def _performer(resource: dict[str, Any]) -> str:
    for performer in resource.get("performer") or []:
        name = (performer.get("identifier") or {}).get("value") or performer.get("display")
        if name:
            return str(name)
    return "unknown"
