"""What became of every input item the gateway queued: the idempotency and event-status store.

Keyed by the deterministic event id (accepted events) and the stable dead-letter id (rejected
records), both derived from the input itself, so a resent message finds its original result and is
not published again. `GET /v1/events/{id}` reads it.

An accepted event also keeps a digest of its content (`content_digest`). The event id derives from
the record id and version only, so a resend with the same id and version but a different body
would otherwise be acknowledged as a duplicate and the correction silently lost (issue #18, 9a):
it is refused instead (409 on HTTP), and a correction must carry a new record version.

Commit order (see `submission.Submissions.submit`): inside one gateway transaction, which also
serialises concurrent submitters across processes: 1. look up which ids are new; 2. write their
messages to the durable outbox; 3. record them here. A crash between 2 and 3 loses nothing, and the
resend is not queued again: the outbox itself remembers each item id (`OutboundMessage.dedup_id`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict

from schemas.envelope import HubEvent
from services.gateway.database import Database
from services.gateway.schema import MIGRATIONS

State = Literal["accepted", "dead-lettered"]
_FIELDS = (
    "item_id", "partner", "state", "event_type", "reason", "location", "record_ref", "trace_id", "at",
    "digest",
)  # fmt: skip
_VOLATILE = {"ingested_at", "trace_id"}
"""What differs between two receipts of the same content, and so is left out of its digest."""


def content_digest(event: HubEvent) -> str:
    """SHA-256 of what the partner said in this event (everything but when and how it arrived)."""
    content = event.model_dump(mode="json", exclude=_VOLATILE)
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


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
    digest: str | None = None  # accepted events since migration 3: their `content_digest`


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
                "SELECT item_id, partner, state, event_type, reason, location, record_ref, trace_id, at, "
                "digest FROM item_status WHERE item_id = ?",
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
             s.at.astimezone(UTC).isoformat(), s.digest)
            for s in statuses
        ]  # fmt: skip
        if rows:
            self.db.executemany(
                "INSERT INTO item_status "
                "(item_id, partner, state, event_type, reason, location, record_ref, trace_id, at, digest) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (item_id) DO NOTHING",
                rows,
            )


def _status(row: tuple[object, ...]) -> ItemStatus:
    return ItemStatus.model_validate(dict(zip(_FIELDS, row, strict=True)))
