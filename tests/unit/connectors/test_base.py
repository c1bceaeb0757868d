"""The connector contract: every record ends as events or exactly one rejection, nothing raises."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from connectors import registry
from connectors.base import Connector, Record, Refusal, Rejection, SourceContext
from schemas.envelope import HubEvent, Identifier
from schemas.errors import MappingError
from schemas.event_types import EventType
from schemas.identifiers import local_system

FOREIGN = local_system("P2", "lines")


class LinesConnector(Connector):
    """Test double: one record per line; 'bad' is a mapping error, 'bug' a programming error."""

    name = "lines"
    title = "lines"

    def split(self, data: bytes) -> Iterator[Record]:
        if data.startswith(b"\xff"):
            raise MappingError("not UTF-8 text", location="byte 0", hint="send UTF-8")
        for number, line in enumerate(data.splitlines(), start=1):
            yield Record(raw=line, ref=f"line {number}")

    def map_record(self, record: Record, ctx: SourceContext) -> list[HubEvent]:
        text = record.raw.decode()
        if text == "bad":
            raise MappingError("value is bad", location="column 1", hint="send a good one")
        if text == "bug":
            raise KeyError("secret 9434765919")
        if text == "empty":
            return []
        return [
            HubEvent.create(
                event_type=EventType.ENCOUNTER,
                source_partner=ctx.partner,
                source_system=local_system(ctx.partner, "lines") if text != "foreign" else FOREIGN,
                source_record_id=text,
                record_version="1",
                occurred_at=datetime(2025, 1, 1, tzinfo=UTC),
                subjects=[Identifier(system="s", value=text)],
            )
        ]


CTX = SourceContext(partner="P1", source_name="f.txt")


def test_one_bad_record_does_not_block_the_others() -> None:
    outcomes = list(LinesConnector().convert(b"a\nbad\nb", CTX))
    assert [type(o).__name__ for o in outcomes] == ["HubEvent", "Rejection", "HubEvent"]
    rejection = outcomes[1]
    assert isinstance(rejection, Rejection)
    assert rejection.original == b"bad"
    assert rejection.record_ref == "line 2"
    assert rejection.location == "column 1"
    assert rejection.reason == "column 1: value is bad (send a good one)"


def test_a_bug_in_mapping_dead_letters_the_record_without_leaking_its_message() -> None:
    (outcome,) = LinesConnector().convert(b"bug", CTX)
    assert isinstance(outcome, Rejection)
    assert "KeyError" in outcome.reason
    assert "9434765919" not in outcome.reason


def test_unreadable_input_is_one_rejection_holding_all_bytes() -> None:
    (outcome,) = LinesConnector().convert(b"\xffabc", CTX)
    assert isinstance(outcome, Rejection)
    assert outcome.original == b"\xffabc"
    assert outcome.location == "byte 0"


def test_empty_input_and_records_mapping_to_nothing_are_rejected_not_dropped() -> None:
    (empty,) = LinesConnector().convert(b"", CTX)
    assert isinstance(empty, Rejection)
    assert "no records" in empty.reason
    (nothing,) = LinesConnector().convert(b"empty", CTX)
    assert isinstance(nothing, Rejection)
    assert "no hub event" in nothing.reason


def test_unknown_format_lists_the_known_ones() -> None:
    with pytest.raises(registry.UnknownFormatError, match="known formats"):
        registry.get("no-such-format")


@pytest.mark.parametrize("fmt", registry.formats())
def test_every_registered_connector_loads_and_is_named_as_registered(fmt: str) -> None:
    assert registry.get(fmt).name == fmt


def test_validation_cache_never_accepts_an_invalid_resource_it_saw_valid_before() -> None:
    from connectors.common.fhir_validation import clear_validation_cache, validate_resource
    from schemas.errors import ValidationError

    clear_validation_cache()
    good = {"resourceType": "Patient", "id": "p1", "birthDate": "2020-01-01"}
    assert validate_resource(good) is good
    assert validate_resource(dict(good)) == good  # served from the cache
    with pytest.raises(ValidationError, match=r"Patient\.birthDate"):
        validate_resource({**good, "birthDate": "2020-13-01"})
    with pytest.raises(ValidationError, match="not a FHIR STU3"):
        validate_resource({"resourceType": "Nope"}, release="STU3")


def test_a_record_naming_another_partners_system_is_refused_not_mapped() -> None:
    """Ownership holds at the one boundary every format goes through: partner P1 cannot emit a
    record of P2's system (it would update or retract P2's record), whatever the connector does."""
    outcomes = list(LinesConnector().convert(b"a\nforeign", CTX))
    assert [type(o).__name__ for o in outcomes] == ["HubEvent", "Refusal"]
    refusal = outcomes[1]
    assert isinstance(refusal, Refusal)
    assert refusal.original == b"foreign"
    assert FOREIGN in refusal.reason
    assert "P1" in refusal.reason


def test_a_record_in_the_partners_own_namespace_is_its_own() -> None:
    [event] = list(LinesConnector().convert(b"a", CTX))
    assert isinstance(event, HubEvent)
    assert event.source_system.startswith("https://hubnet.example.org/Id/local/P1/")
