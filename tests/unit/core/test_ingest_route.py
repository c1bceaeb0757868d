from __future__ import annotations

from datetime import UTC, datetime

from connectors.base import Rejection, SourceContext
from schemas.dead_letter import DeadLetter
from schemas.envelope import HubEvent, Identifier
from schemas.event_types import EventType
from services.ingest.pipeline import route


def event(record: str) -> HubEvent:
    return HubEvent.create(
        event_type=EventType.ENCOUNTER,
        source_partner="P1",
        source_system="sys",
        source_record_id=record,
        record_version="1",
        occurred_at=datetime(2025, 1, 1, tzinfo=UTC),
        subjects=[Identifier(system="s", value=record)],
    )


def test_each_outcome_becomes_exactly_one_message_on_the_right_topic() -> None:
    ctx = SourceContext(partner="P1", source_name="feed.csv")
    rejection = Rejection(
        reason="bad date", original=b"row,2", location="line 2, column dob", record_ref="line 2"
    )
    result, messages = route([event("a"), rejection, event("b")], "csv", ctx)
    assert [m.topic for m in messages] == ["fh.events", "fh.dlq", "fh.events"]
    assert [e.source_record_id for e in result.accepted] == ["a", "b"]
    dead = DeadLetter.from_bytes(messages[1].value)
    assert dead.original == b"row,2"
    assert (dead.connector, dead.partner, dead.reason, dead.location) == (
        "csv",
        "P1",
        "bad date",
        "line 2, column dob",
    )
    assert dead.source_name == "feed.csv"
    assert dead.trace_id == ctx.trace_id
    assert messages[1].key == b"P1"


def test_dead_letter_id_is_stable_for_the_same_input() -> None:
    ctx = SourceContext(partner="P1")
    rejection = Rejection(reason="r", original=b"x")
    (_, first), (_, second) = route([rejection], "c", ctx), route([rejection], "c", ctx)
    assert (
        DeadLetter.from_bytes(first[0].value).dead_letter_id
        == DeadLetter.from_bytes(second[0].value).dead_letter_id
    )
