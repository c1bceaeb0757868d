"""`hubnet worker timeline`: fh.linked -> timeline store; `hubnet rebuild timeline` replays the topic.

Delivery guarantee: at-least-once in, effectively-once in the store. Messages come in batches
(up to BATCH_SIZE, or what arrived within BATCH_WITHIN_S); for each batch, in order:
1. project: each linked event becomes its changes (services/timeline/projector.py, pure);
2. store write: `TimelineStore.apply` writes them and the event id under a savepoint of the
   batch's write transaction (an event id already applied changes nothing, so a redelivery is
   harmless), which takes the store's write lock first (`BEGIN IMMEDIATE` on SQLite);
3. store commit, once for the batch (group commit): the API sees the batch from now. A transient
   error (a lock held too long by another process, a lost connection) rolls the whole unit back
   before the batch is retried: retrying inside the old transaction would keep its stale SQLite
   snapshot and fail forever (issue #21);
4. offset commit: only then are the batch's messages acknowledged to faust.
So an offset is never committed before the store holds its event; a crash loses only
uncommitted store writes, whose messages are redelivered. Nothing is produced. Batches, rather
than one faust agent step per message, are what let one worker keep up with 1,000 events/s.
A message that cannot be parsed is dead-lettered to fh.dlq with its original bytes
(services/streams/app.py) and the agent moves on. Late and out-of-order events land in place:
the store orders by occurred-at and keeps the highest record version per source record.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import faust
import structlog

from schemas.linked import LinkedEvent
from schemas.topics import DLQ, LINKED
from services.core import metrics
from services.core.settings import Settings
from services.county.current import CurrentCounty
from services.county.store import CountyStore
from services.streams.app import Message, create_app, guarded_batch_agent
from services.streams.retry import is_transient
from services.timeline.projector import AreaOf, project
from services.timeline.store import TimelineStore

log = structlog.get_logger(__name__)
WORKER = "timeline"
BATCH_SIZE = 500
BATCH_WITHIN_S = 0.05
"""A batch closes at 500 messages or 50 ms after it started, so an event is visible within ~50 ms."""


def default_areas(settings: Settings) -> AreaOf:
    """Postcode -> hub area of the newest county pack loaded (`hubnet county load`), followed live.

    An event keeps the hub area it was given when projected: a new pack changes only what comes
    after, until `hubnet rebuild timeline` projects everything again with the pack then in use."""
    return CurrentCounty(CountyStore.in_data_dir(settings), settings.county_poll_s).hub_area


def apply_bytes(store: TimelineStore, value: bytes, area_of: AreaOf, commit: bool = True) -> bool:
    """Project and store one fh.linked message; False when its event id was applied before."""
    linked = LinkedEvent.from_bytes(value)
    return store.apply(linked.event.event_id, project(linked, area_of), commit=commit)


def build(
    settings: Settings,
    bootstrap: str,
    source: str = LINKED,
    dlq: str = DLQ,
    store: TimelineStore | None = None,
    **overrides: Any,
) -> tuple[faust.App, TimelineStore]:
    """The faust app of the timeline worker and its store; tests pass their own topics and group."""
    app = create_app(WORKER, settings, bootstrap, **overrides)
    timeline = store or TimelineStore.from_settings(settings)
    area_of = default_areas(settings)

    async def handle(batch: list[Message]) -> list[Exception | None]:
        failures: list[Exception | None] = [None] * len(batch)
        ingested: list[float] = []
        with timeline.write_transaction():  # one unit: committed whole, or rolled back whole
            for position, (value, headers) in enumerate(batch):
                try:
                    fresh = apply_bytes(timeline, value, area_of, commit=False)
                except Exception as error:
                    if is_transient(error):
                        raise  # rolls the unit back; the batch is retried on a fresh transaction
                    failures[position] = error
                    continue
                if fresh and (stamp := headers.get("ingested_at")):
                    ingested.append(datetime.fromisoformat(stamp.decode()).timestamp())
        now = time.time()  # committed: visible to the API from now (the end-to-end latency)
        for moment in ingested:
            metrics.END_TO_END_SECONDS.labels("projected").observe(max(0.0, now - moment))
        return failures

    guarded_batch_agent(app, source, WORKER, handle, dlq, size=BATCH_SIZE, within_s=BATCH_WITHIN_S)
    return app, timeline


def rebuild(
    store: TimelineStore,
    records: Iterable[Any],
    area_of: AreaOf,
    progress: Callable[[], None] = lambda: None,
) -> tuple[int, int]:
    """Apply every record of fh.linked to `store` (empty for a full rebuild); (applied, failed).
    A record that cannot be read is counted and skipped: the worker dead-lettered it already."""
    applied = failed = 0
    for record in records:
        try:
            applied += apply_bytes(store, record.value, area_of)
        except (ValueError, KeyError) as error:
            failed += 1
            log.warning("timeline.rebuild_skipped", offset=record.offset, error_type=type(error).__name__)
        progress()
    return applied, failed
