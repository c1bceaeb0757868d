"""Who may see what on the family timeline: a pure function of role, sensitivity, hub area, consent
and break-glass. No I/O; services/timeline/access.py is the one place that applies it, for the API
and the web pages alike, and tests/unit/timeline/test_timeline_policy.py checks every cell.

Rules:
1. A family is open only to a role that works with families, in one of the user's hub areas
   ("*" = county-wide); a family whose area is unknown is open to county-wide users only.
2. Each role sees the domains its work needs; entries of other domains are hidden (not listed).
3. Restricted entries (R: child protection, looked-after, domestic abuse in social care; sexual and
   mental health in health) show to roles permitted that domain's restricted entries; to others
   they are withheld: listed without content, with how to request access. Very restricted (V)
   entries are withheld from everyone.
4. Break-glass (roles that may, with a stated reason, audited) shows withheld entries of the
   domains the role sees. It never opens another area's family or overrides consent.
5. A family's withdrawal of consent for a partner hides that partner's entries from everyone.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from schemas.envelope import Sensitivity
from schemas.event_types import Domain

COUNTY_WIDE = "*"


class Role(StrEnum):
    HUB_PRACTITIONER = "hub-practitioner"
    HEALTH_VISITOR = "health-visitor"
    SCHOOL_NURSE = "school-nurse"
    SOCIAL_WORKER = "social-worker"
    SCHOOL_STAFF = "school-staff"
    VOLUNTARY_SECTOR_WORKER = "voluntary-sector-worker"
    HUB_MANAGER = "hub-manager"
    OPERATIONS = "operations"


class Visibility(StrEnum):
    SHOWN = "shown"
    WITHHELD = "withheld"
    """Listed as a withheld entry (date, domain, partner) with how to request access."""
    HIDDEN = "hidden"
    """Not listed at all."""


@dataclass(frozen=True)
class Grant:
    """What a role may do: open families, see domains, see restricted entries of some domains,
    break the glass, read the audit trail."""

    label: str
    families: bool
    domains: frozenset[Domain]
    restricted: frozenset[Domain] = frozenset()
    break_glass: bool = False
    audit: bool = False


ALL_DOMAINS = frozenset(Domain)
_LIMITED = frozenset({Domain.EDUCATION, Domain.COMMUNITY, Domain.HUB})
GRANTS: dict[Role, Grant] = {
    Role.HUB_PRACTITIONER: Grant("Hub practitioner", True, ALL_DOMAINS, break_glass=True),
    Role.HEALTH_VISITOR: Grant(
        "Health visitor", True, ALL_DOMAINS, frozenset({Domain.HEALTH, Domain.SOCIAL_CARE}), break_glass=True
    ),
    Role.SCHOOL_NURSE: Grant("School nurse", True, ALL_DOMAINS, frozenset({Domain.HEALTH}), break_glass=True),
    Role.SOCIAL_WORKER: Grant(
        "Social worker", True, ALL_DOMAINS, frozenset({Domain.SOCIAL_CARE}), break_glass=True
    ),
    Role.SCHOOL_STAFF: Grant("School staff", True, _LIMITED),
    Role.VOLUNTARY_SECTOR_WORKER: Grant(
        "Voluntary sector worker", True, frozenset({Domain.COMMUNITY, Domain.HUB})
    ),
    Role.HUB_MANAGER: Grant("Hub manager", True, ALL_DOMAINS, break_glass=True, audit=True),
    Role.OPERATIONS: Grant("Operations", False, frozenset(), audit=True),
}


def grant(role: Role) -> Grant:
    return GRANTS[role]


def family_access(role: Role, user_areas: Collection[str], family_area: str | None) -> str | None:
    """None when the user may open the family, else the reason they may not (shown and audited)."""
    if not GRANTS[role].families:
        return f"the {GRANTS[role].label.lower()} role does not give access to family records"
    if COUNTY_WIDE in user_areas:
        return None
    if family_area is None:
        return "the family's hub area is not known; only county-wide staff may open it"
    if family_area not in user_areas:
        return "the family lives outside your hub area(s)"
    return None


def entry_visibility(
    role: Role,
    *,
    domain: Domain,
    sensitivity: Sensitivity,
    partner: str,
    withdrawn: Collection[str],
    break_glass: bool,
) -> Visibility:
    """How one entry shows to a user who may open the family (see `family_access`)."""
    rights = GRANTS[role]
    if partner in withdrawn or domain not in rights.domains:
        return Visibility.HIDDEN
    if sensitivity is Sensitivity.NORMAL:
        return Visibility.SHOWN
    if break_glass and rights.break_glass:
        return Visibility.SHOWN
    if sensitivity is Sensitivity.RESTRICTED and domain in rights.restricted:
        return Visibility.SHOWN
    return Visibility.WITHHELD


def visible_domains(role: Role) -> frozenset[Domain]:
    return GRANTS[role].domains


def may_break_glass(role: Role) -> bool:
    return GRANTS[role].break_glass


def audit_refusal(role: Role) -> str | None:
    """None when the role may read the audit trail (who read what: `hubnet audit`), else why not.
    The trail names families, people and the reasons staff gave, so it is for the roles that
    oversee reads, not for everyone who can run the command."""
    if GRANTS[role].audit:
        return None
    readers = " and ".join(GRANTS[r].label.lower() for r in Role if GRANTS[r].audit)
    return f"the audit trail is read by {readers} accounts, not the {GRANTS[role].label.lower()} role"
