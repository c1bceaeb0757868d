"""What became of every input item the gateway queued: the idempotency and event-status store.

Keyed by the deterministic event id (accepted events) and the stable dead-letter id (rejected
records), both derived from the input itself, so a resent message finds its original result and is
not published again. `GET /v1/events/{id}` reads it.

Commit order (see `submission.Submissions.submit`): inside one gateway transaction, which also
serialises concurrent submitters across processes: 1. look up which ids are new; 2. write their
messages to the durable outbox; 3. record them here. A crash between 2 and 3 loses nothing, and the
resend is not queued again: the outbox itself remembers each item id (`OutboundMessage.dedup_id`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from services.gateway.database import Database
from services.gateway.schema import MIGRATIONS

State = Literal["accepted", "dead-lettered"]
_FIELDS = ("item_id", "partner", "state", "event_type", "reason", "location", "record_ref", "trace_id", "at")


class ItemStatus(BaseModel):
    """The first result recorded for an event id or dead-letter id."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    partner: str
    state: State
    event_type: str | None = None
    reason: str | None = None
    location: str | None = None
    record_ref: str | None = None
    trace_id: str
    at: datetime


class EventStatusStore:
    """Repository of item statuses (plain SQL; see `database`)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate(MIGRATIONS)

    def lookup(self, item_ids: Iterable[str]) -> dict[str, ItemStatus]:
        """Statuses of the given ids that are known; unknown ids are absent."""
        found: dict[str, ItemStatus] = {}
        for item_id in dict.fromkeys(item_ids):  # by primary key: microseconds each, portable SQL
            row = self.db.row(
                "SELECT item_id, partner, state, event_type, reason, location, record_ref, trace_id, at "
                "FROM item_status WHERE item_id = ?",
                (item_id,),
            )
            if row:
                found[item_id] = _status(row)
        return found

    def get(self, item_id: str) -> ItemStatus | None:
        return self.lookup([item_id]).get(item_id)

    def record(self, statuses: Iterable[ItemStatus]) -> None:
        """Keep the first result of each id; a later duplicate never overwrites it."""
        rows = [
            (s.item_id, s.partner, s.state, s.event_type, s.reason, s.location, s.record_ref, s.trace_id,
             s.at.astimezone(UTC).isoformat())
            for s in statuses
        ]  # fmt: skip
        if rows:
            self.db.executemany(
                "INSERT INTO item_status "
                "(item_id, partner, state, event_type, reason, location, record_ref, trace_id, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (item_id) DO NOTHING",
                rows,
            )


def _status(row: tuple[object, ...]) -> ItemStatus:
    return ItemStatus.model_validate(dict(zip(_FIELDS, row, strict=True)))
