"""The county the security matrix reads: three families, each with one entry per domain x
sensitivity, and the staff app exactly as `hubnet serve api` assembles it.

- `fam-t`: Tendring, consent given to every partner;
- `fam-w`: Tendring, consent withdrawn for the partner that recorded every grid entry (a control
  entry from another partner shows the family is still readable);
- `fam-c`: Chelmsford, the other hub area.

Every grid entry carries a marker in its Encounter type (so in its title, summary and FHIR
resource) and its own day, shown in page listings even when the entry is withheld: a shown entry
is told by its marker, a withheld one by its day without its marker, a hidden one by neither.
Synthetic people only; NHS numbers from the 999 test range with valid check digits.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from schemas.envelope import Sensitivity, resource_id
from schemas.event_types import Domain, EventType
from schemas.linked import LinkedEvent
from services.timeline.policy import COUNTY_WIDE, Role, Visibility
from services.timeline.store import TimelineStore
from tests.unit.timeline.events import CHELMSFORD, TENDRING, feed, linked
from tests.unit.timeline.test_timeline_policy import EXPECTED
from tests.unit.timeline.world import consent_withdrawn

GRID_PARTNER = "grid-partner"
EVENT_OF_DOMAIN = {
    Domain.HEALTH: EventType.ENCOUNTER,
    Domain.EDUCATION: EventType.ATTENDANCE,
    Domain.SOCIAL_CARE: EventType.SOCIAL_CARE_ASSESSMENT,
    Domain.COMMUNITY: EventType.COMMUNITY_ACTIVITY,
    Domain.HUB: EventType.REFERRAL_REQUESTED,
}
NOTES_PARTNER = "notes-partner"
SENSITIVE_NOTE = "domestic abuse; child protection referral; HIV positive"
"""Issue #18's OBX-5 string, in `Observation.valueString` of an entry its partner labelled normal."""
SENSITIVE_TITLE = "Disclosure of domestic abuse and HIV status"
"""The same Observation's `code.text`: the entry's title is made from it."""
EVERYDAY_NOTE = "Came to stay and play with her dad; weight gain on track"
"""The Observation's `note`: no restricted term, so every reader of the entry reads it."""
USER_AREAS = {"in-tendring": TENDRING, "in-chelmsford": CHELMSFORD, "county-wide": COUNTY_WIDE}
SERVICES_OF = {
    Role.HUB_PRACTITIONER: ("family-support",),
    Role.HEALTH_VISITOR: ("infant-feeding",),
    Role.VOLUNTARY_SECTOR_WORKER: ("family-support", "food-bank"),
    Role.HUB_MANAGER: (),
}
"""The services each matrix user is assigned to (services/referrals/network.toml); the rest none.
A voluntary-sector worker's statutory assignment must give nothing (docs/referrals.md)."""


@dataclass(frozen=True)
class Family:
    family_id: str
    child: str
    area: str
    withdrawn: bool
    nhs: str
    given: str
    family_name: str
    birth: str
    postcode: str
    year: int


FAMILIES = {
    f.family_id: f
    for f in (
        Family("fam-t", "child-t", TENDRING, False, "9990000018", "Poppy", "Tendringson", "2021-02-03",
               "CO15 1AB", 2023),
        Family("fam-w", "child-w", TENDRING, True, "9990000026", "Wren", "Withdrawnly", "2020-04-05",
               "CO15 2CD", 2022),
        Family("fam-c", "child-c", CHELMSFORD, False, "9990000034", "Cara", "Chelmsworth", "2019-06-07",
               "CM1 2AB", 2021),
    )
}  # fmt: skip


@dataclass(frozen=True)
class GridEntry:
    family: Family
    domain: Domain
    sensitivity: Sensitivity
    day: datetime
    event_id: str = ""

    @property
    def marker(self) -> str:
        return f"MARK-{self.family.family_id}-{self.domain.value}-{self.sensitivity.value}"

    @property
    def listed_day(self) -> str:
        """How a page lists the entry's day, withheld or not (services/web/templates/macros.html)."""
        return self.day.strftime("%d %B %Y")


def _grid_event(entry: GridEntry) -> LinkedEvent:
    family = entry.family
    encounter = {
        "resourceType": "Encounter",
        "id": resource_id("encounter", GRID_PARTNER, entry.marker),
        "status": "finished",
        "class": {"code": "AMB"},
        "type": [{"text": entry.marker}],
    }
    return linked(
        person=family.child, families=(family.family_id,), record=entry.marker, partner=GRID_PARTNER,
        event_type=EVENT_OF_DOMAIN[entry.domain], sensitivity=entry.sensitivity, extra=(encounter,),
        occurred=entry.day.isoformat()[:19], nhs=family.nhs, name=(family.given, family.family_name),
        birth=family.birth, postcode=family.postcode,
    )  # fmt: skip


def _control_event(family: Family) -> LinkedEvent:
    """A normal health entry from another partner: the family is readable even when every grid
    entry is hidden by the withdrawn consent."""
    return linked(
        person=family.child, families=(family.family_id,), record=f"control-{family.family_id}",
        partner="control-partner", occurred=f"{family.year - 1}-06-01T10:00:00", nhs=family.nhs,
        name=(family.given, family.family_name), birth=family.birth, postcode=family.postcode,
    )  # fmt: skip


def free_text_event(family: Family) -> LinkedEvent:
    """A normal health entry of another partner carrying the free texts above (services/timeline/
    free_text.py), on a day no grid entry has."""
    observation = {
        "resourceType": "Observation",
        "id": resource_id("observation", NOTES_PARTNER, family.family_id),
        "status": "final",
        "code": {"text": SENSITIVE_TITLE},
        "valueString": SENSITIVE_NOTE,
        "note": [{"text": EVERYDAY_NOTE}],
    }
    return linked(
        person=family.child, families=(family.family_id,), record=f"notes-{family.family_id}",
        partner=NOTES_PARTNER, occurred=f"{family.year - 1}-06-02T10:00:00", nhs=family.nhs,
        name=(family.given, family.family_name), birth=family.birth, postcode=family.postcode,
        extra=(observation,),
    )  # fmt: skip


def build_store(path: Path | str = ":memory:") -> tuple[TimelineStore, list[GridEntry]]:
    """The matrix county's timeline, in memory or in the SQLite file at `path` (a CLI's data dir)."""
    store = TimelineStore.open(path)
    grid: list[GridEntry] = []
    for family in FAMILIES.values():
        events = [_control_event(family), free_text_event(family)]
        if family.withdrawn:
            events.append(consent_withdrawn(GRID_PARTNER, family.family_id, family.child))
        for n, (domain, sensitivity) in enumerate(itertools.product(Domain, Sensitivity)):
            day = datetime(family.year, 1, 1, 10, tzinfo=UTC) + timedelta(days=n)
            event = _grid_event(GridEntry(family, domain, sensitivity, day))
            grid.append(GridEntry(family, domain, sensitivity, day, event.event.event_id))
            events.append(event)
        feed(store, *events)
    return store, grid


def opens_family(role: Role, user_area: str, family: Family) -> bool:
    """Rule 1 of docs/timeline.md: roles that work with families, in their own hub area."""
    return EXPECTED[role][0] and user_area in (COUNTY_WIDE, family.area)


def expected(role: Role, entry: GridEntry, glass: bool) -> Visibility:
    """Rules 2-5 of docs/timeline.md, from the role table written out in the policy's own test."""
    _, domains, restricted, may_glass = EXPECTED[role]
    if entry.family.withdrawn or entry.domain not in domains:
        return Visibility.HIDDEN
    if entry.sensitivity is Sensitivity.NORMAL or (glass and may_glass):
        return Visibility.SHOWN
    if entry.sensitivity is Sensitivity.RESTRICTED and entry.domain in restricted:
        return Visibility.SHOWN
    return Visibility.WITHHELD


def reads_sensitive_text(role: Role, glass: bool) -> bool:
    """docs/timeline.md, "Free text": SENSITIVE_NOTE names social-care and health categories, so
    only a role that sees both domains' restricted entries reads it, or one breaking the glass."""
    _, _, restricted, may_glass = EXPECTED[role]
    return (glass and may_glass) or {Domain.SOCIAL_CARE, Domain.HEALTH} <= set(restricted)


def sees_domain(role: Role, domain: Domain) -> bool:
    return domain in EXPECTED[role][1]


def may_break_glass(role: Role) -> bool:
    return EXPECTED[role][3]


def proxy_headers(role: Role, area_key: str) -> dict[str, str]:
    """The identity an OIDC proxy asserts (services/web/auth.py, `trust_proxy`): production's path."""
    return {
        "x-auth-request-user": user_name(role, area_key),
        "x-hubnet-role": role.value,
        "x-hubnet-areas": USER_AREAS[area_key],
        "x-hubnet-services": " ".join(SERVICES_OF.get(role, ())),
    }


def user_name(role: Role, area_key: str) -> str:
    return f"{role.value}@{area_key}"


def personal_data(family: Family) -> list[str]:
    """What must never show to a user who may not open the family."""
    return [family.nhs, family.given, family.family_name, family.birth]
