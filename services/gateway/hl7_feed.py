"""The MLLP door: each HL7 v2 message of a live feed through the gateway's one ingest step, answered
with the ACK its outcome earns.

`hubnet listen hl7 --partner CODE` serves one partner's feed; every message goes through
`Gateway.receive` as that partner, so the feed has the HTTP API's guarantees (registry and
revocation, format and event-type permission, the claimed sender in MSH-4, the size limit, the
idempotency ledger, audit). What the sender is told:

| outcome | ACK |
|---|---|
| every event accepted, or a resend of the same message (ledger duplicate) | AA |
| a record the connector rejects (dead-lettered) | AE or AR, reason and position (`ack.build_ack`) |
| refused: partner not active, format not its own, foreign MSH-4, over the size limit | AR, reason |
| an event type the partner may not publish, or another partner's record | AR, reason |
| a resend of a record version with a changed body | AE, condition 205, reason: send a new version |
| a fault inside hubnet other than the broker or store | AR, reason names the fault's kind |

A broker or store failure (`TransportError`) sends no ACK, so the sender resends later. Over the
partner's rate, the feed waits (backpressure: the sender is waiting for the ACK anyway).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

from connectors.base import Rejection, SourceContext
from connectors.hl7v2.ack import build_ack, refusal_ack
from schemas.errors import InputLimitError, Problem, TransportError
from services.gateway import mllp
from services.gateway.service import Gateway
from services.gateway.submission import RateLimitedError, RefusedError, SubmissionResult

FORMAT = "hl7v2"
DUPLICATE_KEY = "205"
log = structlog.get_logger(__name__)


class Hl7Feed:
    """The handler `mllp.serve_mllp` calls for one partner's feed."""

    def __init__(
        self, gateway: Gateway, partner: str, source_name: str, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._gateway = gateway
        self._partner = partner
        self._source_name = source_name
        self._sleep = sleep

    def handler(self) -> mllp.Handler:
        return mllp.Handler(message=self.message, oversize=self.oversize)

    def message(self, message: bytes) -> bytes:
        ctx = SourceContext(partner=self._partner, source_name=self._source_name)
        try:
            result = self._receive(message, ctx)
        except (RefusedError, InputLimitError) as error:  # AR with the reason (an input cap: split it)
            return refusal_ack(message, str(error))
        except TransportError:
            raise  # no ACK: the sender resends once the broker or store is back
        except Exception as error:  # never a silent drop, never a crash of the listener
            kind = type(error).__name__
            log.error("mllp.message_failed", partner=self._partner, error_type=kind, trace_id=ctx.trace_id)
            return refusal_ack(
                message, f"hubnet could not process this message ({kind}); quote trace id {ctx.trace_id}"
            )
        return _ack(message, result)

    def oversize(self, head: bytes, limit: int) -> bytes:
        """AR for a frame over the limit (audited as a refusal like any other)."""
        ctx = SourceContext(partner=self._partner, source_name=self._source_name)
        try:
            partner = self._gateway.admit(self._partner, FORMAT, ctx.trace_id, paced=True)
            self._gateway.check_size(partner, limit + 1, FORMAT, ctx.trace_id)
        except RefusedError as error:
            return refusal_ack(head, str(error))
        return refusal_ack(head, f"the message is larger than the {limit} bytes a partner may send at once")

    def _receive(self, message: bytes, ctx: SourceContext) -> SubmissionResult:
        while True:
            try:
                return self._gateway.receive(self._partner, FORMAT, message, ctx)
            except RateLimitedError as limited:
                self._sleep(limited.wait_s)


def _ack(message: bytes, result: SubmissionResult) -> bytes:
    """AA, or the first rejected or refused item of the message: its reason, and an ERR for each
    of its problems."""
    for item in result.items:
        if item.status == "rejected":
            problems = tuple(Problem(path=p.location, reason=p.reason) for p in item.problems)
            rejection = Rejection(
                reason=item.reason or "", original=message, location=item.location, problems=problems
            )
            return build_ack(message, [rejection])
        if item.status == "refused" and item.conflict:
            return refusal_ack(message, item.reason or "", code="AE", condition=DUPLICATE_KEY)
        if item.status == "refused":
            return refusal_ack(message, item.reason or "")
    return build_ack(message, [])
