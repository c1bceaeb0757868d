"""Standing consent decisions in a reader's store: the same table and rules in the timeline store
and the referral store, each fed from `fh.linked` (so a rebuild replays them).

Each reader adds `decisions_migration(...)` to its own migrations and mixes `ConsentRecords` into
its store class. One row per (family, partner the decision is about) holds the standing decision;
`rules.replaces` decides whether a new one takes its place.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from connectors.common.fhir_time import utc_stamp
from services.consent.model import Authority, ConsentDecision
from services.consent.rules import replaces
from services.stores.migrations import Migration
from services.streams.sqlstore import SqlStore

DECISIONS_TABLE = """
CREATE TABLE consent_decision (
    family_id TEXT NOT NULL, about TEXT NOT NULL, decision_id TEXT NOT NULL, person_id TEXT NOT NULL,
    permit INTEGER NOT NULL, recorder TEXT NOT NULL, authority TEXT NOT NULL, received_at TEXT NOT NULL,
    stated_at TEXT, PRIMARY KEY (family_id, about));
CREATE INDEX consent_decision_person ON consent_decision (person_id)
"""
_COLUMNS = (
    "family_id", "about", "decision_id", "person_id", "permit", "recorder", "authority", "received_at",
    "stated_at",
)  # fmt: skip
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM consent_decision"  # noqa: S608 - fixed column names
EARLIEST = ""
"""`received_at` of decisions carried over from a store made before this table: sorts before every
time, so any decision received since replaces them (a permit needs staff: the recorder is unknown)."""


def decisions_migration(version: int, carry_over: str) -> Migration:
    """The migration adding the decisions table to a reader's store; `carry_over` is SQL moving
    that store's earlier consent rows in (withdrawals keep their force) and dropping the old table."""
    return Migration(version, "consent decisions with recorder, authority and time received",
                     f"{DECISIONS_TABLE};{carry_over}")  # fmt: skip


class ConsentRecords(SqlStore):
    """Base of a reader's store: record decisions by the rules, read the standing ones."""

    def record_consent(self, decision: ConsentDecision) -> None:
        """Make `decision` the standing one of each of its families where the rules say it replaces."""
        for family_id in decision.family_ids:
            row = self._one(f"{_SELECT} WHERE family_id = ? AND about = ?", (family_id, decision.about))
            if replaces(_decision(row) if row else None, decision):
                self._run(
                    self.upsert("consent_decision", _COLUMNS, ("family_id", "about")),
                    (family_id, decision.about, decision.decision_id, decision.person_id,
                     int(decision.permit), decision.recorder, decision.authority.value,
                     utc_stamp(decision.received_at),
                     utc_stamp(decision.stated_at) if decision.stated_at else None),
                )  # fmt: skip

    def standing_consents(
        self, family_ids: Sequence[str], person_id: str | None = None
    ) -> list[ConsentDecision]:
        """The standing decision per partner of these families (and of the person, if given)."""
        marks = ", ".join("?" * len(family_ids)) or "NULL"
        where, params = f"family_id IN ({marks})", list(family_ids)
        if person_id:  # never '': decisions carried over from an older store have no person
            where, params = f"{where} OR person_id = ?", [*params, person_id]
        rows = self._all(f"{_SELECT} WHERE {where} ORDER BY received_at, about", params)
        return [_decision(row) for row in rows]

    def withdrawn_partners(self, family_ids: Sequence[str]) -> frozenset[str]:
        """Partners whose entries these families withdrew consent to show."""
        return frozenset(d.about for d in self.standing_consents(family_ids) if not d.permit)


def _decision(row: Any) -> ConsentDecision:
    family_id, about, decision_id, person_id, permit, recorder, authority, received_at, stated = row
    return ConsentDecision(
        decision_id=decision_id, person_id=person_id, family_ids=(family_id,), about=about,
        permit=bool(permit), recorder=recorder, authority=Authority(authority),
        received_at=_time(received_at) or datetime.min.replace(tzinfo=UTC), stated_at=_time(stated),
    )  # fmt: skip


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
