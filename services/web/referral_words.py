"""A referral's codes in the words staff read: the need by the hub's name for it, the service by
its name and site, a district by name, a status as a phrase (issue #20: pages showed `R9W`,
`infant-feeding@HUB11`, `awaiting-manager`).

One place for every page that shows a referral: the inbox rows, the referral page, the journeys
and the family summary. The codes stay in the API (`/v1/referrals`) and the audit trail.
"""

from __future__ import annotations

from services.referrals.network import Network

NOT_RECOGNISED = "not recognised by the hub"
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


def need_words(network: Network, code: str | None) -> str:
    """The need as the hub names it (network.toml [needs] display)."""
    need = network.needs.get(code) if code else None
    return need.display if need else NOT_RECOGNISED


def service_words(network: Network, offer_id: str | None, area: str) -> str:
    """Where the referral is: the service and its site, or the hub manager of its hub area. `area`
    is the hub area's name as the referral's summary already gives it (`Summary.district`), never
    looked up again: a name is no area id, and every queued row read "unknown hub area"."""
    offer = network.offer(offer_id) if offer_id else None
    if offer is None:
        return f"hub manager, {area}"
    site = network.sites.get(offer.site_id)
    return f"{offer.name}, {site.name}" if site else offer.name


def status_words(status: str) -> str:
    """A referral status as a phrase; an unknown status shows as it is."""
    return STATUS_WORDS.get(status, status)
