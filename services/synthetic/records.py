"""The two hand-offs of the generator: what happened (`LifeEvent`) and what a partner sent
(`SourceRecord`).

Service modules turn a family's life into `LifeEvent`s, each already assigned to the partner that
would record it and the format that partner sends. Format writers turn a `LifeEvent` into the
bytes of one record; the feed assembler groups `SourceRecord`s into delivery files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from services.synthetic.partners import Partner
from services.synthetic.people import Family, Person


class Expected(StrEnum):
    """What the matching connector should make of a record (the `expected` ground-truth column)."""

    EVENT = "event"
    REJECT = "reject"
    DUPLICATE = "duplicate"


@dataclass(slots=True)
class LifeEvent:
    """Something that happened to a person, as one partner will record it.

    `group` names the partner's feed within the format (e.g. `adt` or `vxu` for HL7), `detail`
    carries the facts the writer needs (review type, vaccine, outcome...), and `kin` the people the
    record names beside its subject, each with how they stand to it (`mother`, `father`,
    `step-parent`): NK1 segments, RelatedPersons, CTF contacts, the mother of a birth notification."""

    kind: str
    at: datetime
    person: Person
    family: Family
    partner: Partner
    fmt: str
    group: str
    detail: dict[str, Any] = field(default_factory=dict)
    kin: tuple[tuple[str, Person], ...] = ()


@dataclass(slots=True)
class SourceRecord:
    """One record as delivered: its bytes, the delivery file it goes to, and its truth."""

    partner: str
    fmt: str
    group: str
    period: str
    occurred: datetime
    record_id: str
    version: str
    person_id: str
    family_id: str
    body: bytes
    expected: Expected
    alone: bool = False
