"""The consent gate: a referral to a voluntary-sector service needs the family's recorded consent.

As in the DfE "Connect families to support" service, the family agrees to their details going to a
voluntary or community organisation. Consent is a FHIR `Consent`: in its own CONSENT_RECORDED event
(for the child, or a parent in the same family), or inside the referral's own message Bundle (as
the BaRS validation request carries one). Decisions are kept by the consent domain
(services/consent): each takes effect when hubnet received it, only an authorised recorder reverses
a withdrawal, and any standing withdrawal of the family stops referrals to the voluntary sector
(`rules.sharing_decision`). Safeguarding concerns never go to the voluntary sector, consent or not.
"""

from __future__ import annotations

from services.consent.model import ConsentDecision


def gate(sector: str, safeguarding: bool, consent: ConsentDecision | None) -> str | None:
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
