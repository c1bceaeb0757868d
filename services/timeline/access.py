"""The one place the access policy is enforced: every read by the API and the web pages goes
through `TimelineAccess`, which asks services/timeline/policy.py, filters, and audits.

Every call writes one audit record (allowed or denied; break-glass views under their own action
with the stated reason), then returns the view or raises `AuthorisationError` with a sentence the
user may read. Search criteria are audited by kind ("nhs-number"), never by value. Opening a
family, person or entry by id that does not exist or is not the user's to open gets one answer,
`NOT_OPEN`, so a refusal never tells whether an id exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NoReturn

from schemas.errors import AuthorisationError, HubnetError
from schemas.identifiers import NHS_NUMBER, UPN, normalise_nhs_number
from services.identity.comparators import fold
from services.referrals.postcodes import normalise as normalise_postcode
from services.timeline.audit import AuditTrail
from services.timeline.free_text import Reader, redact_entry
from services.timeline.model import Cursor, Family, Filters, Person, TimelineEntry, utc_text
from services.timeline.policy import (
    Visibility,
    entry_visibility,
    family_access,
    grant,
    may_break_glass,
    visible_domains,
)
from services.timeline.store import TimelineStore
from services.timeline.users import Principal

MIN_REASON = 10
NOT_OPEN = (
    "This record is not open to you: it does not exist, or it is outside your hub area(s) or your "
    "role. If you need it, ask your hub manager."
)
"""One answer for "no such record" and "not yours to open", so an id's existence never leaks
(the audit record keeps the real reason)."""
PAGE_MAX = 200
FACTS_MAX = 20_000
"""Entries read for a family summary per filter: far above any family's history, a bound all the same."""


@dataclass(frozen=True)
class EntryView:
    """An entry as one user may see it; a withheld entry must not show its title, summary or FHIR."""

    entry: TimelineEntry
    visibility: Visibility
    free_text_withheld: int = 0
    """How many free texts of a shown entry were withheld from this reader (timeline/free_text.py)."""

    @property
    def withheld(self) -> bool:
        return self.visibility is Visibility.WITHHELD


@dataclass(frozen=True)
class TimelineView:
    entries: tuple[EntryView, ...]
    next_cursor: str | None
    partners: tuple[str, ...]
    break_glass: bool
    may_break_glass: bool


@dataclass(frozen=True)
class PageRequest:
    """Which page of a timeline: filters, cursor, size, and a break-glass reason if breaking glass."""

    filters: Filters = field(default_factory=Filters)
    cursor: str | None = None
    limit: int = 50
    break_glass: str | None = None


@dataclass(frozen=True)
class SearchQuery:
    """One way to find a person: an identifier, family name + date of birth, or a postcode."""

    nhs_number: str = ""
    upn: str = ""
    family_name: str = ""
    given_name: str = ""
    birth_date: str = ""
    postcode: str = ""

    def kind(self) -> str:
        """What was searched by, for the audit trail (the values are personal data)."""
        if self.nhs_number.strip():
            return "nhs-number"
        if self.upn.strip():
            return "upn"
        if self.family_name.strip() and self.birth_date.strip():
            return "name-and-birth-date"
        if self.postcode.strip():
            return "postcode"
        raise HubnetError("search by NHS number, UPN, family name with date of birth, or postcode")


class TimelineAccess:
    """Reads of the timeline on behalf of one signed-in user at a time."""

    def __init__(self, store: TimelineStore, audit: AuditTrail) -> None:
        self.store = store
        self.audit = audit

    def search(self, who: Principal, query: SearchQuery, limit: int = 50) -> list[Person]:
        """Persons matching the query in the user's hub areas only."""
        kind = query.kind()
        if not grant(who.role).families:
            self._deny(who, "person.search", None, "your role does not give access to family records")
        if kind == "nhs-number":
            found = self.store.search(token=f"{NHS_NUMBER}|{normalise_nhs_number(query.nhs_number)}")
        elif kind == "upn":
            found = self.store.search(token=f"{UPN}|{query.upn.strip().upper()}")
        elif kind == "name-and-birth-date":
            found = self.store.search(
                family_key=fold(query.family_name), birth_date=query.birth_date.strip(),
                given_key=fold(query.given_name) or None, limit=limit,
            )  # fmt: skip
        else:
            found = self.store.search(postcode=normalise_postcode(query.postcode), limit=limit)
        allowed = [p for p in found if self._person_denial(who, p) is None]
        self.audit.record(who, "person.search", f"{len(allowed)} persons", "allowed", f"search by {kind}")
        return allowed

    def family(self, who: Principal, family_id: str) -> Family:
        family = self.store.family(family_id)
        if family is None:
            self._deny_unseen(who, "family.read", family_id, "no such family")
        if reason := family_access(who.role, who.areas, family.area):
            self._deny_unseen(who, "family.read", family_id, reason)
        self.audit.record(who, "family.read", family_id, "allowed", _purpose(who))
        return family

    def person(self, who: Principal, person_id: str) -> Person:
        person = self.store.person(person_id)
        if person is None:
            self._deny_unseen(who, "person.read", person_id, "no such person")
        if reason := self._person_denial(who, person):
            self._deny_unseen(who, "person.read", person_id, reason)
        self.audit.record(who, "person.read", person.person_id, "allowed", _purpose(who))
        return person

    def family_timeline(self, who: Principal, family_id: str, request: PageRequest) -> TimelineView:
        """A family's timeline: its current members' entries, newest first."""
        family = self.store.family(family_id)
        if family is None:
            self._deny_unseen(who, "timeline.read", family_id, "no such family")
        if reason := family_access(who.role, who.areas, family.area):
            self._deny_unseen(who, "timeline.read", family_id, reason)
        members = [m.person.person_id for m in family.members]
        return self._timeline(who, family_id, members, [family_id], request)

    def person_timeline(self, who: Principal, person_id: str, request: PageRequest) -> TimelineView:
        person = self.store.person(person_id)
        if person is None:
            self._deny_unseen(who, "timeline.read", person_id, "no such person")
        if reason := self._person_denial(who, person):
            self._deny_unseen(who, "timeline.read", person_id, reason)
        families = list(person.family_ids)
        return self._timeline(who, person.person_id, [person.person_id], families, request)

    def entry(self, who: Principal, event_id: str, break_glass: str | None = None) -> EntryView:
        """One entry with its FHIR resources, if the user may open any family of its person."""
        entry = self.store.entry(event_id)
        person = self.store.person(entry.person_id) if entry else None
        if entry is None or person is None:
            self._deny_unseen(who, "entry.read", event_id, "no such entry")
        if reason := self._person_denial(who, person):
            self._deny_unseen(who, "entry.read", event_id, reason)
        glass = self._break_glass(who, "entry.read", event_id, break_glass)
        view = self._view(who, entry, self.store.withdrawn_partners(person.family_ids), glass)
        if view.visibility is Visibility.HIDDEN:
            self._deny_unseen(who, "entry.read", event_id, "this entry is not shown to your role")
        action = "entry.read.break-glass" if glass else "entry.read"
        self.audit.record(who, action, event_id, "allowed", break_glass if glass else _purpose(who))
        return view

    def family_facts(
        self,
        who: Principal,
        family_id: str,
        wanted: Sequence[tuple[Filters, int]],
        break_glass: str | None = None,
    ) -> tuple[EntryView, ...]:
        """The newest entries of the family matching each of `wanted` (filters, how many), as
        this user may see them, for the family summary; audited as `summary.read`. Entries of
        domains the role may not see and of partners whose consent is withdrawn are not even read."""
        family = self.store.family(family_id)
        if family is None:
            self._deny_unseen(who, "summary.read", family_id, "no such family")
        if reason := family_access(who.role, who.areas, family.area):
            self._deny_unseen(who, "summary.read", family_id, reason)
        glass = self._break_glass(who, "summary.read", family_id, break_glass)
        withdrawn = self.store.withdrawn_partners([family_id])
        domains = [d.value for d in visible_domains(who.role)]
        members = [m.person.person_id for m in family.members]
        found: dict[str, TimelineEntry] = {}
        for filters, limit in wanted:
            rows = self.store.entries(
                members, filters, limit=min(limit, FACTS_MAX), hide_partners=withdrawn, domains=domains
            )
            found.update((e.event_id, e) for e in rows)
        action = "summary.read.break-glass" if glass else "summary.read"
        self.audit.record(who, action, family_id, "allowed", break_glass if glass else _purpose(who))
        return tuple(self._view(who, e, withdrawn, glass) for e in found.values())

    def _timeline(
        self, who: Principal, target: str, person_ids: Sequence[str], family_ids: Sequence[str],
        request: PageRequest,
    ) -> TimelineView:  # fmt: skip
        glass = self._break_glass(who, "timeline.read", target, request.break_glass)
        try:
            after = Cursor.decode(request.cursor) if request.cursor else None
        except ValueError as error:
            raise HubnetError(str(error)) from None
        withdrawn = self.store.withdrawn_partners(family_ids)
        size = min(max(request.limit, 1), PAGE_MAX)
        domains = [d.value for d in visible_domains(who.role)]
        rows = self.store.entries(
            person_ids, request.filters, cursor=after, limit=size + 1,
            hide_partners=withdrawn, domains=domains,
        )  # fmt: skip
        page = rows[:size]
        more = len(rows) > len(page)
        views = tuple(self._view(who, e, withdrawn, glass) for e in page)
        next_cursor = (
            Cursor(utc_text(page[-1].occurred_at), page[-1].event_id).encode() if more and page else None
        )
        action = "timeline.read.break-glass" if glass else "timeline.read"
        self.audit.record(who, action, target, "allowed", request.break_glass if glass else _purpose(who))
        partners = tuple(p for p in self.store.partners(person_ids, domains) if p not in withdrawn)
        return TimelineView(views, next_cursor, partners, glass, may_break_glass(who.role))

    def _view(
        self, who: Principal, entry: TimelineEntry, withdrawn: frozenset[str], glass: bool
    ) -> EntryView:
        visibility = entry_visibility(
            who.role, domain=entry.domain, sensitivity=entry.sensitivity, partner=entry.partner,
            withdrawn=withdrawn, break_glass=glass,
        )  # fmt: skip
        if visibility is not Visibility.SHOWN:
            return EntryView(entry, visibility)
        reader = Reader(grant(who.role).restricted, break_glass=glass and may_break_glass(who.role))
        shown, withheld = redact_entry(entry, reader)
        return EntryView(shown, visibility, withheld)

    def check_break_glass(self, who: Principal, target: str, reason: str) -> None:
        """The web form's break-glass request: raises `AuthorisationError` (audited as a denied
        `timeline.read.break-glass` on the target, with why) for a role that may not, or a reason
        too short; an accepted one is audited by each read it opens."""
        self._break_glass(who, "timeline.read", target, reason)

    def _break_glass(self, who: Principal, action: str, target: str, reason: str | None) -> bool:
        if reason is None:
            return False
        if not may_break_glass(who.role):
            self._deny(who, f"{action}.break-glass", target, "your role may not use break-glass access")
        if len(reason.strip()) < MIN_REASON:
            self._deny(
                who, f"{action}.break-glass", target,
                f"break-glass access needs a reason of at least {MIN_REASON} characters",
            )  # fmt: skip
        return True

    def persons_denial(self, who: Principal, person_ids: Sequence[str]) -> str | None:
        """None when the user may open every one of these persons, else the first reason (not
        audited: the caller audits its own action). A person not on the timeline yet has no known
        hub area, so only county-wide staff may open it (rule 1)."""
        for person_id in person_ids:
            person = self.store.person(person_id)
            if person is None:
                reason = family_access(who.role, who.areas, None)
            else:
                reason = self._person_denial(who, person)
            if reason:
                return reason
        return None

    def _person_denial(self, who: Principal, person: Person) -> str | None:
        """None when any family of the person is open to the user, else the first reason."""
        areas = self.store.family_areas(person.family_ids)
        reasons = [family_access(who.role, who.areas, area) for area in areas.values()]
        if not reasons:
            return family_access(who.role, who.areas, None)
        return None if None in reasons else reasons[0]

    def _deny(self, who: Principal, action: str, target: str | None, reason: str) -> NoReturn:
        self.audit.record(who, action, target, "denied", reason)
        raise AuthorisationError(reason)

    def _deny_unseen(self, who: Principal, action: str, target: str, reason: str) -> NoReturn:
        """A refusal to open a record by id: audited with the real `reason`, answered with
        `NOT_OPEN` whether the record is missing or outside the user's areas or role."""
        self.audit.record(who, action, target, "denied", reason)
        raise AuthorisationError(NOT_OPEN)


def _purpose(who: Principal) -> str:
    return f"{who.role.value} access in hub area(s) {', '.join(who.areas)}"
