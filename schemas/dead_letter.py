"""The dead-letter record on `fh.dlq`: the original bytes plus a reason a partner can act on.

Nothing a partner sends is dropped: when a connector cannot turn an input into hub events, this
record keeps the exact bytes, which connector and partner, what was wrong and where, so the
partner can fix it and operations can replay it after a mapping fix (`hubnet dlq replay`).
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import Literal, Self

import orjson
from pydantic import BaseModel, ConfigDict, Field

DLQ_SCHEMA_VERSION = "1"


class DeadLetter(BaseModel):
    """One rejected input (a whole message, or one record of a batch file)."""

    model_config = ConfigDict(frozen=True)

    dead_letter_id: str = Field(description="Stable hash of connector, partner and original bytes.")
    connector: str = Field(description="Format name of the connector that rejected the input.")
    partner: str
    reason: str = Field(description="Plain-English reason, with what to do about it.")
    location: str | None = Field(
        default=None, description="Where: FHIR path, HL7 segment-field, CSV line/column or XML element path."
    )
    record_ref: str | None = Field(
        default=None, description="Which record of a batch, e.g. 'line 12' or 'entry 3'."
    )
    source_name: str | None = Field(default=None, description="File name or request id the input came in.")
    rejected_at: datetime
    trace_id: str
    original_b64: str = Field(description="The input exactly as received, base64.")
    schema_version: str = DLQ_SCHEMA_VERSION

    @classmethod
    def create(
        cls,
        *,
        connector: str,
        partner: str,
        reason: str,
        original: bytes,
        trace_id: str,
        location: str | None = None,
        record_ref: str | None = None,
        source_name: str | None = None,
        rejected_at: datetime | None = None,
    ) -> Self:
        digest = hashlib.sha256(b"\x1f".join([connector.encode(), partner.encode(), original])).hexdigest()
        return cls(
            dead_letter_id=digest[:32],
            connector=connector,
            partner=partner,
            reason=reason,
            location=location,
            record_ref=record_ref,
            source_name=source_name,
            rejected_at=rejected_at or datetime.now(UTC),
            trace_id=trace_id,
            original_b64=base64.b64encode(original).decode(),
        )

    @property
    def original(self) -> bytes:
        return base64.b64decode(self.original_b64)

    @property
    def where(self) -> str:
        """File, record and place, each once: the record is left out when it is the file itself or
        the place already starts with it (`line 3` before `line 3, column upn`)."""
        places = [self.source_name, self.location]
        ref = self.record_ref
        if ref and ref != self.source_name and not (self.location or "").startswith(ref):
            places.insert(1, ref)
        return " ".join(p for p in places if p)

    @property
    def key(self) -> bytes:
        """Kafka key: the partner, so one partner's dead letters stay in order."""
        return self.partner.encode()

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            ("dead_letter_id", self.dead_letter_id.encode()),
            ("connector", self.connector.encode()),
            ("source_partner", self.partner.encode()),
            ("trace_id", self.trace_id.encode()),
            ("schema_version", self.schema_version.encode()),
        ]

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"))

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        return cls.model_validate_json(data)


class DeadLetterStatus(BaseModel):
    """What became of a dead letter, on the compacted `fh.dlq.status` topic keyed by its id.

    A dead letter with no status is open: a partner or operator still has to act on it.
    """

    model_config = ConfigDict(frozen=True)

    dead_letter_id: str
    state: Literal["replayed", "discarded"]
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    by: str = Field(description="Operator or service that acted.")
    reason: str | None = Field(default=None, description="Why it was discarded; required for a discard.")
    event_ids: list[str] = Field(default_factory=list, description="Events the replay produced.")

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"))

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        return cls.model_validate_json(data)
