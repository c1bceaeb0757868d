"""One partner input through a connector, the partner's permissions and the idempotency store.

Every transport (HTTP API, file drop) calls `Submissions.submit`. It refuses, as a whole and with
an audit record, an input in a format the partner may not use or naming another sender; then each
record ends as exactly one item: accepted (event id), rejected (dead letter with reason and
location), or refused (an event type the partner may not publish, an event id another partner
owns, a record version already received with other content: `conflict`, or a record naming
another partner's source system: the connector's `Refusal`). An id already recorded with the same
content returns its first result and is not published again. An input over one of the
`InputLimits` is refused as a whole (`InputLimitError`) before any record is mapped, and an answer
repeats the reasons of the first `max_errors` rejected or refused records only.

Delivery: see `idempotency` for the commit order; what `submit(publish=True)` returns is in the
durable outbox. Each queued message carries its item id as the outbox `dedup_id`, so a crash after
the outbox commit and before the statuses commit cannot queue an item twice when the input is
sent again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal, NoReturn

from pydantic import BaseModel, Field

from connectors import registry
from connectors.base import Connector, Refusal, Rejection, SourceContext
from connectors.input_limits import InputLimits
from schemas.dead_letter import DeadLetter
from schemas.envelope import HubEvent
from schemas.errors import AuthorisationError, HubnetError, Problem
from services.consent.rules import consent_refusal
from services.core.dead_letters import dead_letter_for, dead_letter_message
from services.core.outbox import OutboundMessage
from services.core.publisher import Publisher
from services.gateway.audit import refusal
from services.gateway.claims import UnverifiableSenderError, claimed_senders
from services.gateway.idempotency import EventStatusStore, ItemStatus, content_digest
from services.gateway.partners import Partner
from services.ingest.pipeline import count_input, event_message

ItemState = Literal["accepted", "rejected", "refused"]
PUBLISH = "events.publish"
CHANGED_RESEND = (
    "this record id and version was received before with different content, and was not changed: "
    "send a correction as a new record version"
)


class ItemProblem(BaseModel):
    """One problem of a rejected record, at its own place."""

    location: str = Field(description="Where: FHIR path, HL7 position (PID-8), CSV line and column.")
    reason: str = Field(description="What is wrong, and what to do.")


class ItemResult(BaseModel):
    """The outcome of one record of an input."""

    status: ItemState
    event_id: str | None = Field(default=None, description="Hub event id (accepted, or refused event).")
    event_type: str | None = None
    source_record_id: str | None = Field(default=None, description="The record's id in your system.")
    dead_letter_id: str | None = Field(default=None, description="Id of the dead letter (rejected).")
    record_ref: str | None = Field(default=None, description="Which record of a batch: 'line 3', 'entry 2'.")
    reason: str | None = Field(default=None, description="Why it was rejected or refused, and what to do.")
    location: str | None = Field(
        default=None, description="Field path: FHIR path, HL7 field, CSV line/column."
    )
    problems: list[ItemProblem] = Field(
        default_factory=list,
        description="Each problem of a rejected record with its own location, when it has several "
        "(`reason` counts them and lists the first 10; up to 100 are kept here).",
    )
    duplicate: bool = Field(default=False, description="Sent before: this is the first result, nothing new.")
    conflict: bool = Field(
        default=False,
        description="Refused: this record id and version was received before with other content; "
        "send a correction as a new record version.",
    )
    first_seen_at: datetime | None = Field(default=None, description="When the first result was recorded.")


class SubmissionResult(BaseModel):
    """Per-item results of one input."""

    trace_id: str
    partner: str
    format: str
    published: bool = Field(description="False for /v1/validate: the checks ran, nothing was queued.")
    accepted: int = 0
    rejected: int = 0
    refused: int = 0
    duplicates: int = 0
    conflicts: int = Field(default=0, description="Refused items that changed an earlier record version.")
    reasons_omitted: int = Field(
        default=0,
        description=(
            "Rejected or refused records past the first ones listed with their reason (the answer "
            "stays small): each still has its item; a dead letter's reason is at GET /v1/events/{id}."
        ),
    )
    items: list[ItemResult] = Field(default_factory=list)

    def count(self) -> SubmissionResult:
        for item in self.items:
            setattr(self, item.status, getattr(self, item.status) + 1)
        self.duplicates = sum(item.duplicate for item in self.items)
        self.conflicts = sum(item.conflict for item in self.items)
        return self

    def list_reasons(self, listed: int) -> SubmissionResult:
        """Keep the reason and location of the first `listed` rejected or refused items only."""
        for index, item in enumerate(self.items):
            if item.status == "accepted" or item.reason is None:
                continue
            if listed > 0:
                listed -= 1
                continue
            self.items[index] = item.model_copy(update={"reason": None, "location": None})
            self.reasons_omitted += 1
        return self


class RefusedError(AuthorisationError):
    """The whole input is refused: the partner is not active, may not use this format, names
    another sender, or sent more than the size limit."""


class TooLargeError(RefusedError):
    """The input is larger than the gateway's size limit (HTTP 413)."""


class RateLimitedError(HubnetError):
    """The partner sent more than its rate allows; `wait_s` says when the next input is taken."""

    def __init__(self, wait_s: float) -> None:
        self.wait_s = wait_s
        super().__init__(f"too many inputs: retry after {wait_s:.1f} s")


@dataclass
class _Batch:
    """Messages and statuses of the new items of one input; in the sandbox (`publish` false) no
    message is built, as none is sent (each held its record's bytes twice over)."""

    messages: list[OutboundMessage]
    statuses: list[ItemStatus]
    audits: list[OutboundMessage]
    publish: bool = True

    def queue(self, message: Callable[[], OutboundMessage], dedup_id: str) -> None:
        if self.publish:
            self.messages.append(replace(message(), dedup_id=dedup_id))


class Submissions:
    """Checks, deduplicates and publishes partner inputs; shared by the HTTP API and the file drop."""

    def __init__(
        self,
        store: EventStatusStore,
        publisher: Publisher,
        connector_for: Callable[[str], Connector] = registry.get,
        limits: InputLimits | None = None,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._connector_for = connector_for
        self.limits = limits or InputLimits()

    def connector(self, fmt: str) -> Connector:
        """The format's connector; raises `registry.UnknownFormatError`."""
        return self._connector_for(fmt)

    def check_format(self, partner: Partner, fmt: str, trace_id: str) -> None:
        """Refuse (and audit) a format the partner is not registered for."""
        if not partner.may_use_format(fmt):
            self._refuse(partner, fmt, f"partner may not publish format '{fmt}'", trace_id)

    def submit(
        self, partner: Partner, fmt: str, data: bytes, ctx: SourceContext, publish: bool
    ) -> SubmissionResult:
        """Run every check; with `publish`, queue the new items in the durable outbox. Raises
        `RefusedError` (403) and `InputLimitError` (413) for the input as a whole."""
        connector = self.connector(fmt)
        self.check_format(partner, fmt, ctx.trace_id)
        ctx = replace(ctx, org_ids=(*partner.org_ids, *partner.sender_ids))
        # Converted before the sender check so that the caps bound that check too (it parses the
        # input again); conversion is pure, and nothing is published or recorded before both pass.
        outcomes = list(connector.convert(data, ctx, self.limits))
        try:
            claimed = claimed_senders(fmt, data, self.limits)
        except UnverifiableSenderError as error:
            self._refuse(partner, fmt, str(error), ctx.trace_id)
        foreign = sorted(s for s in claimed if not partner.may_claim(s))
        if foreign:
            reason = f"the message names sender {', '.join(foreign)}, which is not registered to this partner"
            self._refuse(partner, fmt, reason, ctx.trace_id)
        dead = {
            index: dead_letter_for(o, connector.name, ctx)
            for index, o in enumerate(outcomes)
            if isinstance(o, Rejection) and not isinstance(o, Refusal)
        }
        ids = [o.event_id for o in outcomes if isinstance(o, HubEvent)]
        result = SubmissionResult(trace_id=ctx.trace_id, partner=partner.code, format=fmt, published=publish)
        batch = _Batch([], [], [], publish)
        with self._store.db.transaction():
            known = self._store.lookup([*ids, *(d.dead_letter_id for d in dead.values())])
            for index, outcome in enumerate(outcomes):
                if isinstance(outcome, HubEvent):
                    result.items.append(self._event_item(partner, outcome, known, batch, ctx))
                elif isinstance(outcome, Refusal):
                    result.items.append(_refused_item(partner, outcome, batch, ctx))
                else:
                    result.items.append(_dead_item(dead[index], outcome, known, batch, ctx))
            outgoing = batch.messages + batch.audits  # refusals audited even in the sandbox
            if outgoing:
                self._publisher.publish(outgoing)
            if publish:
                self._store.record(batch.statuses)
        result.count().list_reasons(self.limits.max_errors)
        for item, outcome in zip(result.items, outcomes, strict=True):  # one item per outcome
            if item.reason is not None and isinstance(outcome, Rejection):
                item.problems = item_problems(outcome.problems)
        if publish:
            count_input(fmt, ctx, accepted=result.accepted, rejected=result.rejected)
        return result

    def _event_item(
        self,
        partner: Partner,
        event: HubEvent,
        known: dict[str, ItemStatus],
        batch: _Batch,
        ctx: SourceContext,
    ) -> ItemResult:
        item = ItemResult(
            status="accepted", event_id=event.event_id, event_type=event.event_type.value,
            source_record_id=event.source_record_id,
        )  # fmt: skip
        first = known.get(event.event_id)
        digest = content_digest(event)
        reason, conflict = None, False
        if not partner.may_publish(event.event_type.value):
            reason = f"partner may not publish event type '{event.event_type.value}'"
        elif first is not None and first.partner != partner.code:
            reason = "this source record belongs to another partner; send records of your own system only"
        elif consent := consent_refusal(partner.code, partner.consent_for, event):
            reason = consent
        elif first is not None and first.digest is not None and first.digest != digest:
            reason, conflict = CHANGED_RESEND, True
        if reason:
            batch.audits.append(refusal(partner.code, PUBLISH, event.event_id, reason, ctx.trace_id))
            return item.model_copy(update={"status": "refused", "reason": reason, "conflict": conflict})
        if first is not None:
            return item.model_copy(update={"duplicate": True, "first_seen_at": first.at})
        status = ItemStatus(
            item_id=event.event_id, partner=partner.code, state="accepted", event_type=event.event_type.value,
            trace_id=ctx.trace_id, at=datetime.now(UTC), digest=digest,
        )  # fmt: skip
        known[event.event_id] = status  # the same event twice in one input is queued once
        batch.queue(lambda: event_message(event), event.event_id)
        batch.statuses.append(status)
        return item

    def audit(self, message: OutboundMessage) -> None:
        """Queue an audit record (a refusal) on the durable publisher."""
        self._publisher.publish([message])

    def refuse(
        self, partner: str, target: str, reason: str, trace_id: str, error: type[RefusedError] = RefusedError
    ) -> NoReturn:
        """Audit a refusal of a whole input, then raise it."""
        self.audit(refusal(partner, PUBLISH, target, reason, trace_id))
        raise error(reason)

    def _refuse(self, partner: Partner, fmt: str, reason: str, trace_id: str) -> NoReturn:
        self.refuse(partner.code, f"format:{fmt}", reason, trace_id)


def _refused_item(partner: Partner, refusal_: Refusal, batch: _Batch, ctx: SourceContext) -> ItemResult:
    """A record naming another partner's system: refused and audited, never queued or dead-lettered."""
    target = f"record:{refusal_.record_ref}" if refusal_.record_ref else "record"
    batch.audits.append(refusal(partner.code, PUBLISH, target, refusal_.reason, ctx.trace_id))
    return ItemResult(
        status="refused", record_ref=refusal_.record_ref, reason=refusal_.reason, location=refusal_.location
    )


def _dead_item(
    dead: DeadLetter, rejection: Rejection, known: dict[str, ItemStatus], batch: _Batch, ctx: SourceContext
) -> ItemResult:
    item = ItemResult(
        status="rejected", dead_letter_id=dead.dead_letter_id, record_ref=rejection.record_ref,
        reason=rejection.reason, location=rejection.location,
    )  # fmt: skip
    first = known.get(dead.dead_letter_id)
    if first is not None:
        return item.model_copy(update={"duplicate": True, "first_seen_at": first.at})
    status = ItemStatus(
        item_id=dead.dead_letter_id, partner=dead.partner, state="dead-lettered", reason=dead.reason,
        location=dead.location, record_ref=dead.record_ref, trace_id=ctx.trace_id, at=dead.rejected_at,
    )  # fmt: skip
    known[dead.dead_letter_id] = status
    batch.queue(lambda: dead_letter_message(dead), dead.dead_letter_id)
    batch.statuses.append(status)
    return item


def item_problems(problems: Sequence[Problem]) -> list[ItemProblem]:
    """A rejection's problems as the answer lists them: only for the items listed with their reason
    (an input of 10,000 bad rows has 100,000s of problems)."""
    return [ItemProblem(location=p.path, reason=p.reason) for p in problems]
