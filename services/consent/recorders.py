"""Who may record a family's consent decision as hub staff: the one rule of every staff door (the
staff UI's form, services/web/routes_consent.py, and `hubnet consent`, services/cli/consent.py).

Staff who work with the family directly (`RECORDERS`), for a family they may open on the timeline
(role and hub area, services/timeline/access.py). A door that names the person by NHS number (the
command line) finds them on the timeline: someone not on it yet has no known hub area, so only
county-wide staff may record for them. Partners record consent on their registration's authority
instead (services/consent/rules.py, at the gateway).
"""

from __future__ import annotations

from schemas.identifiers import NHS_NUMBER, normalise_nhs_number
from services.timeline.access import TimelineAccess
from services.timeline.policy import Role, family_access
from services.timeline.users import Principal

RECORDERS = frozenset(
    {Role.HUB_PRACTITIONER, Role.HEALTH_VISITOR, Role.SCHOOL_NURSE, Role.SOCIAL_WORKER, Role.HUB_MANAGER}
)
"""Roles that record a family's consent: staff who work with the family directly. School staff and
voluntary-sector workers do not (the voluntary sector is who the consent lets receive referrals)."""
NOT_A_RECORDER = (
    "your role does not record families' consent: ask the family's health visitor, hub practitioner, "
    "school nurse, social worker or hub manager"
)


def role_refusal(who: Principal) -> str | None:
    """None when `who`'s role records consent, else why not."""
    return None if who.role in RECORDERS else NOT_A_RECORDER


def person_refusal(access: TimelineAccess, who: Principal, nhs_number: str) -> str | None:
    """None when `who` may record consent for the person with this NHS number, else why not."""
    if refused := role_refusal(who):
        return refused
    found = access.store.search(token=f"{NHS_NUMBER}|{normalise_nhs_number(nhs_number)}")
    if not found:
        return family_access(who.role, who.areas, None)
    return access.persons_denial(who, [p.person_id for p in found])
