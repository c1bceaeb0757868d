"""`hubnet worker identity`: fh.events -> identity resolution -> fh.linked (keyed by family id).

Delivery guarantee: at-least-once in, effectively-once out. Messages are taken in batches (up to
BATCH_SIZE, or what arrived within BATCH_WITHIN_S) and, for each batch, in this order:
1. store write: every event is resolved and its outcome (person, families, merges queued as
   notices) written under its event id, each under a savepoint of one transaction, and the
   transaction committed once (group commit: the commit is most of the cost of an event);
2. produce: the batch's linked events are sent to fh.linked and every broker acknowledgement
   awaited, then any queued merge/unmerge notices are sent and acknowledged, and only then
   dropped from the store;
3. offset commit: faust acks the batch's events only after 1 and 2 (`Stream.take_events`), and
   commits offsets of acked events only.
A crash between 1 and 3 redelivers the batch; the store answers from its `seen` table with the
same ids, so fh.linked may carry a duplicate with the same event id, never a different answer.
Consumers deduplicate by event id. A message that cannot be parsed or resolved is dead-lettered
to fh.dlq with its original bytes (services/streams/app.py), its writes undone while the rest of
its batch is kept, and the agent moves on. A transient failure (the store locked by a CLI or the
API, a retriable broker error: services/streams/retry.py) rolls the batch back and retries it
with backoff, so a sound message is never dead-lettered for it.
Notices from human decisions (`hubnet identity review confirm`, `split`) are queued by the CLI
in the same store and published here by a timer.
"""

from __future__ import annotations

from typing import Any

import faust
import structlog

from schemas.envelope import HubEvent
from schemas.topics import DLQ, EVENTS, LINKED
from services.core.settings import Settings
from services.identity.service import IdentityService
from services.identity.store import IdentityStore
from services.streams.app import Message, create_app, guarded_batch_agent, produce, raw_topic, send_and_wait
from services.streams.retry import is_transient

log = structlog.get_logger(__name__)
WORKER = "identity"
NOTICE_INTERVAL_S = 1.0
BATCH_SIZE = 500
BATCH_WITHIN_S = 0.05
"""A batch closes at 500 messages or 50 ms after it started, so an event is linked within ~50 ms."""


def build(
    settings: Settings,
    bootstrap: str,
    source: str = EVENTS,
    sink: str = LINKED,
    dlq: str = DLQ,
    **overrides: Any,
) -> tuple[faust.App, IdentityService]:
    """The faust app of the identity worker and the service it drives; tests pass their own
    topics and group (`group=`) so they never share the catalogue topics."""
    app = create_app(WORKER, settings, bootstrap, **overrides)
    service = IdentityService(IdentityStore.from_settings(settings))
    linked = raw_topic(app, sink)

    async def publish_notices() -> None:
        while notices := service.store.notices():
            for _, key, value, headers in notices:
                await send_and_wait(linked, key, value, headers)
            with service.store.transaction():
                service.store.drop_notices(notices[-1][0])
            log.info("identity.notices_published", count=len(notices))

    async def handle(batch: list[Message]) -> list[Exception | None]:
        failures: list[Exception | None] = [None] * len(batch)
        parsed: list[tuple[int, HubEvent]] = []
        for position, (value, _headers) in enumerate(batch):
            try:
                parsed.append((position, HubEvent.from_bytes(value)))
            except Exception as error:  # not a hub event: poison
                failures[position] = error
        results = service.link_batch([event for _, event in parsed])  # 1. store, committed
        sent = []
        for (position, _), result in zip(parsed, results, strict=True):
            if isinstance(result, Exception):
                failures[position] = result
            else:
                pending = await produce(linked, result.key, result.to_bytes(), result.headers())
                sent.append((position, pending))
        for position, acknowledged in sent:  # 2. produce: every acknowledgement awaited
            try:
                await acknowledged
            except Exception as error:
                if is_transient(error):
                    raise
                failures[position] = error
        await publish_notices()
        return failures

    guarded_batch_agent(app, source, WORKER, handle, dlq, size=BATCH_SIZE, within_s=BATCH_WITHIN_S)
    app.timer(NOTICE_INTERVAL_S)(publish_notices)
    return app, service
