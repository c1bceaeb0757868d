"""Who may decide an identity review, or split a hub person: the one rule every door applies (the
staff web UI, services/web/routes_identity.py, and `hubnet identity`, services/cli/identity.py).

A decision joins or separates two people, so deciding it, or seeing the identifiers it turns on,
is a read of both records. It is a data-quality responsibility: hub managers and hub practitioners,
and only for records they may open on the timeline (services/timeline/access.py: role and hub
area; a person not on the timeline yet has no known area, so only county-wide staff). The caller
audits each attempt with the reason this rule gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.timeline.access import TimelineAccess
from services.timeline.policy import Role
from services.timeline.users import Principal

REVIEWER_ROLES = frozenset({Role.HUB_MANAGER, Role.HUB_PRACTITIONER})
NOT_A_REVIEWER = "identity reviews are decided by hub managers and hub practitioners"
NOT_A_HISTORY_READER = (
    "a person's identity history (identifiers, families, merges) is shown to hub managers and hub "
    "practitioners, who decide identity reviews, for people in their hub areas"
)


def review_refusal(
    access: TimelineAccess, who: Principal, persons: Sequence[str], not_a_reviewer: str = NOT_A_REVIEWER
) -> str | None:
    """None when `who` may review identities and open every one of `persons`, else why not
    (`not_a_reviewer` says what the door needs when the role is not a reviewer's)."""
    if who.role not in REVIEWER_ROLES:
        return not_a_reviewer
    return access.persons_denial(who, persons) if persons else None


def review_persons(review: dict[str, Any]) -> tuple[str, str]:
    """The two hub persons a review turns on."""
    return str(review["person_id"]), str(review["candidate_id"])
