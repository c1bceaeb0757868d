"""Reconciliation: after a fault, every input is exactly one of {event on fh.events, dead letter on fh.dlq}.

The expected outcomes are computed offline with the same connectors (`expected_outcomes`), then
the topics are read back (`observed`) and compared (`reconcile`): after de-duplication by id
(at-least-once delivery may repeat a message, never change it) the ids seen must equal the ids
expected, none missing and none extra. On failure the assertion prints a short table.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from connectors import registry
from connectors.base import Rejection, SourceContext
from schemas.dead_letter import DeadLetter
from schemas.envelope import HubEvent
from schemas.topics import DLQ, EVENTS
from services.core.dead_letters import dead_letter_for
from services.core.settings import Settings
from services.core.topic_reader import read_to_end
from services.synthetic.replay import Delivery


@dataclass
class Ids:
    """Event ids and dead-letter ids, each with how many times it was seen."""

    events: Counter[str] = field(default_factory=Counter)
    dead: Counter[str] = field(default_factory=Counter)

    def add(self, other: Ids) -> None:
        self.events.update(other.events)
        self.dead.update(other.dead)

    @property
    def total(self) -> int:
        return len(self.events) + len(self.dead)


def delivery_outcomes(delivery: Delivery) -> Ids:
    """What one delivery must become; receipt time fixed, as the replay's ids do not depend on it."""
    ctx = SourceContext(partner=delivery.partner, source_name=delivery.path, received_at=datetime.now(UTC))
    ids = Ids()
    for outcome in registry.get(delivery.fmt).convert(delivery.data, ctx):
        if isinstance(outcome, Rejection):
            ids.dead[dead_letter_for(outcome, delivery.fmt, ctx).dead_letter_id] += 1
        else:
            ids.events[outcome.event_id] += 1
    return ids


def expected_outcomes(deliveries: Iterable[Delivery]) -> Ids:
    expected = Ids()
    for delivery in deliveries:
        expected.add(delivery_outcomes(delivery))
    return expected


def observed(settings: Settings, bootstrap: str, events_topic: str = EVENTS, dlq_topic: str = DLQ) -> Ids:
    """Every id on the two topics now, with repeats counted."""
    seen = Ids()
    for record in read_to_end(settings, bootstrap, events_topic):
        seen.events[HubEvent.from_bytes(record.value).event_id] += 1
    for record in read_to_end(settings, bootstrap, dlq_topic):
        seen.dead[DeadLetter.from_bytes(record.value).dead_letter_id] += 1
    return seen


def wait_for(
    settings: Settings, bootstrap: str, expected: Ids, earlier: Ids | None = None, timeout_s: float = 60.0
) -> Ids:
    """Re-read the topics until every expected id is there (delivery is asynchronous) or time is up;
    `earlier` is what an earlier broker at the same address held before it was killed."""
    deadline = time.monotonic() + timeout_s
    while True:
        seen = observed(settings, bootstrap)
        seen.add(earlier or Ids())
        done = expected.events.keys() <= seen.events.keys() and expected.dead.keys() <= seen.dead.keys()
        if done or time.monotonic() > deadline:
            return seen
        time.sleep(0.5)


def table(expected: Ids, seen: Ids) -> str:
    """The reconciliation as a few lines of text, for assertion messages and the test log."""
    rows = [("", "expected", "seen (unique)", "missing", "unexpected", "repeats")]
    for name, want, got in (
        ("events", expected.events, seen.events),
        ("dead letters", expected.dead, seen.dead),
    ):
        rows.append(
            (
                name,
                str(len(want)),
                str(len(got)),
                str(len(want.keys() - got.keys())),
                str(len(got.keys() - want.keys())),
                str(sum(got.values()) - len(got)),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows)


def reconcile(expected: Ids, seen: Ids) -> None:
    """inputs = valid events + dead letters: the same ids, once each after de-duplication."""
    assert expected.total, "nothing was expected: the fault test fed no input"
    report = table(expected, seen)
    print(f"reconciliation\n{report}")
    assert seen.events.keys() == expected.events.keys(), f"event ids differ\n{report}"
    assert seen.dead.keys() == expected.dead.keys(), f"dead-letter ids differ\n{report}"
