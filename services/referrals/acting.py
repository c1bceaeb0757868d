"""A lifecycle action on behalf of a named member of hub staff, for doors without a web sign-in
(`hubnet referrals act --by USER`): the same access rule as the inbox API and pages
(services/referrals/access.py), the same audit records, allowed or refused.

The door finds the account first (services/cli/acting.py: a name typed on the command line that is
nobody's account acts for nobody).
"""

from __future__ import annotations

from collections.abc import Callable

from schemas.audit import AuditRecord, Outcome
from schemas.errors import AuthorisationError
from services.referrals.access import can_act, staff_from_principal
from services.referrals.lifecycle import Action
from services.referrals.service import ReferralNotFoundError, ReferralService
from services.referrals.store import Referral
from services.timeline.users import Principal

Audit = Callable[[AuditRecord], object]


def no_referral_work(who: Principal) -> str:
    """Why an account whose role has no referral work (services/referrals/access.py
    `staff_from_principal`) neither sees nor acts on referrals, on any command-line door."""
    return f"'{who.username}' is not a hub staff account that works with referrals"


def act_as(
    service: ReferralService, who: Principal, audit: Audit, *, referral_id: str, action: Action,
    reason: str | None = None, offer_id: str | None = None,
) -> Referral:  # fmt: skip
    """Apply the action as `who`; raises `AuthorisationError` (audited) when the account does not
    work with referrals or may not act on this referral, `ReferralNotFoundError` (audited) for an
    unknown id, `LifecycleError` when the action does not apply to the referral's status."""
    verb = f"referrals.{action.value}"

    def record(outcome: Outcome, role: str, why: str | None) -> None:
        audit(AuditRecord(actor=who.username, actor_role=role, action=verb, target=referral_id,
                          outcome=outcome, reason=why))  # fmt: skip

    staff = staff_from_principal(who, service.network)
    if staff is None:
        why = no_referral_work(who)
        record("denied", who.role.value, why)
        raise AuthorisationError(why)
    referral = service.store.get(referral_id)
    if referral is None:
        record("denied", who.role.value, "no such referral")
        raise ReferralNotFoundError(f"no referral {referral_id}")
    refused = can_act(staff, referral, action, service.receiving(referral))
    if refused:
        record("denied", who.role.value, refused)
        raise AuthorisationError(refused)
    done = service.act(referral_id, action, who.username, reason, offer_id)
    record("allowed", who.role.value, reason)
    return done
