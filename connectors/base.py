"""The connector interface: split partner bytes into records, map each record to hub events.

A connector knows nothing of Kafka or HTTP. Transports (HTTP ingest, file drop, MLLP, `hubnet
convert`) call `Connector.convert`, which guarantees that every record ends as exactly one outcome:
hub events, or a `Rejection` with the record's own bytes and a reason. One bad record never blocks
the rest of a batch, and no exception escapes for bad input: exceptions that mean a malformed input
(deep nesting, huge integers, CSV fields over the limit, bad UTF-8) become rejections with a reason
(`connectors.malformed`). The one exception on purpose is `InputLimitError`, raised before any
record is mapped when a caller passes `InputLimits` and the input passes one of them.

Ownership is held here, once for every format: a record's identity is (authenticated partner,
source system, record id), so every event must name the sending partner and a source system in
that partner's namespace (`schemas.identifiers.partner_namespace`). A record that would touch
another partner's records becomes a `Refusal`: transports refuse and audit it (HTTP 403), never
dead-letter it as a fault to fix.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar, Self

import structlog

from connectors.input_limits import MAX_LOCATION_CHARS, MAX_REASON_CHARS, InputLimits, clip
from connectors.malformed import malformed_input
from schemas.envelope import HubEvent, new_trace_id
from schemas.errors import InputLimitError, MappingError, NotAPersonRecordError, OwnershipError, Problem
from schemas.identifiers import owns_system

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class SourceContext:
    """Who sent the input and how it arrived; stamped on every event and dead letter."""

    partner: str
    trace_id: str = field(default_factory=new_trace_id)
    source_name: str | None = None
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    org_ids: tuple[str, ...] = ()
    """The organisation identifiers (ODS codes, URNs) registered to the partner, normalised as the
    registry keeps them; empty when the caller has no registry (`hubnet convert`). Connectors whose
    messages name their source organisation refuse one that is not among them."""


@dataclass(frozen=True)
class Record:
    """One unit of a partner input. `raw` must be convertible on its own by the same connector,
    so a dead-lettered record can be replayed alone (a CSV record keeps its header line)."""

    raw: bytes
    ref: str | None = None


@dataclass(frozen=True)
class Rejection:
    """A record that could not become hub events, with what a partner needs to fix it. A reason or
    location quoting a partner's overlong value is cut (`input_limits.clip`): it is repeated in the
    dead letter, the answer and the logs' counts, and must not cost more than the record."""

    reason: str
    original: bytes
    location: str | None = None
    record_ref: str | None = None
    problems: tuple[Problem, ...] = ()
    """Each problem with its own path, when the record has several (`reason` sums them up)."""
    side_entry: bool = False
    """The refused part describes no person (`NotAPersonRecordError`): no person record was lost."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", clip(self.reason, MAX_REASON_CHARS))
        if self.location is not None:
            object.__setattr__(self, "location", clip(self.location, MAX_LOCATION_CHARS))
        if self.record_ref is not None:
            object.__setattr__(self, "record_ref", clip(self.record_ref, MAX_LOCATION_CHARS))

    @classmethod
    def from_error(cls, error: MappingError, record: Record) -> Self:
        return cls(
            reason=error.describe(),
            original=record.raw,
            location=error.location,
            record_ref=record.ref,
            problems=error.problems,
            side_entry=isinstance(error, NotAPersonRecordError),
        )


@dataclass(frozen=True)
class Refusal(Rejection):
    """A record the sending partner may not send: it names another partner's source system or
    organisation, so it would create, change or retract a record that is not its own. An
    authorisation outcome (refused and audited, HTTP 403), not a fault in the data."""


Outcome = HubEvent | Rejection


class Connector(ABC):
    """Base class of every partner format. Subclasses set `name`, implement `split` and `map_record`.

    Delivery: pure and deterministic; the same bytes give the same event ids, so transports may
    retry freely (at-least-once upstream, idempotent downstream).
    """

    name: ClassVar[str]
    """Format name used by `hubnet convert --format`, the ingest API path and file-drop folders."""
    title: ClassVar[str]
    media_types: ClassVar[tuple[str, ...]] = ("application/octet-stream",)
    not_checked: ClassVar[str] = ""
    """What the format's own published validation checks and this connector does not (empty: it
    checks all that matters to the hub). `hubnet convert` prints it under its summary, so a partner
    never takes an accepted file for one the standard's validator would accept."""
    segmented: ClassVar[bool] = False
    """Whether the format is lines of segments (HL7 v2): `InputLimits` then counts an input's
    segments as its nested values, whatever the input starts with."""

    @abstractmethod
    def split(self, data: bytes) -> Iterator[Record]:
        """Called by `convert` first: cut a batch into records. Raise `MappingError` only when the
        input as a whole is unreadable (wrong encoding, broken XML)."""

    @abstractmethod
    def map_record(self, record: Record, ctx: SourceContext) -> list[HubEvent]:
        """Called by `convert` for each record: pure mapping to validated hub events, or raise
        `MappingError` with a location and a reason."""

    def convert(
        self, data: bytes, ctx: SourceContext, limits: InputLimits | None = None
    ) -> Iterator[Outcome]:
        """Every record becomes events or one `Rejection`; nothing raises for bad input. With
        `limits`, an input over a cap raises `InputLimitError` before any record is mapped."""
        if limits:
            limits.check_shape(data, segments=self.segmented)
        try:
            split = self.split(data)
            records = limits.records(split) if limits else list(split)
        except InputLimitError:
            raise  # the input as a whole is refused by the caller's door, not dead-lettered
        except Exception as error:  # a parser bug must not lose the input
            yield self._rejection(error, Record(raw=data, ref=ctx.source_name))
            return
        if not records:
            yield Rejection(reason="the input holds no records (empty file or body)", original=data)
        for record in records:
            yield from self._map_one(record, ctx)

    def _map_one(self, record: Record, ctx: SourceContext) -> Iterator[Outcome]:
        try:
            events = self.map_record(record, ctx)
            for event in events:
                _check_owner(event, ctx)
        except OwnershipError as error:
            yield Refusal.from_error(error, record)
            return
        except MappingError as error:
            yield Rejection.from_error(error, record)
            return
        except Exception as error:  # a mapping bug dead-letters the record instead of crashing
            yield self._rejection(error, record)
            return
        if not events:
            yield Rejection(
                reason="the record maps to no hub event (nothing the hub records)",
                original=record.raw,
                record_ref=record.ref,
            )
        yield from events

    def _rejection(self, error: Exception, record: Record) -> Rejection:
        """The partner's reason for a malformed input; a hubnet fault's for anything else."""
        malformed = malformed_input(error)
        if malformed is not None:
            return Rejection.from_error(malformed, record)
        return self._unexpected(error, record)

    def _unexpected(self, error: Exception, record: Record) -> Rejection:
        log.error("connector.internal_error", connector=self.name, error_type=type(error).__name__)
        return Rejection(
            reason=(
                f"hubnet could not map this record ({type(error).__name__}); this is a hubnet fault, "
                "not yours: it is kept and will be replayed once fixed"
            ),
            original=record.raw,
            record_ref=record.ref,
        )


def _check_owner(event: HubEvent, ctx: SourceContext) -> None:
    """Every event a partner's input makes is that partner's record: its own partner code and a
    source system in its own namespace (so retractions, which name a record of the same system,
    reach its own records only)."""
    if event.source_partner != ctx.partner or not owns_system(ctx.partner, event.source_system):
        raise OwnershipError(
            f"the record names source system '{event.source_system}', which is not one of partner "
            f"'{ctx.partner}''s own systems",
            location="source system",
            hint="send records of your own systems only; each partner changes only what it sent",
        )
