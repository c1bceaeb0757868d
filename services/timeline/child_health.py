"""A child's next mandated health-visiting review and immunisations due or overdue, from the
child's date of birth, the entries recorded, today and the schedules (services/timeline/schedules.py).

Pure: entries and a date in, facts out; no store, no clock. The caller passes only the entries its
reader may see, so "no record" here always means "no record you can see".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from connectors.hv_csv.resources import REVIEW_TYPE_SYSTEM
from schemas.event_types import EventType
from services.timeline.model import TimelineEntry
from services.timeline.schedules import Age, Immunisations, Reviews

ReviewState = Literal["upcoming", "due", "overdue"]
REVIEW_AGE_LIMIT_MONTHS = 36
"""After the third birthday no health-visiting review is shown as due: the last window (2-2½ years)
has long closed and the school-age service takes over."""


@dataclass(frozen=True)
class ReviewDue:
    name: str
    state: ReviewState
    start: date
    end: date


@dataclass(frozen=True)
class DoseDue:
    name: str
    due: date
    overdue: bool


@dataclass(frozen=True)
class ImmunisationStatus:
    due: tuple[DoseDue, ...]
    """Doses due or overdue today with no record of them, earliest first."""
    next_on: date | None
    """When the next scheduled doses fall due (none: the schedule is finished or nothing is left)."""
    next_names: tuple[str, ...]
    recorded: bool
    """Whether any immunisation entry of the child reached the reader. Without one, `due` is the
    whole schedule to date and says nothing about the child: hubnet knows only what partners sent,
    and "no record received" is not "not given", so the summary says no records were received
    instead of listing those doses as overdue."""


def _resources(
    entries: Iterable[TimelineEntry], event_type: EventType, kind: str
) -> Iterator[dict[str, Any]]:
    for entry in entries:
        if entry.event_type == event_type.value:
            yield from (r for r in entry.resources if r.get("resourceType") == kind)


def completed_reviews(entries: Iterable[TimelineEntry]) -> set[str]:
    """Review type codes of finished health-visiting contacts (not attended or declined: not done)."""
    done: set[str] = set()
    for encounter in _resources(entries, EventType.HEALTH_VISITOR_REVIEW, "Encounter"):
        if encounter.get("status") != "finished":
            continue
        for concept in encounter.get("type") or ():
            codings = concept.get("coding") or ()
            done |= {c.get("code", "") for c in codings if c.get("system") == REVIEW_TYPE_SYSTEM}
    return done


def next_review(
    born: date, entries: Iterable[TimelineEntry], today: date, reviews: Reviews
) -> ReviewDue | None:
    """The first review after the last one done; None once all are done or the child is 3 or over."""
    if today >= Age(months=REVIEW_AGE_LIMIT_MONTHS).on(born):
        return None
    done = completed_reviews(entries)
    last_done = max((n for n, r in enumerate(reviews.review) if r.code in done), default=-1)
    for review in reviews.review[last_done + 1 :]:
        start, end = review.start.on(born), review.end.on(born)
        state: ReviewState = "upcoming" if today < start else "due" if today <= end else "overdue"
        return ReviewDue(review.name, state, start, end)
    return None


def doses_given(entries: Iterable[TimelineEntry], schedule: Immunisations) -> Counter[str]:
    """Completed doses per product: each Immunization counts once, for the first product it names."""
    given: Counter[str] = Counter()
    for immunisation in _resources(entries, EventType.IMMUNISATION, "Immunization"):
        if immunisation.get("status") != "completed":
            continue
        product = schedule.product_of(_vaccine_text(immunisation.get("vaccineCode") or {}))
        if product is not None:
            given[product.key] += 1
    return given


def _vaccine_text(concept: dict[str, Any]) -> str:
    names = [concept.get("text") or "", *(c.get("display") or "" for c in concept.get("coding") or ())]
    return " ".join(names).lower()


def immunisations_due(
    born: date, entries: Sequence[TimelineEntry], today: date, schedule: Immunisations
) -> ImmunisationStatus:
    """Scheduled doses due by today with fewer doses of their product recorded, the next date, and
    whether the child has any immunisation entry at all (any status, any product, any partner)."""
    recorded = any(e.event_type == EventType.IMMUNISATION.value for e in entries)
    given = doses_given(entries, schedule)
    grace = timedelta(weeks=schedule.overdue_after_weeks)
    due: list[DoseDue] = []
    upcoming: dict[date, list[str]] = {}
    for dose in schedule.dose:
        if given[dose.product] >= dose.number:
            continue
        when = dose.due.on(born)
        if dose.until is not None and today > dose.until.on(born):
            continue  # no longer given at this age: missed, not due
        name = f"{schedule.name(dose.product)} dose {dose.number}"
        if when <= today:
            due.append(DoseDue(name, when, today > when + grace))
        else:
            upcoming.setdefault(when, []).append(name)
    first = min(upcoming, default=None)
    return ImmunisationStatus(tuple(due), first, tuple(upcoming[first]) if first else (), recorded)
