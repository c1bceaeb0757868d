"""`hubnet worker referrals`: fh.linked -> referral router -> fh.referrals (keyed by referral id).

Delivery guarantee: at-least-once in, effectively-once out. For each message, in this order:
1. store write: `ReferralService.handle` applies the event in one transaction: the referral, its
   attempt, the place taken, the SLA timer, the input's event id, and the outgoing messages (rows
   of the store's outbox table) are committed together;
2. produce: the outbox rows are sent to fh.referrals in order and each broker acknowledgement
   awaited, then the rows are deleted;
3. offset commit: faust commits the consumed offset after the agent has moved past the message.
A crash between 1 and 3 redelivers the message: its event id is already seen, so nothing is
routed twice, and the queued rows go out at the next publish. A crash inside 2 re-sends rows
already sent: the same bytes with the same event id (Task ids come from referral id + attempt),
so consumers deduplicate by event id and no second Task ever appears.

A timer (every `scan_interval_s`) escalates due SLA timers (a store write queuing messages, as
above) and publishes the outbox, which also carries what the inbox API queued. A message that
cannot be parsed or applied is dead-lettered to fh.dlq with its original bytes
(services/streams/app.py) and the agent moves on. With no county pack loaded, a referral, consent
or retraction is not routed on anything made up: `NoCountyPackError` is retried like a busy store
(services/referrals/current.py), so the message waits, the worker's health names the error, and
routing starts once `hubnet county load` has run (within HUBNET_COUNTY_POLL_S, no restart).
"""

from __future__ import annotations

import asyncio
from typing import Any

import faust
import structlog

from schemas.linked import LinkedEvent
from schemas.topics import DLQ, LINKED, REFERRALS
from services.core.settings import Settings
from services.referrals.current import CurrentNetwork
from services.referrals.network import Network
from services.referrals.service import ReferralService
from services.referrals.sla import Clock
from services.referrals.store import ReferralStore
from services.streams.app import create_app, guarded_agent, raw_topic, send_and_wait

log = structlog.get_logger(__name__)
WORKER = "referrals"
SCAN_INTERVAL_S = 30.0


def build(
    settings: Settings,
    bootstrap: str,
    network: Network | CurrentNetwork,
    *,
    clock: Clock | None = None,
    source: str = LINKED,
    sink: str = REFERRALS,
    dlq: str = DLQ,
    scan_interval_s: float = SCAN_INTERVAL_S,
    **overrides: Any,
) -> tuple[faust.App, ReferralService]:
    """The faust app of the referral worker and the service it drives; `network` is the loaded
    county pack's, followed live (a fixed one for tests); tests pass their own topics, group
    (`group=`), clock and scan interval."""
    app = create_app(WORKER, settings, bootstrap, **overrides)
    service = ReferralService(ReferralStore.from_settings(settings), network, clock)
    referrals = raw_topic(app, sink)
    sending = asyncio.Lock()

    async def publish() -> None:
        async with sending:  # the agent and the timer never send the same rows twice
            while rows := service.store.outbox():
                for row in rows:
                    await send_and_wait(referrals, row.key, row.value, row.headers)
                with service.store.transaction():
                    service.store.drop_outbox(rows[-1].seq)
                log.debug("referrals.published", count=len(rows))

    async def handle(value: bytes, _headers: dict[str, bytes]) -> None:
        service.handle(LinkedEvent.from_bytes(value))
        await publish()

    async def tick() -> None:
        service.scan()
        await publish()

    guarded_agent(app, source, WORKER, handle, dlq)
    app.timer(scan_interval_s)(tick)
    return app, service
