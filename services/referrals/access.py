"""Who may see and act on which referral: staff of the receiving service on their own referrals,
hub managers across their districts. Pure; the API, the pages and the CLI apply it and audit every
read and action.

Rules (docs/referrals.md, "Who sees and acts on a referral"):
1. Staff are assigned to services (users.py: service ids, or one `service@site` offer) and work at
   those services' offers in their hub areas. They see and act on (open, accept, decline, start,
   complete, cancel) only referrals sent to one of those offers; other services at the same site
   see nothing of them.
2. Voluntary-sector staff (the voluntary-sector worker role, or anyone at a voluntary-sector offer)
   see a referral only while the family's recorded consent to share with the voluntary sector
   stands, and never a safeguarding one (the routing consent gate, services/referrals/consent.py,
   asked again at the time of reading, so a withdrawal after routing takes the referral away).
3. Hub managers see their districts' referrals and keep the escalation queue: they re-route
   (assign) any open referral of their districts and cancel one waiting in their queue; accepting
   or declining at a service is for that service's staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.referrals.lifecycle import Action, Status
from services.referrals.network import Network
from services.referrals.store import Referral
from services.timeline.policy import COUNTY_WIDE
from services.timeline.policy import Role as StaffRole
from services.timeline.users import Principal

Role = Literal["service-worker", "hub-manager"]
MANAGER_ACTIONS = frozenset({Action.ASSIGN})
MANAGER_QUEUE = frozenset({Status.AWAITING_MANAGER, Status.HELD})
NOT_YOURS = "this referral is not for a service or district you work in"


class Staff(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: str = Field(min_length=1)
    role: Role
    offers: tuple[str, ...] = Field(default=(), description="Offer ids (service@site) worked at.")
    districts: tuple[str, ...] = Field(
        default=(), description="Hub areas a hub manager manages (the county pack's ids)."
    )
    voluntary: bool = Field(default=False, description="Voluntary-sector staff (rule 2).")

    def works_at(self, offer_id: str | None) -> bool:
        return bool(offer_id) and offer_id in self.offers

    def manages(self, referral: Referral) -> bool:
        return self.role == "hub-manager" and bool(
            {referral.district, referral.home_district}.intersection(self.districts)
        )


@dataclass(frozen=True)
class Receiving:
    """Where a referral is, as the rules need it: the receiving offer's sector, and why the
    voluntary sector may not see it (None: it may), from the consent gate at the time of asking."""

    sector: str | None = None
    voluntary_refusal: str | None = None


def _service_refusal(staff: Staff, referral: Referral, receiving: Receiving) -> str | None:
    """Rules 1 and 2: None when the staff member works at the receiving offer and may see it."""
    if not staff.works_at(referral.offer_id):
        return NOT_YOURS
    if (staff.voluntary or receiving.sector == "voluntary") and receiving.voluntary_refusal:
        return receiving.voluntary_refusal
    return None


def can_see(staff: Staff, referral: Referral, receiving: Receiving) -> bool:
    return staff.manages(referral) or _service_refusal(staff, referral, receiving) is None


def can_act(staff: Staff, referral: Referral, action: Action, receiving: Receiving) -> str | None:
    """None when allowed, else why not (said to the user and kept on the audit trail)."""
    if not can_see(staff, referral, receiving):
        return NOT_YOURS
    if action in MANAGER_ACTIONS:
        return (
            None
            if staff.manages(referral)
            else f"only a hub manager of its district may {action.value} a referral"
        )
    if action is Action.CANCEL and referral.status in MANAGER_QUEUE and staff.manages(referral):
        return None
    if _service_refusal(staff, referral, receiving) is not None:
        return f"only staff assigned to the receiving service may {action.value} this referral"
    return None


def staff_from_principal(principal: Principal, network: Network) -> Staff | None:
    """The referral view of a signed-in member of hub staff; None for roles without referral work.

    Offers worked at: the user's assigned services at sites of their hub areas (a voluntary-sector
    worker's only at voluntary-sector offers)."""
    if principal.role is StaffRole.OPERATIONS:
        return None
    everywhere = COUNTY_WIDE in principal.areas
    districts = tuple(sorted(network.areas)) if everywhere else principal.areas
    voluntary = principal.role is StaffRole.VOLUNTARY_SECTOR_WORKER
    assigned = set(principal.services)
    offers = tuple(
        sorted(
            o.offer_id
            for o in network.offers
            if o.area in districts
            and (o.service_id in assigned or o.offer_id in assigned)
            and (o.sector == "voluntary" or not voluntary)
        )
    )
    if principal.role is StaffRole.HUB_MANAGER:
        return Staff(user_id=principal.username, role="hub-manager", districts=districts, offers=offers)
    return Staff(user_id=principal.username, role="service-worker", offers=offers, voluntary=voluntary)
