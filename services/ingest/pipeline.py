"""Connector outcomes to Kafka messages: the pieces the gateway's one ingest step uses.

Partner doors (HTTP, file drop, MLLP) and dead-letter replays go through
`services/gateway/service.py` (`Gateway.receive`: registry, permissions, claimed sender, ledger,
audit, size and rate limits), which builds its messages with `event_message` here; so do the
operator's replays (`hubnet replay`, `hubnet dlq replay`, the `make run` demo traffic). `Ingestor`
skips every one of those checks: it is for the benchmarks and tests only, never for a partner's
input.

Delivery: what `ingest` returns is already in the durable outbox (one transaction per input, or one
shared with the inputs other threads queued at that moment: the outbox's group commit, each input
still whole), so an input is either wholly accepted-or-dead-lettered or, if the process dies first,
not acknowledged to the partner at all and resent by them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog

from connectors import registry
from connectors.base import Outcome, Rejection, SourceContext
from connectors.input_limits import InputLimits
from schemas.dead_letter import DeadLetter
from schemas.envelope import HubEvent
from schemas.topics import EVENTS
from services.core import metrics
from services.core.dead_letters import dead_letter_for, dead_letter_message
from services.core.outbox import OutboundMessage
from services.core.publisher import Publisher

log = structlog.get_logger(__name__)


@dataclass
class IngestResult:
    """Per-input summary for the partner: which events were accepted and which records rejected,
    and the connector's outcomes in input order (what an HL7 ACK is built from)."""

    accepted: list[HubEvent] = field(default_factory=list)
    rejected: list[DeadLetter] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)


def event_message(event: HubEvent) -> OutboundMessage:
    return OutboundMessage(EVENTS, event.key, event.to_bytes(), tuple(event.headers()))


def route(
    outcomes: list[Outcome], connector: str, ctx: SourceContext
) -> tuple[IngestResult, list[OutboundMessage]]:
    """Pure: each outcome to exactly one message, on `fh.events` or `fh.dlq`."""
    result = IngestResult(outcomes=outcomes)
    messages: list[OutboundMessage] = []
    for outcome in outcomes:
        if isinstance(outcome, Rejection):
            dead = dead_letter_for(outcome, connector, ctx)
            result.rejected.append(dead)
            messages.append(dead_letter_message(dead))
        else:
            result.accepted.append(outcome)
            messages.append(event_message(outcome))
    return result, messages


def count_input(fmt: str, ctx: SourceContext, accepted: int, rejected: int) -> None:
    """Metrics for one partner input, whichever transport brought it."""
    metrics.INPUTS_RECEIVED.labels(fmt, ctx.partner).inc()
    metrics.PARTNER_LAST_EVENT.labels(ctx.partner).set(ctx.received_at.timestamp())
    metrics.EVENTS_ACCEPTED.labels(fmt, ctx.partner).inc(accepted)
    metrics.RECORDS_REJECTED.labels(fmt, ctx.partner).inc(rejected)


class Ingestor:
    """Runs a connector on partner bytes and hands every outcome to the durable publisher.

    With `limits` (a door's partner input), an input over a cap raises `InputLimitError` from
    `ingest` before anything is published; without, replays of trusted files are not capped."""

    def __init__(self, publisher: Publisher, limits: InputLimits | None = None) -> None:
        self._publisher = publisher
        self._limits = limits

    def ingest(self, fmt: str, data: bytes, ctx: SourceContext) -> IngestResult:
        connector = registry.get(fmt)
        with metrics.STAGE_SECONDS.labels(f"convert:{fmt}").time():
            outcomes = list(connector.convert(data, ctx, self._limits))
        result, messages = route(outcomes, connector.name, ctx)
        self._publisher.publish(messages)
        count_input(fmt, ctx, accepted=len(result.accepted), rejected=len(result.rejected))
        log.info(
            "ingest.done",
            format=fmt,
            partner=ctx.partner,
            trace_id=ctx.trace_id,
            accepted=len(result.accepted),
            rejected=len(result.rejected),
        )
        return result
