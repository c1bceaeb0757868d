"""Response bodies of the partner API (besides `SubmissionResult` and `Problem`), for the OpenAPI spec."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class KeyView(BaseModel):
    key_id: str = Field(description="Public id of the key used for this request (never the secret).")
    created_at: datetime
    expires_at: datetime | None = Field(default=None, description="Set once a newer key replaced it.")


class LimitsView(BaseModel):
    max_body_bytes: int
    rate_per_s: float
    burst: int


class PartnerView(BaseModel):
    """Who the caller is and what it may publish."""

    code: str = Field(
        description="Your partner code: `source_partner` on your events, your file-drop folder."
    )
    name: str
    org_ids: list[str] = Field(description="Your organisation identifiers (ODS code, URN, charity number).")
    sender_ids: list[str] = Field(description="Other sender identifiers your messages may name.")
    formats: list[str] = Field(description="Formats you may publish ('*': every format).")
    event_types: list[str] = Field(description="Hub event codes you may publish ('*': every code).")
    known_formats: list[str] = Field(description="Every format this hub accepts.")
    key: KeyView
    limits: LimitsView


class EventStatusView(BaseModel):
    """What became of one event id or dead-letter id you sent."""

    id: str
    status: Literal["accepted", "dead-lettered"]
    event_type: str | None = None
    reason: str | None = None
    location: str | None = None
    record_ref: str | None = None
    trace_id: str
    at: datetime


class Health(BaseModel):
    status: Literal["ok"] = "ok"
