"""The dead-letter view operators work from, rebuilt from `fh.dlq` and `fh.dlq.status` alone.

Replay re-runs today's connector on the original bytes, as the partner the dead letter came from,
through the gateway's one ingest step (`services/gateway/replays.py`: explicit, audited; a revoked
partner, a format or event type not registered to it, a sender not its own are refused as at any
door). It is all-or-nothing per dead letter: every check runs first without publishing, and only
when every record now maps and is allowed are its events published, then the `replayed` status,
so a replay never adds a second dead letter for the same input. Delivery: the events are in the
durable outbox (and the gateway's ledger) before the status is queued; a crash between the two
leaves the dead letter open, and replaying it again finds its events in the ledger (duplicates,
not published twice) and closes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel

from connectors import registry
from connectors.base import SourceContext
from schemas.audit import AuditRecord
from schemas.dead_letter import DeadLetter, DeadLetterStatus
from schemas.errors import HubnetError, InputLimitError
from schemas.topics import DLQ, DLQ_STATUS
from services.core import metrics
from services.core.audit import audit_message
from services.core.outbox import OutboundMessage
from services.core.publisher import Publisher
from services.core.settings import Settings
from services.core.topic_reader import read_to_end
from services.gateway.replays import ReplayDoor
from services.gateway.submission import RefusedError, SubmissionResult


@dataclass(frozen=True)
class Entry:
    letter: DeadLetter
    status: DeadLetterStatus | None = None

    @property
    def open(self) -> bool:
        return self.status is None


@dataclass(frozen=True)
class Filter:
    partner: str | None = None
    connector: str | None = None
    reason: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    include_closed: bool = False

    def __call__(self, entry: Entry) -> bool:
        letter = entry.letter
        return (
            (self.include_closed or entry.open)
            and (self.partner is None or letter.partner == self.partner)
            and (self.connector is None or letter.connector == self.connector)
            and (self.reason is None or self.reason.lower() in letter.reason.lower())
            and (self.since is None or letter.rejected_at >= self.since)
            and (self.until is None or letter.rejected_at <= self.until)
        )


@dataclass
class ReplayReport:
    replayed: list[tuple[str, list[str]]] = field(default_factory=list)
    still_failing: list[tuple[str, str]] = field(default_factory=list)


def load(settings: Settings, bootstrap: str) -> list[Entry]:
    """Every dead letter with its latest status, oldest first; a resent identical input shows once."""
    letters: dict[str, DeadLetter] = {}
    for record in read_to_end(settings, bootstrap, DLQ):
        letter = DeadLetter.from_bytes(record.value)
        letters.setdefault(letter.dead_letter_id, letter)
    statuses = {
        record.key.decode(): DeadLetterStatus.from_bytes(record.value)
        for record in read_to_end(settings, bootstrap, DLQ_STATUS)
        if record.value is not None
    }
    entries = [Entry(letter, statuses.get(dl_id)) for dl_id, letter in letters.items()]
    return sorted(entries, key=lambda e: e.letter.rejected_at)


def find(entries: Iterable[Entry], prefix: str) -> Entry:
    """A dead letter by its id or a unique prefix of it, as `hubnet dlq list` prints them."""
    matches = [e for e in entries if e.letter.dead_letter_id.startswith(prefix)]
    if len(matches) != 1:
        found = "no" if not matches else f"{len(matches)}"
        raise HubnetError(
            f"{found} dead letters match id '{prefix}'; give more of the id (see `hubnet dlq list`)"
        )
    return matches[0]


def status_message(status: DeadLetterStatus) -> OutboundMessage:
    return OutboundMessage(DLQ_STATUS, status.dead_letter_id.encode(), status.to_bytes())


def replay_one(
    letter: DeadLetter, by: str, door: ReplayDoor
) -> tuple[list[OutboundMessage], list[str] | str]:
    """Send the letter again as its partner; returns the status message to publish and the event
    ids, or no messages and the reason it still fails (nothing published then)."""
    ctx = SourceContext(partner=letter.partner, trace_id=letter.trace_id, source_name=letter.source_name)
    try:
        problem = _first_problem(door.check(letter.partner, letter.connector, letter.original, ctx))
        if problem:
            return [], problem
        result = door.send(letter.partner, letter.connector, letter.original, ctx)
    except (RefusedError, registry.UnknownFormatError, InputLimitError) as error:
        return [], str(error)
    problem = _first_problem(result)
    if problem:  # the registration changed between the check and the send
        return [], problem
    event_ids = [item.event_id for item in result.items if item.event_id]
    status = DeadLetterStatus(
        dead_letter_id=letter.dead_letter_id, state="replayed", by=by, event_ids=event_ids
    )
    return [status_message(status)], status.event_ids


def _first_problem(result: SubmissionResult) -> str | None:
    failed = next((item for item in result.items if item.status != "accepted"), None)
    if failed is not None:
        return failed.reason or failed.status
    return None if result.items else "the input holds no record"


def replay(
    entries: Iterable[Entry],
    publisher: Publisher,
    by: str,
    progress: Callable[[], None] = lambda: None,
    *,
    door: ReplayDoor,
) -> ReplayReport:
    report = ReplayReport()
    for entry in entries:
        if entry.open:
            messages, outcome = replay_one(entry.letter, by, door)
            if messages:
                publisher.publish(messages)
                report.replayed.append((entry.letter.dead_letter_id, list(outcome)))
            else:
                report.still_failing.append((entry.letter.dead_letter_id, str(outcome)))
        progress()
    return report


def discard(entry: Entry, reason: str, by: str, publisher: Publisher) -> DeadLetterStatus:
    """Close a dead letter nobody will fix; needs a reason and is audited."""
    if not reason.strip():
        raise HubnetError("a discard needs a reason (--reason), which is kept in the audit trail")
    status = DeadLetterStatus(
        dead_letter_id=entry.letter.dead_letter_id, state="discarded", by=by, reason=reason
    )
    audit = AuditRecord(
        actor=by,
        actor_role="operations",
        action="dlq.discard",
        target=status.dead_letter_id,
        outcome="allowed",
        reason=reason,
    )
    publisher.publish([status_message(status), audit_message(audit)])
    return status


class OpenDeadLetters(BaseModel):
    """Open dead letters of one partner, connector and reason: what a partner is told to fix."""

    partner: str
    connector: str
    reason: str
    count: int
    oldest_at: datetime


def summarise(entries: Iterable[Entry]) -> list[OpenDeadLetters]:
    """Open dead letters grouped by partner, connector and reason, most first; sets
    `hubnet_dead_letters_open` per partner (0 once a partner's last one is replayed or discarded)."""
    groups: dict[tuple[str, str, str], list[DeadLetter]] = {}
    partners: set[str] = set()
    for entry in entries:
        partners.add(entry.letter.partner)
        if entry.open:
            key = (entry.letter.partner, entry.letter.connector, entry.letter.reason)
            groups.setdefault(key, []).append(entry.letter)
    for partner in partners:
        open_count = sum(len(v) for (p, _, _), v in groups.items() if p == partner)
        metrics.DEAD_LETTERS_OPEN.labels(partner).set(open_count)
    rows = [
        OpenDeadLetters(
            partner=partner,
            connector=connector,
            reason=reason,
            count=len(letters),
            oldest_at=min(letter.rejected_at for letter in letters),
        )
        for (partner, connector, reason), letters in groups.items()
    ]
    return sorted(rows, key=lambda row: (-row.count, row.partner, row.reason))
