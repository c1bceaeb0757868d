"""The family summary at the top of the family page: members with ages, key workers, open
referrals, each child's next health-visiting review, immunisations due or overdue, school and
attendance band, and when the reader last visited.

Pure: the family, its entries as one reader may see them (`EntryView`s), today and the open
referrals in; a `FamilySummary` out. Only entries shown to the reader count: a withheld or hidden
entry never reaches a fact, so a role cannot learn from the summary what its timeline withholds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from schemas.event_types import EventType
from services.timeline.access import FACTS_MAX, EntryView
from services.timeline.child_health import ImmunisationStatus, ReviewDue, immunisations_due, next_review
from services.timeline.model import Family, Filters, Member, TimelineEntry
from services.timeline.policy import Visibility
from services.timeline.schedules import Schedules, default_schedules

KEY_WORKER_DAYS = 365
KEY_WORKERS_SHOWN = 8
CHILD_UNDER_YEARS = 19
PERSISTENT_ABSENCE = 10.0
"""DfE: a pupil missing 10% or more of possible sessions is persistently absent."""
SEVERE_ABSENCE = 50.0
"""DfE: a pupil missing 50% or more of possible sessions is severely absent."""
VISIT_GAP = timedelta(minutes=30)
"""Reads of a family closer together than this are one visit (paging, filtering, coming back)."""
PRACTITIONER_KEYS = ("actor", "individual", "performer", "requester", "author", "recorder", "asserter")
CHILD_HEALTH_TYPES = (EventType.IMMUNISATION.value, EventType.HEALTH_VISITOR_REVIEW.value)
"""Read over a child's whole life (a few dozen entries per child), one read per type: with one type
the store seeks them by type (`entry_type_person`); with two, SQLite read the family's whole
history in time order to find them."""
ATTENDANCE_TYPES = frozenset({EventType.ATTENDANCE.value})
ATTENDANCE_READ = 60
"""Newest attendance returns read: three terms a year, so years of every school-age child's latest."""
KEY_WORKER_READ = 300
"""Newest entries of the last year read for key workers: bounds a page of a family with a long
history (organisations only seen before those are not named)."""


def summary_reads(since: datetime) -> list[tuple[Filters, int]]:
    """What the summary reads, as (filters, how many newest): bounded whatever the family's size."""
    return [
        *((Filters(event_types=frozenset({kind})), FACTS_MAX) for kind in CHILD_HEALTH_TYPES),
        (Filters(event_types=ATTENDANCE_TYPES), ATTENDANCE_READ),
        (Filters(since=since), KEY_WORKER_READ),
    ]


@dataclass(frozen=True)
class Attendance:
    school: str
    period: str
    attended: float
    missed: float
    band: str
    as_of: date


@dataclass(frozen=True)
class MemberSummary:
    person_id: str
    name: str
    relation: str
    age: str
    review: ReviewDue | None = None
    immunisations: ImmunisationStatus | None = None
    attendance: Attendance | None = None


@dataclass(frozen=True)
class KeyWorker:
    organisation: str
    people: tuple[str, ...]
    last_seen: date


@dataclass(frozen=True)
class OpenReferral:
    """An open referral the reader may see (the caller applies the referral rules)."""

    referral_id: str
    need: str
    status: str
    since: date


@dataclass(frozen=True)
class FamilySummary:
    members: tuple[MemberSummary, ...]
    key_workers: tuple[KeyWorker, ...]
    referrals: tuple[OpenReferral, ...]
    last_visit: datetime | None
    schedules: Schedules = field(repr=False)


def summarise(
    family: Family,
    views: Iterable[EntryView],
    today: date,
    *,
    referrals: Sequence[OpenReferral] = (),
    last_visit: datetime | None = None,
    schedules: Schedules | None = None,
) -> FamilySummary:
    """The summary of `family` from the entries shown to the reader (withheld ones are dropped here)."""
    schedules = schedules or default_schedules()
    shown = [v.entry for v in views if v.visibility is Visibility.SHOWN]
    by_person: dict[str, list[TimelineEntry]] = {}
    for entry in shown:
        by_person.setdefault(entry.person_id, []).append(entry)
    members = tuple(
        _member(m, by_person.get(m.person.person_id, []), today, schedules) for m in family.members
    )
    return FamilySummary(members, key_workers(shown, today), tuple(referrals), last_visit, schedules)


def _member(member: Member, entries: list[TimelineEntry], today: date, schedules: Schedules) -> MemberSummary:
    person = member.person
    born = birth_date(person.birth_date)
    base = MemberSummary(person.person_id, person.name, member.role, age_text(born, today))
    if born is None or member.role == "carer" or today >= _years_on(born, CHILD_UNDER_YEARS):
        return base
    return MemberSummary(
        base.person_id, base.name, base.relation, base.age,
        review=next_review(born, entries, today, schedules.reviews),
        immunisations=immunisations_due(born, entries, today, schedules.immunisations),
        attendance=latest_attendance(entries),
    )  # fmt: skip


def birth_date(text: str) -> date | None:
    """A full date of birth; a partial or missing one gives no age (and no schedule)."""
    try:
        return date.fromisoformat(text[:10]) if len(text) >= 10 else None
    except ValueError:
        return None


def _years_on(born: date, years: int) -> date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # 29 February
        return born.replace(year=born.year + years, day=28)


def age_text(born: date | None, today: date) -> str:
    """Age as staff say it: days, then weeks to 8 weeks, months to 2 years, then years."""
    if born is None:
        return "age not known"
    if born > today:
        return "not born yet"
    days = (today - born).days
    months = (today.year - born.year) * 12 + today.month - born.month - (today.day < born.day)
    if days < 14:
        return _plural(days, "day")
    if days < 56:
        return _plural(days // 7, "week")
    if months < 24:
        return _plural(months, "month")
    return _plural(months // 12, "year")


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'}"


def latest_attendance(entries: Iterable[TimelineEntry]) -> Attendance | None:
    """The band of the most recent attendance figures (the school's latest return)."""
    latest = max(
        (e for e in entries if e.event_type == EventType.ATTENDANCE.value),
        key=lambda e: (e.occurred_at, e.event_id),
        default=None,
    )
    observation = next(
        (r for r in latest.resources if r.get("resourceType") == "Observation"), None
    ) if latest else None  # fmt: skip
    attended = _number((observation or {}).get("valueQuantity"))
    if latest is None or observation is None or attended is None:
        return None
    components = {_code(c.get("code")): c for c in observation.get("component") or ()}
    missed = _number(components.get("absence-rate", {}).get("valueQuantity"))
    missed = round(100 - attended, 1) if missed is None else missed
    band = (
        "Severely absent" if missed >= SEVERE_ABSENCE
        else "Persistently absent" if missed >= PERSISTENT_ABSENCE
        else "Not persistently absent"
    )  # fmt: skip
    period = str(components.get("reporting-period", {}).get("valueString", ""))
    school = _reference_name((observation.get("performer") or [{}])[0])
    return Attendance(school, period, attended, missed, band, latest.occurred_at.date())


def _number(quantity: Any) -> float | None:
    value = quantity.get("value") if isinstance(quantity, dict) else None
    return float(value) if isinstance(value, int | float) else None


def _code(concept: Any) -> str:
    codings = concept.get("coding") if isinstance(concept, dict) else None
    return str(codings[0].get("code", "")) if codings else ""


def _reference_name(reference: dict[str, Any]) -> str:
    identifier = reference.get("identifier") or {}
    return str(reference.get("display") or identifier.get("value") or "school not named")


def key_workers(entries: Iterable[TimelineEntry], today: date) -> tuple[KeyWorker, ...]:
    """Organisations (and the professionals they named) involved in the last year, latest first."""
    since = today - timedelta(days=KEY_WORKER_DAYS)
    last: dict[str, date] = {}
    people: dict[str, set[str]] = {}
    for entry in entries:
        day = entry.occurred_at.date()
        if day < since or day > today:
            continue
        last[entry.partner] = max(day, last.get(entry.partner, day))
        people.setdefault(entry.partner, set()).update(practitioners(entry.resources))
    ordered = sorted(last, key=lambda org: (last[org], org), reverse=True)[:KEY_WORKERS_SHOWN]
    return tuple(KeyWorker(org, tuple(sorted(people[org])), last[org]) for org in ordered)


def practitioners(resources: Iterable[dict[str, Any]]) -> set[str]:
    """Names of professionals in an event: Practitioner resources and references to practitioners."""
    names: set[str] = set()
    for resource in resources:
        if resource.get("resourceType") == "Practitioner":
            names.update(filter(None, (_human_name(n) for n in resource.get("name") or ())))
        _named_references(resource, names)
    return names


def _named_references(node: Any, found: set[str]) -> None:
    """Add to `found` the display of every reference to a practitioner under `node` (one set for
    the whole walk: the summary walks hundreds of entries a page)."""
    if isinstance(node, list):
        for item in node:
            if isinstance(item, dict | list):
                _named_references(item, found)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in PRACTITIONER_KEYS and isinstance(value, dict) and _is_practitioner(value):
                found.add(str(value["display"]))
            elif isinstance(value, dict | list):
                _named_references(value, found)


def _is_practitioner(reference: dict[str, Any]) -> bool:
    kind = reference.get("type") or str(reference.get("reference", "")).split("/")[0]
    return kind == "Practitioner" and bool(reference.get("display"))


def _human_name(name: dict[str, Any]) -> str:
    text = name.get("text")
    return str(text) if text else " ".join([*(name.get("given") or ()), name.get("family") or ""]).strip()


def previous_visit(reads: Iterable[datetime], now: datetime, gap: timedelta = VISIT_GAP) -> datetime | None:
    """The end of the reader's previous visit: reads closer than `gap` are one visit, and the visit
    going on now (reads up to `now`) is not it. None: never visited before."""
    newer = now
    for read in sorted((r for r in reads if r <= now), reverse=True):
        if newer - read >= gap:
            return read
        newer = read
    return None
