"""The gateway's parts wired together once, for the HTTP app, the file drop and the tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from connectors import registry
from connectors.base import Connector
from services.core.publisher import Publisher
from services.core.settings import Settings
from services.gateway.database import Database
from services.gateway.idempotency import EventStatusStore
from services.gateway.partners import PartnerStore
from services.gateway.ratelimit import RateLimiter
from services.gateway.submission import Submissions

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Protection settings; defaults suit one hub. (Candidates for `Settings`, see docs/partners.)"""

    max_body_bytes: int = 10 * MIB
    rate_per_s: float = 20.0
    burst: int = 40


@dataclass
class Gateway:
    """Stores, submission service and rate limiter over one gateway database."""

    db: Database
    partners: PartnerStore
    statuses: EventStatusStore
    submissions: Submissions
    limiter: RateLimiter
    limits: Limits

    @classmethod
    def open(
        cls,
        data_dir: Path | Settings,
        publisher: Publisher,
        limits: Limits | None = None,
        connector_for: Callable[[str], Connector] = registry.get,
    ) -> Gateway:
        limits = limits or Limits()
        db = Database.at(data_dir)
        statuses = EventStatusStore(db)
        return cls(
            db=db,
            partners=PartnerStore(db),
            statuses=statuses,
            submissions=Submissions(statuses, publisher, connector_for),
            limiter=RateLimiter(limits.rate_per_s, limits.burst),
            limits=limits,
        )

    def close(self) -> None:
        self.db.close()
