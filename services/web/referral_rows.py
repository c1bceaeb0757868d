"""Referral inbox rows in words for the staff UI: whose family, which child and how old, the need
as the hub names it, and when it is due ("in 3 hours", "2 days overdue").

The referral store keeps no names (data minimisation, docs/referrals.md); names come from the
timeline store, and only for families the signed-in user may open (the timeline's own family
rule, services/timeline/policy.py). A family the user may not open, or one not on the timeline
yet, is said so in words, never shown by a name it should not have.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from services.referrals.api import Summary
from services.referrals.network import Network
from services.timeline.entry_view import when_text
from services.timeline.model import Family
from services.timeline.policy import family_access
from services.timeline.reads import TimelineReads
from services.timeline.users import Principal
from services.web.referral_words import need_words, service_words

NOT_ON_TIMELINE = "not on the timeline yet"
OUTSIDE_AREAS = "a family outside your hub areas"


@dataclass(frozen=True)
class InboxRow:
    """One inbox line: the API's summary plus what a person reads instead of codes."""

    summary: Summary
    need: str
    service: str
    child: str
    family: str
    due: str
    overdue: bool


def due_phrase(due_at: datetime | None, now: datetime) -> tuple[str, bool]:
    """("in 3 hours", False) or ("2 days overdue", True); ("", False) when nothing is due."""
    if due_at is None:
        return "", False
    seconds = (due_at - now).total_seconds()
    span = _span(abs(seconds))
    if seconds >= 0:
        return (f"in {span}" if span else "due now"), False
    return (f"{span} overdue" if span else "due now"), True


def due_words(due_at: str | None, now: datetime) -> str:
    """A referral's deadline for its page: "9 December 2026 at 17:00 (in 1 day)"; "" when none."""
    due = _parse(due_at)
    if due is None:
        return ""
    return f"{when_text(due.isoformat())} ({due_phrase(due, now)[0]})"


def _span(seconds: float) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return ""


def age_words(birth_date: str, today: date) -> str:
    """'3 years', '14 months' (under two, months say more), '' when the date is unknown."""
    try:
        born = date.fromisoformat(birth_date[:10])
    except ValueError:
        return ""
    months = (today.year - born.year) * 12 + today.month - born.month - (today.day < born.day)
    if months < 0:
        return ""
    if months < 24:
        return f"{months} month{'' if months == 1 else 's'}"
    return f"{months // 12} years"


class RowBuilder:
    """Builds rows for one signed-in user at one time; caches each family read once per page."""

    def __init__(self, reads: TimelineReads, network: Network, who: Principal, now: datetime) -> None:
        self.reads, self.network, self.who, self.now = reads, network, who, now
        self._families: dict[str, Family | None] = {}

    def row(self, summary: Summary, person_id: str, family_id: str) -> InboxRow:
        due, overdue = due_phrase(_parse(summary.due_at), self.now)
        child, family = self._names(person_id, family_id)
        need = need_words(self.network, summary.need)
        service = service_words(self.network, summary.offer_id, summary.district)
        return InboxRow(summary=summary, need=need, service=service, child=child, family=family, due=due,
                        overdue=overdue)  # fmt: skip

    def _names(self, person_id: str, family_id: str) -> tuple[str, str]:
        if family_id not in self._families:
            self._families[family_id] = self.reads.family(family_id)
        family = self._families[family_id]
        if family is None:
            return NOT_ON_TIMELINE, NOT_ON_TIMELINE
        if family_access(self.who.role, self.who.areas, family.area):
            return OUTSIDE_AREAS, OUTSIDE_AREAS
        carers = [m.person.name for m in family.members if m.role == "carer" and m.person.name]
        subject = next((m.person for m in family.members if m.person.person_id == person_id), None)
        if subject is None:
            subject = self.reads.person(person_id)
        child = NOT_ON_TIMELINE
        if subject is not None:
            age = age_words(subject.birth_date, self.now.date())
            child = f"{subject.name}, {age}" if age else subject.name
        names = [m.person.name for m in family.members if m.person.name]
        return child, ", ".join(carers or names) or "no names recorded"


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
