"""The timeline store: plain SQL behind one repository class, SQLite (WAL) by default.

Portable SQL on the shared `SqlStore` (services/streams/sqlstore.py), so PostgreSQL runs it too.
Writes come only from `apply` (one linked event's changes, one transaction, skipped when the
event id was applied before), so at-least-once delivery gives exactly-once results. Reads are for
the API, the web pages and the CLI; access policy is applied by the caller (services/timeline/access.py).

Indexes: `entry (person_id, occurred_at, event_id)` serves a family page (members' entries, newest
first), `entry (event_type, person_id, occurred_at, event_id)` the family summary's reads by type,
`entry (person_id, domain, partner)` the partners a reader may filter by, and
`person (family_key, birth_date)`, `person (postcode)`, `ident (token)` serve search.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from schemas.envelope import version_order
from services.consent.store import decisions_migration
from services.stores.migrations import Migration
from services.timeline.model import TimelineEntry, utc_text
from services.timeline.projector import Change, ConsentChange, Merge, PersonSeen, Retract, UpsertEntry
from services.timeline.reads import ENTRY_COLUMNS, TimelineReads

SCHEMA_1 = """
CREATE TABLE IF NOT EXISTS applied (event_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS entry (
    event_id TEXT PRIMARY KEY, person_id TEXT NOT NULL, origin_person_id TEXT NOT NULL,
    family_ids TEXT NOT NULL, occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL, partner TEXT NOT NULL,
    source_system TEXT NOT NULL, source_record_id TEXT NOT NULL, record_version TEXT NOT NULL,
    domain TEXT NOT NULL, event_type TEXT NOT NULL, title TEXT NOT NULL, summary TEXT NOT NULL,
    sensitivity TEXT NOT NULL, resources TEXT NOT NULL, trace_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS entry_person_time ON entry (person_id, occurred_at, event_id);
CREATE INDEX IF NOT EXISTS entry_origin ON entry (origin_person_id);
CREATE TABLE IF NOT EXISTS record (
    source_system TEXT NOT NULL, source_record_id TEXT NOT NULL, record_version TEXT NOT NULL,
    event_id TEXT, PRIMARY KEY (source_system, source_record_id));
CREATE TABLE IF NOT EXISTS person (
    person_id TEXT PRIMARY KEY, merged_into TEXT, name TEXT NOT NULL, family_key TEXT NOT NULL,
    given_key TEXT NOT NULL, birth_date TEXT NOT NULL, sex TEXT NOT NULL, postcode TEXT NOT NULL,
    stated_at TEXT NOT NULL, families_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS person_name_dob ON person (family_key, birth_date);
CREATE INDEX IF NOT EXISTS person_postcode ON person (postcode);
CREATE INDEX IF NOT EXISTS person_merged ON person (merged_into);
CREATE TABLE IF NOT EXISTS ident (token TEXT PRIMARY KEY, person_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ident_person ON ident (person_id);
CREATE TABLE IF NOT EXISTS member (
    family_id TEXT NOT NULL, person_id TEXT NOT NULL, PRIMARY KEY (family_id, person_id));
CREATE INDEX IF NOT EXISTS member_person ON member (person_id);
CREATE TABLE IF NOT EXISTS relation (
    person_id TEXT NOT NULL, related_id TEXT NOT NULL, relationship TEXT NOT NULL,
    PRIMARY KEY (person_id, related_id));
CREATE INDEX IF NOT EXISTS relation_related ON relation (related_id);
CREATE TABLE IF NOT EXISTS family (
    family_id TEXT PRIMARY KEY, postcode TEXT NOT NULL, area TEXT, stated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS consent (
    family_id TEXT NOT NULL, partner TEXT NOT NULL, permit INTEGER NOT NULL, at TEXT NOT NULL,
    PRIMARY KEY (family_id, partner));
CREATE TABLE IF NOT EXISTS audit (
    audit_id TEXT PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, actor_role TEXT, action TEXT NOT NULL,
    target TEXT, outcome TEXT NOT NULL, reason TEXT, trace_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
CREATE INDEX IF NOT EXISTS audit_target ON audit (target);
CREATE INDEX IF NOT EXISTS audit_actor ON audit (actor)
"""
RECORDS_BY_OWNER = """
CREATE TABLE record_by_owner (
    partner TEXT NOT NULL, source_system TEXT NOT NULL, source_record_id TEXT NOT NULL,
    record_version TEXT NOT NULL, event_id TEXT, PRIMARY KEY (partner, source_system, source_record_id));
INSERT INTO record_by_owner (partner, source_system, source_record_id, record_version, event_id)
    SELECT COALESCE((SELECT entry.partner FROM entry WHERE entry.event_id = record.event_id), ''),
           source_system, source_record_id, record_version, event_id
    FROM record;
DROP TABLE record;
ALTER TABLE record_by_owner RENAME TO record
"""
"""A record is (partner, source system, record id): the partner joins the key, so a retraction or
update only ever reaches the sender's own records. Existing rows take the partner of their entry;
a retracted record (no entry left) keeps an empty partner until `hubnet rebuild timeline`."""
CONSENT_CARRY_OVER = """
INSERT INTO consent_decision
    (family_id, about, decision_id, person_id, permit, recorder, authority, received_at, stated_at)
SELECT family_id, partner, 'carried-over', '', permit, '', 'partner', '', at FROM consent;
DROP TABLE consent
"""
"""Earlier decisions keep their force, received 'before everything' with an unknown recorder: any
decision received since replaces them, except that only staff may reverse a carried-over withdrawal."""
SUMMARY_INDEXES = """
CREATE INDEX IF NOT EXISTS entry_type_person ON entry (event_type, person_id, occurred_at, event_id);
CREATE INDEX IF NOT EXISTS entry_person_domain ON entry (person_id, domain, partner)
"""
"""The family summary's reads by event type (a child's immunisations and reviews, the latest
attendance returns) seek their entries instead of reading every entry of the family, and the
partners a reader may filter by come from the second index alone (no row read). Type first in the
first, so a family page read (no type) is never planned on it."""
MIGRATIONS = (
    Migration(1, "entries, records, persons, families, consent, audit", SCHEMA_1),
    Migration(2, "records keyed by their owning partner", RECORDS_BY_OWNER),
    decisions_migration(3, CONSENT_CARRY_OVER),
    Migration(4, "entries by event type and person, partners by person and domain", SUMMARY_INDEXES),
)
NEW_PERSON = (
    "INSERT INTO person (person_id, name, family_key, given_key, birth_date, sex, postcode, stated_at, "
    "families_at) VALUES (?, '', '', '', '', '', '', '', '') ON CONFLICT (person_id) DO NOTHING"
)
"""A person row to fill in later: named by a relation or a merge before any event of their own."""
RETRACTED_FOR_GOOD = "~"
"""Record version of a retraction that names no version: sorts after every number and timestamp."""


class TimelineStore(TimelineReads):
    """The timeline; `apply` per linked event, the rest are reads."""

    STORE = "timeline"
    MIGRATIONS = MIGRATIONS

    # writes

    def apply(self, event_id: str, changes: Sequence[Change], *, commit: bool = True) -> bool:
        """Write one event's changes whole (a savepoint); False, nothing written, when already applied.

        `commit=False` leaves them in the open transaction for `flush()`, so a worker commits many
        events at once (group commit) yet a failing event never undoes the others before it."""
        with self.savepoint("event"):
            fresh = not self._one("SELECT 1 FROM applied WHERE event_id = ?", (event_id,))
            if fresh:
                self._run("INSERT INTO applied (event_id) VALUES (?)", (event_id,))
                for change in changes:
                    self._apply(change)
        if commit:
            self.flush()
        return fresh

    def flush(self) -> None:
        """Commit the events applied with `commit=False`; readers (the API) see them from now."""
        self._db.commit()

    def _apply(self, change: Change) -> None:
        if isinstance(change, PersonSeen):
            self._person_seen(change)
        elif isinstance(change, UpsertEntry):
            self._upsert(change.entry)
        elif isinstance(change, Retract):
            self._retract(change)
        elif isinstance(change, ConsentChange):
            self.record_consent(change.decision)
        else:
            self._merge(change)

    def _upsert(self, entry: TimelineEntry) -> None:
        """Keep the highest version of a source record: a late older version changes nothing."""
        key = (entry.partner, entry.source_system, entry.source_record_id)
        row = self._record_row(key)
        if row and version_order(entry.record_version) <= version_order(row[0]):
            return
        if row and row[1]:
            self._run("DELETE FROM entry WHERE event_id = ?", (row[1],))
        person_id = self.canonical(entry.person_id)
        self._run(
            f"INSERT INTO entry ({ENTRY_COLUMNS}) VALUES ({', '.join('?' * 17)}) "  # noqa: S608
            "ON CONFLICT (event_id) DO NOTHING",
            (
                entry.event_id, person_id, entry.origin_person_id, orjson.dumps(entry.family_ids).decode(),
                utc_text(entry.occurred_at), utc_text(entry.recorded_at), entry.partner, entry.source_system,
                entry.source_record_id, entry.record_version, entry.domain.value, entry.event_type,
                entry.title, entry.summary, entry.sensitivity.value,
                orjson.dumps(list(entry.resources)).decode(), entry.trace_id,
            ),
        )  # fmt: skip
        self._record(*key, entry.record_version, entry.event_id)

    def _retract(self, change: Retract) -> None:
        """Retract the sender's own record; another partner's record of the same name is untouched."""
        key = (change.partner, change.source_system, change.source_record_id)
        row = self._record_row(key)
        if row and row[1]:
            self._run("DELETE FROM entry WHERE event_id = ?", (row[1],))
        version = change.version or (row[0] if row else RETRACTED_FOR_GOOD)
        if row and version_order(version) < version_order(row[0]):
            version = row[0]
        self._record(*key, version, None)

    def _record_row(self, key: tuple[str, str, str]) -> Any:
        return self._one(
            "SELECT record_version, event_id FROM record "
            "WHERE partner = ? AND source_system = ? AND source_record_id = ?",
            key,
        )

    def _record(self, partner: str, system: str, record_id: str, version: str, event_id: str | None) -> None:
        self._run(
            "INSERT INTO record (partner, source_system, source_record_id, record_version, event_id) "
            "VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (partner, source_system, source_record_id) DO UPDATE SET "
            "record_version = excluded.record_version, event_id = excluded.event_id",
            (partner, system, record_id, version, event_id),
        )

    def _person_seen(self, seen: PersonSeen) -> None:
        at = utc_text(seen.at)
        self._run(
            NEW_PERSON,
            (seen.person_id,),
        )
        stated = self._one("SELECT stated_at, families_at FROM person WHERE person_id = ?", (seen.person_id,))
        if seen.name and at >= stated[0]:
            self._run(
                "UPDATE person SET name = ?, family_key = ?, given_key = ?, birth_date = ?, sex = ?, "
                "postcode = CASE WHEN ? = '' THEN postcode ELSE ? END, stated_at = ? WHERE person_id = ?",
                (seen.name, seen.family_key, seen.given_key, seen.birth_date, seen.sex, seen.postcode,
                 seen.postcode, at, seen.person_id),
            )  # fmt: skip
        for token in seen.tokens:
            self._run(
                "INSERT INTO ident (token, person_id) VALUES (?, ?) ON CONFLICT (token) DO NOTHING",
                (token, seen.person_id),
            )
        if at >= stated[1]:
            self._run("DELETE FROM member WHERE person_id = ?", (seen.person_id,))
            self._run("UPDATE person SET families_at = ? WHERE person_id = ?", (at, seen.person_id))
            for family_id in seen.family_ids:
                self._join(family_id, seen.person_id)
        for family_id in seen.family_ids:
            self._run(
                "INSERT INTO family (family_id, postcode, area, stated_at) VALUES (?, '', NULL, '') "
                "ON CONFLICT (family_id) DO NOTHING",
                (family_id,),
            )
            if seen.postcode:
                self._run(
                    "UPDATE family SET postcode = ?, area = ?, stated_at = ? "
                    "WHERE family_id = ? AND stated_at <= ?",
                    (seen.postcode, seen.area, at, family_id, at),
                )
        for related_id, relationship in seen.related:
            self._run(
                "INSERT INTO relation (person_id, related_id, relationship) VALUES (?, ?, ?) "
                "ON CONFLICT (person_id, related_id) DO UPDATE SET relationship = excluded.relationship",
                (seen.person_id, related_id, relationship),
            )
            if not self._one("SELECT 1 FROM member WHERE person_id = ?", (related_id,)):
                for family_id in seen.family_ids:
                    self._join(family_id, related_id)

    def _join(self, family_id: str, person_id: str) -> None:
        self._run(
            "INSERT INTO member (family_id, person_id) VALUES (?, ?) "
            "ON CONFLICT (family_id, person_id) DO NOTHING",
            (family_id, person_id),
        )

    def _merge(self, merge: Merge) -> None:
        """A merge files the absorbed person's entries under the kept one; an unmerge moves back the
        entries identity resolution first gave the absorbed person."""
        if merge.unmerge:
            self._run("UPDATE person SET merged_into = NULL WHERE person_id = ?", (merge.absorbed,))
            self._run(
                "UPDATE entry SET person_id = ? WHERE origin_person_id = ?", (merge.absorbed, merge.absorbed)
            )
            return
        self._run(
            NEW_PERSON,
            (merge.absorbed,),
        )
        self._run("UPDATE person SET merged_into = ? WHERE person_id = ?", (merge.kept, merge.absorbed))
        self._run("UPDATE entry SET person_id = ? WHERE person_id = ?", (merge.kept, merge.absorbed))

    def clear_projection(self) -> None:
        """Empty everything rebuilt from fh.linked, keeping the audit trail (for a rebuild)."""
        with self.transaction():
            for table in (
                "applied",
                "entry",
                "record",
                "person",
                "ident",
                "member",
                "relation",
                "family",
                "consent_decision",
            ):
                self._run(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
