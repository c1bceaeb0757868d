"""The gateway's parts wired together once, and the one ingest step every door goes through.

Doors: the HTTP API (`app`), the file drop (`filedrop`), the MLLP listener (`hl7_feed` over
`mllp`) and the operator's replays (`hubnet replay`, `hubnet dlq replay`). Each calls, in this
order, the same checks, so each holds the same guarantees:

1. `admit`: the partner is registered and not revoked, the format is known and registered to it,
   and it is within its rate (replays, paced by the operator, are not rate limited);
2. `check_size`: the input is within the size limit;
3. `Submissions.submit`: the claimed sender is the partner's own, each record through the
   connector, each event type permitted, the idempotency ledger (duplicates return their first
   result; a changed body under a known record version is a conflict), the durable outbox; an
   input over one of the `InputLimits` (records, record bytes, nested values) is refused as a
   whole (`InputLimitError`) before any record is mapped.

Every refusal is audited on `fh.audit` with its reason. `receive` is the three in one; the HTTP API
calls them one by one so it can refuse before reading a body. (`Ingestor` in
`services/ingest/pipeline.py` skips all of them and is for benchmarks and offline tools only.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from connectors import registry
from connectors.base import Connector, SourceContext
from connectors.input_limits import InputLimits
from services.core.publisher import Publisher
from services.core.settings import Settings
from services.gateway.database import Database
from services.gateway.idempotency import EventStatusStore
from services.gateway.partners import Partner, PartnerStore
from services.gateway.ratelimit import RateLimiter
from services.gateway.submission import RateLimitedError, SubmissionResult, Submissions, TooLargeError

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Protection settings; defaults suit one hub. `input`: what one input may cost once read."""

    max_body_bytes: int = 10 * MIB
    rate_per_s: float = 20.0
    burst: int = 40
    input: InputLimits = field(default_factory=InputLimits)

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        """The limits `HUBNET_INGEST_*` set, for every door."""
        return cls(
            max_body_bytes=int(settings.ingest_max_body_mib * MIB),
            rate_per_s=settings.ingest_rate_per_s,
            burst=settings.ingest_burst,
            input=InputLimits(
                max_records=settings.ingest_max_records,
                max_record_bytes=int(settings.ingest_max_record_mib * MIB),
                max_nodes=settings.ingest_max_nodes,
                max_errors=settings.ingest_max_errors,
            ),
        )


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
        limits = limits or (Limits.of(data_dir) if isinstance(data_dir, Settings) else Limits())
        db = Database.at(data_dir)
        statuses = EventStatusStore(db)
        return cls(
            db=db,
            partners=PartnerStore(db),
            statuses=statuses,
            submissions=Submissions(statuses, publisher, connector_for, limits.input),
            limiter=RateLimiter(limits.rate_per_s, limits.burst),
            limits=limits,
        )

    def admit(self, partner_code: str, fmt: str, trace_id: str, *, paced: bool = False) -> Partner:
        """Step 1: the active partner, if it may send `fmt` now. Raises `RefusedError` (audited),
        `registry.UnknownFormatError` or `RateLimitedError`."""
        partner = self.partners.find(partner_code)
        if partner is None or not partner.active:
            reason = f"'{partner_code}' is not an active partner: ask the hub team to register it"
            self.submissions.refuse(partner_code, f"partner:{partner_code}", reason, trace_id)
        self.submissions.connector(fmt)
        self.submissions.check_format(partner, fmt, trace_id)
        if not paced:
            wait = self.limiter.take(partner.code)
            if wait:
                raise RateLimitedError(wait)
        return partner

    def check_size(self, partner: Partner, size: int, fmt: str, trace_id: str) -> None:
        """Step 2: refuse (audited) an input over the size limit."""
        limit = self.limits.max_body_bytes
        if size > limit:
            reason = f"the input is larger than the {limit} bytes a partner may send at once; split it"
            self.submissions.refuse(partner.code, f"format:{fmt}", reason, trace_id, TooLargeError)

    def receive(
        self, partner_code: str, fmt: str, data: bytes, ctx: SourceContext, *, paced: bool = False
    ) -> SubmissionResult:
        """The one ingest step: admit, size, submit and publish."""
        partner = self.admit(partner_code, fmt, ctx.trace_id, paced=paced)
        self.check_size(partner, len(data), fmt, ctx.trace_id)
        return self.submissions.submit(partner, fmt, data, ctx, publish=True)

    def close(self) -> None:
        self.db.close()
