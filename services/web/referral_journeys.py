"""Each referral's journey for the family page: created, routed where and why, accepted or declined
by whom, closed with what outcome; from the referral store's history, in words.

Only referrals the signed-in user may see by the referral access rule (services/referrals/access.py:
staff of the receiving service, hub managers of its district) are shown; the family page's
timeline lists the others as entries, as the timeline's own rules allow.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.referrals import api
from services.referrals.service import ReferralService
from services.timeline.users import Principal
from services.web.referral_words import need_words, status_words


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
    staff = service.staff_of(who)
    if staff is None:
        return []
    found = service.store.find("family_id = ? ORDER BY created_at DESC", (family_id,))
    return [_journey(service, r.referral_id) for r in found if api.sees(service, staff, r)]


def _journey(service: ReferralService, referral_id: str) -> Journey:
    referral = service.store.get(referral_id)
    assert referral is not None
    steps = [
        Step(at[:16].replace("T", " "), status_words(status), actor, reason)
        for at, status, actor, reason in service.store.history(referral_id)
    ]
    need = need_words(service.network, referral.need)
    return Journey(referral_id, need, status_words(referral.status.value), tuple(steps))
