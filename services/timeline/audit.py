"""The audit trail of timeline reads: every read of a family, person, timeline or entry, allowed or
denied, and every break-glass view, goes to the audit store (audit_store.py) and to `fh.audit`.

Delivery: the store row is written first (so `hubnet audit` answers at once), then the record is
handed to the durable publisher (outbox, then Kafka: at-least-once; the audit id deduplicates).
Records name ids, roles and reasons, never personal data.
"""

from __future__ import annotations

import structlog

from schemas.audit import AuditRecord, Outcome
from services.core.audit import audit_message
from services.core.publisher import Publisher
from services.timeline.audit_store import AuditStore
from services.timeline.users import Principal

log = structlog.get_logger(__name__)


class AuditTrail:
    """Writes audit records; `publisher` None keeps them in the store only (tests, offline tools)."""

    def __init__(self, store: AuditStore, publisher: Publisher | None = None) -> None:
        self.store = store
        self.publisher = publisher

    def record(
        self, who: Principal, action: str, target: str | None, outcome: Outcome, reason: str | None
    ) -> AuditRecord:
        record = AuditRecord(
            actor=who.username, actor_role=who.role.value, action=action, target=target,
            outcome=outcome, reason=reason,
        )  # fmt: skip
        return self.write(record)

    def write(self, record: AuditRecord) -> AuditRecord:
        """Store row first (so `hubnet audit` answers at once), then the durable publisher."""
        self.store.add_audit(record.model_dump(mode="json"))
        if self.publisher is not None:
            self.publisher.publish([audit_message(record)])
        log.info("timeline.audit", actor=record.actor, action=record.action, target=record.target,
                 outcome=record.outcome)  # fmt: skip
        return record
