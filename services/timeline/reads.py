"""Reads of the timeline store: persons, families, timelines and search, for the API, pages and CLI.

A base class of `TimelineStore` (services/timeline/store.py holds the schema and the writes).
Nothing here decides who may see what: services/timeline/access.py does, and passes the partners
and domains to leave out, so paging works on what the reader may see.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from schemas.envelope import Sensitivity
from schemas.event_types import Domain
from services.consent.store import ConsentRecords
from services.timeline.model import (
    Cursor,
    Family,
    Filters,
    Member,
    Person,
    Relationship,
    TimelineEntry,
    parse_utc,
    utc_text,
)

ENTRY_COLUMNS = (
    "event_id, person_id, origin_person_id, family_ids, occurred_at, recorded_at, partner, source_system, "
    "source_record_id, record_version, domain, event_type, title, summary, sensitivity, resources, trace_id"
)
MAX_CHAIN = 64
NEWEST = "ORDER BY occurred_at DESC, event_id DESC LIMIT ?"
DOMAINS = {d.value: d for d in Domain}
SENSITIVITIES = {s.value: s for s in Sensitivity}
"""Stored values to their enum members: a dict lookup is several times cheaper than an enum call,
made twice for every row a page reads."""
_CARER_WORDS = ("mother", "father", "parent", "carer", "guardian", "mth", "fth")


def marks(count: int) -> str:
    """Placeholders for an IN list; never empty, so `IN (NULL)` matches nothing."""
    return ", ".join("?" * count) or "NULL"


class TimelineReads(ConsentRecords):
    """Read methods over the timeline schema."""

    def canonical(self, person_id: str) -> str:
        """The surviving person of a merged-away id."""
        for _ in range(MAX_CHAIN):
            row = self._one("SELECT merged_into FROM person WHERE person_id = ?", (person_id,))
            if not row or row[0] is None:
                break
            person_id = row[0]
        return str(person_id)

    def person(self, person_id: str) -> Person | None:
        person_id = self.canonical(person_id)
        row = self._one(
            "SELECT person_id, name, birth_date, sex, postcode FROM person WHERE person_id = ?", (person_id,)
        )
        if not row:
            return None
        absorbed = self._column("SELECT person_id FROM person WHERE merged_into = ?", [person_id])
        ids = [person_id, *absorbed]
        tokens = self._column(f"SELECT token FROM ident WHERE person_id IN ({marks(len(ids))})", ids)  # noqa: S608
        families = self._column(f"SELECT family_id FROM member WHERE person_id IN ({marks(len(ids))})", ids)  # noqa: S608
        return Person(
            row[0], row[1], row[2], row[3], row[4], tuple(sorted(tokens)), tuple(sorted(set(families)))
        )

    def _column(self, sql: str, params: Sequence[Any]) -> list[str]:
        return [str(row[0]) for row in self._all(sql, params)]

    def family(self, family_id: str) -> Family | None:
        """A family with its current members (merged-away ids shown as their survivor)."""
        row = self._one("SELECT family_id, postcode, area FROM family WHERE family_id = ?", (family_id,))
        if not row:
            return None
        members: dict[str, Person] = {}
        for member_id in self._column("SELECT person_id FROM member WHERE family_id = ?", [family_id]):
            person = self.person(member_id)
            if person:
                members.setdefault(person.person_id, person)
        ids = list(members)
        among = f"person_id IN ({marks(len(ids))})"
        sql = f"SELECT person_id, related_id, relationship FROM relation WHERE {among}"  # noqa: S608
        relationships = [Relationship(r[0], self.canonical(r[1]), r[2]) for r in self._all(sql, ids)]
        relationships = [r for r in relationships if r.related_id in members and r.related_id != r.person_id]
        ordered = sorted(members.values(), key=lambda p: (p.birth_date or "9999", p.name))
        return Family(
            family_id=row[0],
            area=row[2],
            postcode=row[1],
            members=tuple(Member(p, _role(p, relationships)) for p in ordered),
            relationships=tuple(relationships),
        )

    def family_areas(self, family_ids: Sequence[str]) -> dict[str, str | None]:
        sql = f"SELECT family_id, area FROM family WHERE family_id IN ({marks(len(family_ids))})"  # noqa: S608
        return {str(r[0]): r[1] for r in self._all(sql, list(family_ids))}

    def entries(
        self,
        person_ids: Sequence[str],
        filters: Filters,
        *,
        cursor: Cursor | None = None,
        limit: int = 50,
        hide_partners: Iterable[str] = (),
        domains: Iterable[str] | None = None,
    ) -> list[TimelineEntry]:
        """Entries of these persons, newest first, after `cursor`. `domains` (None: all) and
        `hide_partners` are what the reader may not see; `filters` are what they asked for.

        One branch per person, merged (`UNION ALL`): each reads its person's newest entries from
        `entry_person_time` in order and stops at `limit`, so a page of a family costs its size,
        not the family's history, whatever other indexes the planner could choose from (with one
        `person_id IN (...)` SQLite took any index leading with the person and sorted them all)."""
        clauses: list[str] = []
        params: list[Any] = []

        def within(column: str, values: Iterable[str], negate: bool = False) -> None:
            chosen = sorted(values)
            clauses.append(f"{column} {'NOT IN' if negate else 'IN'} ({marks(len(chosen))})")
            params.extend(chosen)

        wanted = set(filters.domains) if filters.domains else None
        if domains is not None:
            wanted = set(domains) if wanted is None else wanted & set(domains)
        if wanted is not None:
            within("domain", wanted)
        if filters.partners:
            within("partner", filters.partners)
        if filters.event_types:
            within("event_type", filters.event_types)
        if hide := set(hide_partners):
            within("partner", hide, negate=True)
        if filters.since:
            clauses.append("occurred_at >= ?")
            params.append(utc_text(filters.since))
        if filters.until:
            clauses.append("occurred_at <= ?")
            params.append(utc_text(filters.until))
        if cursor:
            clauses.append("(occurred_at < ? OR (occurred_at = ? AND event_id < ?))")
            params += [cursor.occurred_at, cursor.occurred_at, cursor.event_id]
        persons = list(dict.fromkeys(person_ids))
        where = " AND ".join(["person_id = ?", *clauses])
        branch = f"SELECT * FROM (SELECT {ENTRY_COLUMNS} FROM entry WHERE {where} {NEWEST}) AS newest"  # noqa: S608
        sql = f"{' UNION ALL '.join([branch] * len(persons))} {NEWEST}"
        values = [value for person_id in persons for value in (person_id, *params, limit)]
        return [entry_of(row) for row in self._all(sql, [*values, limit])] if persons else []

    def entry(self, event_id: str) -> TimelineEntry | None:
        row = self._one(f"SELECT {ENTRY_COLUMNS} FROM entry WHERE event_id = ?", (event_id,))  # noqa: S608
        return entry_of(row) if row else None

    def partners(self, person_ids: Sequence[str], domains: Sequence[str]) -> list[str]:
        """Partners with entries of these persons in these domains (a role's visible domains: naming
        a partner whose entries the role may not see, such as social care, would itself tell)."""
        among = f"person_id IN ({marks(len(person_ids))}) AND domain IN ({marks(len(domains))})"
        sql = f"SELECT DISTINCT partner FROM entry WHERE {among} ORDER BY partner"  # noqa: S608
        return self._column(sql, [*person_ids, *domains])

    def count_entries(self) -> int:
        return int(self._one("SELECT COUNT(*) FROM entry")[0])

    def search(
        self,
        *,
        token: str | None = None,
        family_key: str | None = None,
        birth_date: str | None = None,
        given_key: str | None = None,
        postcode: str | None = None,
        limit: int = 50,
    ) -> list[Person]:
        """Persons by identifier token, by family name + date of birth (given name optional), or by
        postcode; merged-away persons answer as their survivor."""
        if token:
            ids = self._column("SELECT person_id FROM ident WHERE token = ?", [token])
        elif family_key and birth_date:
            sql = "SELECT person_id FROM person WHERE family_key = ? AND birth_date = ?"
            params = [family_key, birth_date]
            if given_key:
                sql += " AND given_key = ?"
                params.append(given_key)
            ids = self._column(f"{sql} LIMIT {int(limit)}", params)
        elif postcode:
            sql = f"SELECT person_id FROM person WHERE postcode = ? LIMIT {int(limit)}"  # noqa: S608
            ids = self._column(sql, [postcode])
        else:
            return []
        found: dict[str, Person] = {}
        for person_id in ids:
            if person := self.person(person_id):
                found.setdefault(person.person_id, person)
        return list(found.values())[:limit]


def _role(person: Person, relationships: Sequence[Relationship]) -> str:
    """Carer when someone in the family names them as a parent or carer; child when they name one."""
    for r in relationships:
        if any(word in r.relationship for word in _CARER_WORDS):
            if r.related_id == person.person_id:
                return "carer"
            if r.person_id == person.person_id:
                return "child"
    return "member"


def entry_of(row: Sequence[Any]) -> TimelineEntry:
    return TimelineEntry(
        event_id=row[0],
        person_id=row[1],
        origin_person_id=row[2],
        family_ids=tuple(orjson.loads(row[3])),
        occurred_at=parse_utc(row[4]),
        recorded_at=parse_utc(row[5]),
        partner=row[6],
        source_system=row[7],
        source_record_id=row[8],
        record_version=row[9],
        domain=DOMAINS[row[10]],
        event_type=row[11],
        title=row[12],
        summary=row[13],
        sensitivity=SENSITIVITIES[row[14]],
        resources=tuple(orjson.loads(row[15])),
        trace_id=row[16],
    )
