"""The one way a rejected input becomes a dead letter on `fh.dlq`, used by every transport."""

from __future__ import annotations

from connectors.base import Rejection, SourceContext
from schemas.dead_letter import DeadLetter
from schemas.topics import DLQ
from services.core.outbox import OutboundMessage


def dead_letter_for(rejection: Rejection, connector: str, ctx: SourceContext) -> DeadLetter:
    """Keep the record's original bytes and say what was wrong, where, and in which input."""
    return DeadLetter.create(
        connector=connector,
        partner=ctx.partner,
        reason=rejection.reason,
        original=rejection.original,
        trace_id=ctx.trace_id,
        location=rejection.location,
        record_ref=rejection.record_ref,
        source_name=ctx.source_name,
    )


def dead_letter_message(dead_letter: DeadLetter) -> OutboundMessage:
    return OutboundMessage(DLQ, dead_letter.key, dead_letter.to_bytes(), tuple(dead_letter.headers()))
