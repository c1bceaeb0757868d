"""Refusals on `fh.audit` and in the log: who was refused what, and why (ids only, never keys)."""

from __future__ import annotations

import structlog

from schemas.audit import AuditRecord
from services.core.audit import audit_message
from services.core.outbox import OutboundMessage

log = structlog.get_logger(__name__)
ANONYMOUS = "anonymous"


def refusal(
    actor: str | None, action: str, target: str | None, reason: str, trace_id: str
) -> OutboundMessage:
    """Log a refused request and return its audit message for the durable publisher."""
    record = AuditRecord(
        actor=actor or ANONYMOUS, actor_role="partner", action=action, target=target,
        outcome="denied", reason=reason, trace_id=trace_id,
    )  # fmt: skip
    log.warning("gateway.refused", actor=record.actor, action=action, target=target, reason=reason,
                trace_id=trace_id)  # fmt: skip
    return audit_message(record)
