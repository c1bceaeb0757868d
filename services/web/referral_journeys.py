"""Each referral's journey for the family page: created, routed where and why, accepted or declined
by whom, closed with what outcome; from the referral store's history, in words.

Only referrals the signed-in user may see by the referral access rule (services/referrals/access.py:
staff of the receiving service, hub managers of its district) are shown; the family page's
timeline lists the others as entries, as the timeline's own rules allow.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.referrals import api
from services.referrals.access import staff_from_principal
from services.referrals.service import ReferralService
from services.timeline.users import Principal

STATUS_WORDS = {
    "held": "held until the family's consent is recorded",
    "awaiting-manager": "waiting for a hub manager",
    "requested": "sent to a service",
    "opened": "opened by the service",
    "accepted": "accepted",
    "in-progress": "work started",
    "completed": "closed: work completed",
    "cancelled": "closed: cancelled",
    "linked": "linked to an open referral for the same need",
}


@dataclass(frozen=True)
class Step:
    at: str
    what: str
    by: str
    why: str


@dataclass(frozen=True)
class Journey:
    referral_id: str
    need: str
    status: str
    steps: tuple[Step, ...]


def journeys(service: ReferralService, who: Principal, family_id: str) -> list[Journey]:
    """The family's referrals this user may see, newest first, each with its steps in order."""
    staff = staff_from_principal(who, service.network)
    if staff is None:
        return []
    found = service.store.find("family_id = ? ORDER BY created_at DESC", (family_id,))
    return [_journey(service, r.referral_id) for r in found if api.sees(service, staff, r)]


def _journey(service: ReferralService, referral_id: str) -> Journey:
    referral = service.store.get(referral_id)
    assert referral is not None
    need = service.network.needs.get(referral.need) if referral.need else None
    steps = [
        Step(at[:16].replace("T", " "), STATUS_WORDS.get(status, status), actor, reason)
        for at, status, actor, reason in service.store.history(referral_id)
    ]
    return Journey(referral_id, need.display if need else "need not recognised by the hub",
                   STATUS_WORDS.get(referral.status.value, referral.status.value), tuple(steps))  # fmt: skip
