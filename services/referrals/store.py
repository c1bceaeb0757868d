"""Referral state: plain SQL behind one repository class, SQLite (WAL) by default.

Built on the workers' shared `SqlStore` (services/streams/sqlstore.py): portable SQL with `?`
placeholders, SQLite in WAL mode by default, PostgreSQL through the same DB-API calls. Nothing
here decides anything: the service calls these methods inside one `transaction()` per input
event, inbox action or timer, so a change, its capacity count, its SLA timer and its outgoing
messages (the `outbox` table, published by the worker) are stored whole or not at all. The worker
and the inbox API may share one file (WAL). Times are fixed-width UTC text, so text order is time
order in both databases.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

import orjson

from connectors.common.fhir_time import utc_stamp
from services.consent.store import ConsentRecords, decisions_migration
from services.referrals.lifecycle import TERMINAL, Status
from services.referrals.request import PersonFacts
from services.stores.migrations import Migration

SCHEMA_1 = """
CREATE TABLE IF NOT EXISTS referral (
    referral_id TEXT PRIMARY KEY, source_event_id TEXT NOT NULL, source_system TEXT NOT NULL,
    source_record_id TEXT NOT NULL, referrer TEXT NOT NULL, person_id TEXT NOT NULL,
    family_id TEXT NOT NULL, need TEXT, status TEXT NOT NULL, attempt INTEGER NOT NULL,
    offer_id TEXT, district TEXT, home_district TEXT, linked_to TEXT, reason TEXT NOT NULL,
    sensitivity TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    accepted_at TEXT, completed_at TEXT, escalated_at TEXT, seq INTEGER NOT NULL, request TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS referral_source ON referral (source_system, source_record_id);
CREATE INDEX IF NOT EXISTS referral_family ON referral (family_id, need, status);
CREATE INDEX IF NOT EXISTS referral_offer ON referral (offer_id, status);
CREATE INDEX IF NOT EXISTS referral_district ON referral (district, status);
CREATE TABLE IF NOT EXISTS attempt (
    referral_id TEXT NOT NULL, attempt INTEGER NOT NULL, offer_id TEXT, week TEXT NOT NULL,
    outcome TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL, explanation TEXT NOT NULL,
    PRIMARY KEY (referral_id, attempt));
CREATE TABLE IF NOT EXISTS place (
    offer_id TEXT NOT NULL, week TEXT NOT NULL, used INTEGER NOT NULL, PRIMARY KEY (offer_id, week));
CREATE TABLE IF NOT EXISTS person (
    person_id TEXT PRIMARY KEY, birth_date TEXT, outcode TEXT, send INTEGER);
CREATE TABLE IF NOT EXISTS consent (
    consent_id TEXT PRIMARY KEY, person_id TEXT NOT NULL, family_id TEXT NOT NULL,
    permit INTEGER NOT NULL, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS consent_person ON consent (person_id);
CREATE INDEX IF NOT EXISTS consent_family ON consent (family_id);
CREATE TABLE IF NOT EXISTS timer (
    referral_id TEXT PRIMARY KEY, attempt INTEGER NOT NULL, due_at TEXT NOT NULL, fired INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS timer_due ON timer (fired, due_at);
CREATE TABLE IF NOT EXISTS history (
    referral_id TEXT NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL, status TEXT NOT NULL,
    actor TEXT NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (referral_id, seq));
CREATE TABLE IF NOT EXISTS seen (event_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY, key BLOB NOT NULL, value BLOB NOT NULL, headers TEXT NOT NULL);
"""
REFERRALS_BY_OWNER = """
DROP INDEX referral_source;
CREATE UNIQUE INDEX referral_source ON referral (referrer, source_system, source_record_id)
"""
"""A referral's source record is (referrer, source system, record id): updates and retractions of
another partner never reach it."""
CONSENT_CARRY_OVER = """
INSERT INTO consent_decision
    (family_id, about, decision_id, person_id, permit, recorder, authority, received_at, stated_at)
SELECT family_id, 'carried-over:' || consent_id, consent_id, person_id, permit, '', 'partner', '', at
FROM consent;
DROP TABLE consent
"""
"""Every earlier consent row is kept as a standing decision (received 'before everything', recorder
unknown): a carried-over withdrawal keeps holding voluntary-sector referrals until staff record
the family's consent again, which is the safe reading of a history hubnet cannot re-order."""
PERSON_POSTCODE = "ALTER TABLE person ADD COLUMN postcode TEXT"
"""The county pack places full postcodes only; a person known before this by an outward code alone
has no postcode until a partner sends one again, and is routed to the hub manager meanwhile."""
MIGRATIONS = (
    Migration(1, "referrals, attempts, places, people, consent, timers, history, outbox", SCHEMA_1),
    Migration(2, "referral source records keyed by their referring partner", REFERRALS_BY_OWNER),
    decisions_migration(3, CONSENT_CARRY_OVER),
    Migration(4, "a person's full postcode, looked up in the county pack", PERSON_POSTCODE),
)


@dataclass(frozen=True)
class Referral:
    """One referral row; `request` holds what messages repeat (subjects, codes, the ServiceRequest)."""

    referral_id: str
    source_event_id: str
    source_system: str
    source_record_id: str
    referrer: str
    person_id: str
    family_id: str
    need: str | None
    status: Status
    attempt: int
    offer_id: str | None
    district: str | None
    home_district: str | None
    linked_to: str | None
    reason: str
    sensitivity: str
    created_at: str
    updated_at: str
    accepted_at: str | None
    completed_at: str | None
    escalated_at: str | None
    seq: int
    request: dict[str, Any]

    @property
    def open(self) -> bool:
        return self.status not in TERMINAL


@dataclass(frozen=True)
class Attempt:
    attempt: int
    offer_id: str | None
    week: str
    outcome: str
    reason: str
    at: str
    explanation: list[str]


@dataclass(frozen=True)
class Outgoing:
    seq: int
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


_COLUMNS = tuple(f.name for f in fields(Referral))
_COLUMN_LIST = ",".join(_COLUMNS)
_OPEN = tuple(s.value for s in Status if s not in TERMINAL)
_ATTEMPT = ("referral_id", "attempt", "offer_id", "week", "outcome", "reason", "at", "explanation")


def stamp(moment: datetime) -> str:
    return utc_stamp(moment)


class ReferralStore(ConsentRecords):
    """Repository over one DB-API connection; one `transaction()` per event, action or timer."""

    STORE = "referrals"
    MIGRATIONS = MIGRATIONS

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """The write lock is taken at the start (`write_transaction`), so the worker and the inbox
        API (sharing the store) never both read a referral and both write its next version."""
        with self.write_transaction():
            yield

    # referrals

    def get(self, referral_id: str) -> Referral | None:
        return self._referral("referral_id = ?", (referral_id,))

    def by_source(self, referrer: str, source_system: str, source_record_id: str) -> Referral | None:
        """The referral made from one partner's record: (referrer, source system, record id) is
        the record's identity, so another partner's message naming the same ids finds nothing."""
        return self._referral(
            "referrer = ? AND source_system = ? AND source_record_id = ?",
            (referrer, source_system, source_record_id),
        )

    def open_for(self, family_id: str, need: str) -> Referral | None:
        """The family's open referral for the same need, if any (the oldest): tell the story once."""
        marks = ",".join("?" * len(_OPEN))
        return self._referral(
            f"family_id = ? AND need = ? AND status IN ({marks}) ORDER BY created_at, referral_id",
            (family_id, need, *_OPEN),
        )

    def held_for(self, person_id: str, family_id: str) -> list[Referral]:
        return self.find(
            "status = ? AND (person_id = ? OR family_id = ?)", (Status.HELD, person_id, family_id)
        )

    def save(self, referral: Referral) -> None:
        """Insert or replace the whole row (the service builds the new state; no partial updates)."""
        values = [getattr(referral, c) for c in _COLUMNS]
        values[_COLUMNS.index("status")] = referral.status.value
        values[_COLUMNS.index("request")] = orjson.dumps(referral.request).decode()
        self._run(self.upsert("referral", _COLUMNS, ("referral_id",)), values)

    def find(self, where: str, params: Sequence[Any] = (), limit: int = 500) -> list[Referral]:
        """Referrals matching a WHERE clause of this module's callers (never user text)."""
        rows = self._run(
            f"SELECT {_COLUMN_LIST} FROM referral WHERE {where} LIMIT ?",  # noqa: S608 - callers' constant clauses
            (*params, limit),
        )
        return [_row(row) for row in rows.fetchall()]

    def _referral(self, where: str, params: Sequence[Any]) -> Referral | None:
        found = self.find(where, params, limit=1)
        return found[0] if found else None

    def open_at(self, offer_ids: Collection[str], limit: int = 500) -> list[Referral]:
        """Open referrals sent to these offers, oldest first: a service's inbox."""
        if not offer_ids:
            return []
        offers, states = ",".join("?" * len(offer_ids)), ",".join("?" * len(_OPEN))
        where = f"offer_id IN ({offers}) AND status IN ({states}) ORDER BY created_at"
        return self.find(where, (*offer_ids, *_OPEN), limit)

    def in_districts(
        self, districts: Collection[str], statuses: Collection[str], limit: int = 500
    ) -> list[Referral]:
        """Referrals of these statuses whose current district (or home district) is one of these."""
        if not districts or not statuses:
            return []
        places, states = ",".join("?" * len(districts)), ",".join("?" * len(statuses))
        where = (
            f"(district IN ({places}) OR home_district IN ({places})) AND status IN ({states}) "
            "ORDER BY created_at"
        )
        return self.find(where, (*districts, *districts, *statuses), limit)

    def overdue(self, now: datetime, districts: Collection[str], limit: int = 500) -> list[Referral]:
        """Open referrals past their SLA (escalated, or their timer is due) in these districts."""
        if not districts:
            return []
        places, states = ",".join("?" * len(districts)), ",".join("?" * len(_OPEN))
        where = (
            f"(district IN ({places}) OR home_district IN ({places})) AND status IN ({states}) AND "  # noqa: S608
            "(escalated_at IS NOT NULL OR referral_id IN (SELECT referral_id FROM timer WHERE due_at <= ?)) "
            "ORDER BY created_at"
        )
        return self.find(where, (*districts, *districts, *_OPEN, stamp(now)), limit)

    def count_open(self) -> int:
        marks = ",".join("?" * len(_OPEN))
        query = f"SELECT COUNT(*) FROM referral WHERE status IN ({marks})"  # noqa: S608 - placeholders only
        return int(self._run(query, _OPEN).fetchone()[0])

    # attempts and places

    def add_attempt(self, referral_id: str, attempt: Attempt) -> None:
        self._run(
            self.upsert("attempt", _ATTEMPT, ("referral_id", "attempt")),
            (
                referral_id,
                attempt.attempt,
                attempt.offer_id,
                attempt.week,
                attempt.outcome,
                attempt.reason,
                attempt.at,
                orjson.dumps(attempt.explanation).decode(),
            ),
        )

    def close_attempt(self, referral_id: str, number: int, outcome: str, reason: str) -> Attempt | None:
        self._run(
            "UPDATE attempt SET outcome = ?, reason = ? WHERE referral_id = ? AND attempt = ?",
            (outcome, reason, referral_id, number),
        )
        return next((a for a in self.attempts(referral_id) if a.attempt == number), None)

    def attempts(self, referral_id: str) -> list[Attempt]:
        rows = self._run(
            "SELECT attempt, offer_id, week, outcome, reason, at, explanation FROM attempt "
            "WHERE referral_id = ? ORDER BY attempt",
            (referral_id,),
        ).fetchall()
        return [
            Attempt(int(number), offer, week, outcome, reason, at, orjson.loads(explanation))
            for number, offer, week, outcome, reason, at, explanation in rows
        ]

    def used(self, offer_ids: Collection[str], week: str) -> Mapping[str, int]:
        """Places taken this week per offer (the router's `Load`)."""
        if not offer_ids:
            return {}
        marks = ",".join("?" * len(offer_ids))
        rows = self._run(
            f"SELECT offer_id, used FROM place WHERE week = ? AND offer_id IN ({marks})",  # noqa: S608
            (week, *offer_ids),
        )
        return {offer: int(used) for offer, used in rows.fetchall()}

    def take_place(self, offer_id: str, week: str, delta: int) -> None:
        """Count a place taken (+1) or given back (-1) in the week the referral was sent."""
        self._run(
            "INSERT INTO place (offer_id, week, used) VALUES (?, ?, 0) "
            "ON CONFLICT (offer_id, week) DO NOTHING",
            (offer_id, week),
        )
        self._run("UPDATE place SET used = used + ? WHERE offer_id = ? AND week = ?", (delta, offer_id, week))

    # people

    def person(self, person_id: str) -> PersonFacts:
        row = self._run(
            "SELECT birth_date, postcode, send FROM person WHERE person_id = ?", (person_id,)
        ).fetchone()
        if row is None:
            return PersonFacts()
        born, postcode, send = row
        return PersonFacts(
            date.fromisoformat(born) if born else None, postcode, None if send is None else bool(send)
        )

    def save_person(self, person_id: str, facts: PersonFacts) -> None:
        merged = self.person(person_id).merged(facts)
        self._run(
            self.upsert("person", ("person_id", "birth_date", "postcode", "send"), ("person_id",)),
            (
                person_id,
                merged.birth_date.isoformat() if merged.birth_date else None,
                merged.postcode,
                None if merged.send is None else int(merged.send),
            ),
        )

    # SLA timers: one per referral, for its current step

    def set_timer(self, referral_id: str, attempt: int, due: datetime) -> None:
        self._run(
            "INSERT INTO timer (referral_id, attempt, due_at, fired) VALUES (?, ?, ?, 0) "
            "ON CONFLICT (referral_id) DO UPDATE SET "
            "attempt = excluded.attempt, due_at = excluded.due_at, fired = 0",
            (referral_id, attempt, stamp(due)),
        )

    def clear_timer(self, referral_id: str) -> None:
        self._run("DELETE FROM timer WHERE referral_id = ?", (referral_id,))

    def due_timers(self, now: datetime, limit: int = 500) -> list[tuple[str, int]]:
        rows = self._run(
            "SELECT referral_id, attempt FROM timer WHERE fired = 0 AND due_at <= ? ORDER BY due_at LIMIT ?",
            (stamp(now), limit),
        )
        return [(rid, int(attempt)) for rid, attempt in rows.fetchall()]

    def fire_timer(self, referral_id: str) -> None:
        self._run("UPDATE timer SET fired = 1 WHERE referral_id = ?", (referral_id,))

    def timer_due(self, referral_id: str) -> str | None:
        row = self._run("SELECT due_at FROM timer WHERE referral_id = ?", (referral_id,)).fetchone()
        return str(row[0]) if row else None

    # history, inputs seen, outbox

    def add_history(self, referral: Referral, actor: str) -> None:
        self._run(
            self.upsert(
                "history", ("referral_id", "seq", "at", "status", "actor", "reason"), ("referral_id", "seq")
            ),
            (
                referral.referral_id,
                referral.seq,
                referral.updated_at,
                referral.status.value,
                actor,
                referral.reason,
            ),
        )

    def history(self, referral_id: str) -> list[tuple[str, str, str, str]]:
        """(at, status, actor, reason) in order."""
        rows = self._run(
            "SELECT at, status, actor, reason FROM history WHERE referral_id = ? ORDER BY seq", (referral_id,)
        )
        return [tuple(row) for row in rows.fetchall()]

    def seen(self, event_id: str) -> bool:
        return self._run("SELECT 1 FROM seen WHERE event_id = ?", (event_id,)).fetchone() is not None

    def remember(self, event_id: str) -> None:
        self._run("INSERT INTO seen (event_id) VALUES (?) ON CONFLICT (event_id) DO NOTHING", (event_id,))

    def queue(self, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        encoded = orjson.dumps([[name, raw.decode()] for name, raw in headers]).decode()
        self._run("INSERT INTO outbox (key, value, headers) VALUES (?, ?, ?)", (key, value, encoded))

    def outbox(self, limit: int = 500) -> list[Outgoing]:
        rows = self._run("SELECT seq, key, value, headers FROM outbox ORDER BY seq LIMIT ?", (limit,))
        return [
            Outgoing(seq, bytes(key), bytes(value), [(n, v.encode()) for n, v in orjson.loads(headers)])
            for seq, key, value, headers in rows.fetchall()
        ]

    def drop_outbox(self, up_to: int) -> None:
        self._run("DELETE FROM outbox WHERE seq <= ?", (up_to,))


def _row(row: Sequence[Any]) -> Referral:
    values = dict(zip(_COLUMNS, row, strict=True))
    values["status"] = Status(values["status"])
    values["request"] = orjson.loads(values["request"])
    return Referral(**values)
