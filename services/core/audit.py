"""Audit records onto `fh.audit`: the one way every service turns an `AuditRecord` into a message."""

from __future__ import annotations

from schemas.audit import AuditRecord
from schemas.topics import AUDIT
from services.core.outbox import OutboundMessage


def audit_message(record: AuditRecord) -> OutboundMessage:
    """Keyed by actor, so one person's or partner's trail stays in order."""
    return OutboundMessage(AUDIT, record.key, record.to_bytes())
