"""The audit record on `fh.audit`: who did what to which record, when, why, and was it allowed.

Every read of a timeline or person, every refusal of a partner, every break-glass view and every
dead-letter discard writes one. Audit records name ids, never personal data.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal, Self

import orjson
from pydantic import BaseModel, ConfigDict, Field

from schemas.envelope import new_trace_id

Outcome = Literal["allowed", "denied"]


class AuditRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    audit_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    actor: str = Field(description="User id, partner code or service name.")
    actor_role: str | None = Field(
        default=None, description="Role the actor acted in, e.g. social-worker, partner."
    )
    action: str = Field(description="What was attempted, e.g. timeline.read, events.publish, dlq.discard.")
    target: str | None = Field(
        default=None, description="What it was done to: a family, person, event or dead-letter id."
    )
    outcome: Outcome
    reason: str | None = Field(
        default=None, description="Why: the user's stated purpose, or why it was refused."
    )
    trace_id: str = Field(default_factory=new_trace_id)

    @property
    def key(self) -> bytes:
        return self.actor.encode()

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"))

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        return cls.model_validate_json(data)
