"""A family's consent decision as hubnet keeps it, with who recorded it and on what authority.

A decision is about one partner (`about`): the family agrees, or no longer agrees, to that
partner's records being shown and shared across the hub network. It takes effect at the time
hubnet received it (`received_at`); the `dateTime` the sender wrote (`stated_at`) is kept for
people to read and never orders decisions, since the sender controls it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

STAFF_RECORDER = "hubnet-staff"
"""The `source_partner` of consent that hub staff record (CLI and web UI): a partner code no
registration may take (services/gateway/partners.py refuses codes starting `hubnet`)."""


class Authority(StrEnum):
    """On whose authority a decision was recorded."""

    PARTNER = "partner"
    """A partner registration allowed to record consent about `about` (checked at the gateway)."""
    STAFF = "staff"
    """A member of hub staff, signed in and audited."""


@dataclass(frozen=True)
class ConsentDecision:
    """One recorded decision: given (`permit`) or refused/withdrawn, about one partner."""

    decision_id: str
    person_id: str
    family_ids: tuple[str, ...]
    about: str
    permit: bool
    recorder: str
    """The partner code that sent it, or `staff:<user>` for hub staff."""
    authority: Authority
    received_at: datetime
    stated_at: datetime | None = None
