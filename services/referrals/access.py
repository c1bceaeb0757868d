"""Who may see and act on which referral: service staff on their own services' referrals, hub
managers across their districts. Pure; the API applies it and audits every read and action.

The staff UI's sign-in gives a timeline `Principal` (user, role, hub areas); `staff_from_principal`
turns it into a `Staff`: hub managers manage their areas' districts, other family-facing roles work
at every site in their areas (the user model has no per-service assignment yet). Restricted
referrals (child protection, domestic abuse, mental or sexual health) are visible only to the
service they were sent to and to hub managers, never to other services at the same site.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.referrals.lifecycle import Action
from services.referrals.network import Network
from services.referrals.store import Referral
from services.timeline.policy import COUNTY_WIDE
from services.timeline.policy import Role as StaffRole
from services.timeline.users import Principal

Role = Literal["service-worker", "hub-manager"]
MANAGER_ACTIONS = frozenset({Action.ASSIGN})


class Staff(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: str = Field(min_length=1)
    role: Role
    offers: tuple[str, ...] = Field(default=(), description="Offer ids (service@site) or site ids worked at.")
    districts: tuple[str, ...] = Field(default=(), description="District codes a hub manager manages.")

    def works_at(self, offer_id: str | None) -> bool:
        if not offer_id:
            return False
        site = offer_id.split("@", 1)[-1]
        return offer_id in self.offers or site in self.offers


def can_see(staff: Staff, referral: Referral) -> bool:
    if staff.role == "hub-manager":
        return referral.district in staff.districts or referral.home_district in staff.districts
    return staff.works_at(referral.offer_id) and (
        referral.sensitivity == "N" or referral.offer_id in staff.offers
    )


def can_act(staff: Staff, referral: Referral, action: Action) -> str | None:
    """None when allowed, else why not (said to the user and kept on the audit trail)."""
    if not can_see(staff, referral):
        return "this referral is not for a service or district you work in"
    if action in MANAGER_ACTIONS and staff.role != "hub-manager":
        return f"only a hub manager may {action.value} a referral"
    return None


def staff_from_principal(principal: Principal, network: Network) -> Staff | None:
    """The referral view of a signed-in member of hub staff; None for roles without referral work."""
    everywhere = COUNTY_WIDE in principal.areas
    districts = tuple(sorted(network.districts)) if everywhere else principal.areas
    if principal.role is StaffRole.HUB_MANAGER:
        return Staff(user_id=principal.username, role="hub-manager", districts=districts)
    if principal.role is StaffRole.OPERATIONS:
        return None
    sites = tuple(sorted(s.site_id for s in network.sites.values() if s.district in districts))
    return Staff(user_id=principal.username, role="service-worker", offers=sites)
