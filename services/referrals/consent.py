"""The consent gate: a referral to a voluntary-sector service needs the family's recorded consent.

As in the DfE "Connect families to support" service, the family agrees to their details going to a
voluntary or community organisation. Consent is a FHIR `Consent`: in its own CONSENT_RECORDED event
(for the child, or a parent in the same family), or inside the referral's own message Bundle (as
the BaRS validation request carries one). The latest record wins, so a withdrawal stops later
referrals. Safeguarding concerns never go to the voluntary sector, consent or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.common.fhir_time import parse_fhir_datetime

_WITHDRAWN_STATUSES = frozenset({"rejected", "inactive", "entered-in-error"})


@dataclass(frozen=True)
class ConsentFact:
    """One recorded consent decision: given (`permit`) or refused/withdrawn, and when."""

    consent_id: str
    permit: bool
    at: datetime


def consent_fact(resource: dict[str, Any], key: str, fallback: datetime) -> ConsentFact:
    """Read a FHIR R4 `Consent`: permitted when active and its provision does not deny. `key`
    names the record across partners (a Consent inside a message may have no id of its own)."""
    provision = resource.get("provision") or {}
    permit = resource.get("status") not in _WITHDRAWN_STATUSES and provision.get("type") != "deny"
    when = resource.get("dateTime")
    at = parse_fhir_datetime(when) if isinstance(when, str) else None
    return ConsentFact(key, permit, at or fallback)


def latest(facts: list[ConsentFact]) -> ConsentFact | None:
    """The decision that stands: the most recent one (a withdrawal after a consent wins)."""
    return max(facts, key=lambda fact: fact.at, default=None)


def gate(sector: str, safeguarding: bool, consent: ConsentFact | None) -> str | None:
    """None when a service of `sector` may receive the referral, else the reason it may not."""
    if sector != "voluntary":
        return None
    if safeguarding:
        return "a safeguarding concern is never sent to a voluntary-sector service"
    if consent is None:
        return "voluntary-sector service: the family's consent to share is not recorded"
    if not consent.permit:
        return "voluntary-sector service: the family refused or withdrew consent to share"
    return None
