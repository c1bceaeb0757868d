"""`hubnet worker timeline`: fh.linked -> timeline store; `hubnet rebuild timeline` replays the topic.

Delivery guarantee: at-least-once in, effectively-once in the store. For each message, in order:
1. project: the linked event becomes its changes (services/timeline/projector.py, pure);
2. store write: `TimelineStore.apply` writes them and the event id under a savepoint of the open
   transaction (an event id already applied changes nothing, so a redelivery is harmless);
3. store commit (group commit): every FLUSH_EVERY events, every FLUSH_INTERVAL_S (so the API sees
   an event within that time), and always just before faust commits offsets (`_FlushBeforeCommit`,
   a faust sensor called as the offset commit starts);
4. offset commit: faust commits the offsets of the messages the agent has moved past.
So an offset is never committed before the store holds its event; a crash loses only
uncommitted store writes, whose messages are redelivered. Nothing is produced.
A message that cannot be parsed is dead-lettered to fh.dlq with its original bytes
(services/streams/app.py) and the agent moves on. Late and out-of-order events land in place:
the store orders by occurred-at and keeps the highest record version per source record.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import faust
import structlog

from schemas.linked import LinkedEvent
from schemas.topics import DLQ, LINKED
from services.core import metrics
from services.core.settings import Settings
from services.referrals.postcodes import synthetic_county
from services.streams.app import create_app, guarded_agent
from services.timeline.projector import AreaOf, project
from services.timeline.store import TimelineStore

log = structlog.get_logger(__name__)
WORKER = "timeline"
FLUSH_EVERY = 500
FLUSH_INTERVAL_S = 0.05


class _FlushBeforeCommit(faust.Sensor):
    """Commits the store as faust starts an offset commit, so the store is never behind offsets."""

    def __init__(self, store: TimelineStore) -> None:
        super().__init__()
        self.store = store

    def on_commit_initiated(self, consumer: Any) -> Any:
        self.store.flush()
        return super().on_commit_initiated(consumer)


def store_path(settings: Settings) -> Path:
    return settings.data_dir / "timeline.sqlite"


def default_areas() -> AreaOf:
    """Postcode -> hub area: the synthetic county's district table (services/referrals/postcodes.py)."""
    return synthetic_county().district


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
    timeline = store or TimelineStore.open(store_path(settings))
    area_of = default_areas()
    pending = 0
    ingested: list[float] = []  # ingested-at of the events applied since the last flush

    async def handle(value: bytes, headers: dict[str, bytes]) -> None:
        nonlocal pending
        if apply_bytes(timeline, value, area_of, commit=False) and (stamp := headers.get("ingested_at")):
            ingested.append(datetime.fromisoformat(stamp.decode()).timestamp())
        pending += 1
        if pending >= FLUSH_EVERY:
            flush()

    def flush() -> None:
        """Commit the store; its events are visible to the API from now: the end-to-end latency."""
        nonlocal pending
        timeline.flush()
        now = time.time()
        for moment in ingested:
            metrics.END_TO_END_SECONDS.labels("projected").observe(max(0.0, now - moment))
        ingested.clear()
        pending = 0

    async def tick() -> None:
        flush()

    guarded_agent(app, source, WORKER, handle, dlq)
    app.timer(FLUSH_INTERVAL_S)(tick)
    app.sensors.add(_FlushBeforeCommit(timeline))
    return app, timeline


def rebuild(
    store: TimelineStore, records: Iterable[Any], progress: Callable[[], None] = lambda: None
) -> tuple[int, int]:
    """Apply every record of fh.linked to `store` (empty for a full rebuild); (applied, failed).
    A record that cannot be read is counted and skipped: the worker dead-lettered it already."""
    applied = failed = 0
    area_of = default_areas()
    for record in records:
        try:
            applied += apply_bytes(store, record.value, area_of)
        except (ValueError, KeyError) as error:
            failed += 1
            log.warning("timeline.rebuild_skipped", offset=record.offset, error_type=type(error).__name__)
        progress()
    return applied, failed
