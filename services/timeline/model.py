"""The timeline's records as the store returns them and the API and web pages show them.

Plain frozen dataclasses, free of SQL and HTTP, so the policy, the API and the templates share one
vocabulary. Times are aware UTC datetimes; `resources` are the FHIR R4 resources of the event.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from schemas.envelope import Sensitivity
from schemas.event_types import Domain


def utc_text(moment: datetime) -> str:
    """Fixed-width UTC ISO text: sorts as text in the same order as time, in SQLite and PostgreSQL."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc(text: str) -> datetime:
    """The inverse of `utc_text`; `fromisoformat` (about 20x faster than `strptime`: a family page
    parses two times per entry read) after checking the fixed shape `utc_text` writes. It reads
    the `Z` itself (Python 3.11), giving UTC without the `replace` that took most of the time."""
    if len(text) != UTC_TEXT_LENGTH or text[-1] != "Z" or text[10] != "T":
        raise ValueError(f"not a timeline time: {text!r}")
    return datetime.fromisoformat(text)


UTC_TEXT_LENGTH = len("2024-01-01T00:00:00.000000Z")


@dataclass(frozen=True)
class TimelineEntry:
    """One event on a person's (and so their families') timeline."""

    event_id: str
    person_id: str
    family_ids: tuple[str, ...]
    occurred_at: datetime
    recorded_at: datetime
    partner: str
    source_system: str
    source_record_id: str
    record_version: str
    domain: Domain
    event_type: str
    title: str
    summary: str
    sensitivity: Sensitivity
    resources: tuple[dict[str, Any], ...] = ()
    trace_id: str = ""
    origin_person_id: str = ""
    """The person identity resolution first gave the event; an unmerge moves it back there."""

    @property
    def restricted(self) -> bool:
        return self.sensitivity is not Sensitivity.NORMAL


@dataclass(frozen=True)
class Person:
    """What the hub knows of a person, for search results and the person page."""

    person_id: str
    name: str
    birth_date: str
    sex: str
    postcode: str
    identifiers: tuple[str, ...] = ()
    family_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Member:
    person: Person
    role: str
    """How the person stands in the family, as the hub learnt it: carer, child or member."""


@dataclass(frozen=True)
class Relationship:
    person_id: str
    related_id: str
    relationship: str


@dataclass(frozen=True)
class Family:
    """A household: its members, relationships between them, its area and postcode."""

    family_id: str
    area: str | None
    postcode: str
    members: tuple[Member, ...] = ()
    relationships: tuple[Relationship, ...] = ()


@dataclass(frozen=True)
class Filters:
    """Timeline filters; empty means everything."""

    domains: frozenset[str] = frozenset()
    partners: frozenset[str] = frozenset()
    event_types: frozenset[str] = frozenset()
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: just after this (occurred-at, event id), newest first."""

    occurred_at: str
    event_id: str

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"{self.occurred_at}|{self.event_id}".encode()).decode()

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """Raises `ValueError` for a token this API did not hand out."""
        try:
            occurred_at, event_id = base64.urlsafe_b64decode(token.encode()).decode().split("|")
            parse_utc(occurred_at)
        except (ValueError, UnicodeDecodeError) as error:
            raise ValueError("cursor is not one this API handed out") from error
        return cls(occurred_at, event_id)


@dataclass(frozen=True)
class Page:
    entries: tuple[TimelineEntry, ...]
    next_cursor: str | None = None
    partners: tuple[str, ...] = field(default=())
    """Every partner with entries on this timeline, for the filter form."""
