from __future__ import annotations

import io
import json

import pytest
import structlog

from services.core.logging import configure_logging, redact_value
from services.core.settings import Settings


@pytest.fixture
def log_lines() -> io.StringIO:
    stream = io.StringIO()
    configure_logging(Settings(log_format="json", log_level="DEBUG"), stream=stream)
    return stream


def emitted(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize("number", ["9434765919", "943 476 5919", "943-476-5919"])
def test_nhs_numbers_in_free_text_are_removed(log_lines: io.StringIO, number: str) -> None:
    structlog.get_logger("t").info("matched", detail=f"patient {number} linked")
    line = log_lines.getvalue()
    assert number not in line
    assert "[nhs-number]" in line


def test_values_of_personal_keys_are_removed_at_any_depth(log_lines: io.StringIO) -> None:
    structlog.get_logger("t").info(
        "mapped",
        name="Amy Smith",
        resource={
            "given": ["Amy"],
            "family": "Smith",
            "birthDate": "2019-05-02",
            "address": {"postcode": "CO15 1AB"},
        },
        telecom=[{"value": "07700 900123"}],
        email="amy@example.org",
        count=3,
    )
    text = log_lines.getvalue()
    for secret in ("Amy", "Smith", "2019-05-02", "CO15 1AB", "07700 900123", "amy@example.org"):
        assert secret not in text
    assert emitted(log_lines)[0]["count"] == 3


def test_upn_postcode_email_and_dates_in_text_are_removed() -> None:
    text = redact_value("pupil A881220119001 at CO15 1AB, mail a.b@c.org, born 2019-05-02 or 02/05/2019")
    assert text == "pupil [upn] at [postcode], mail [email], born [date] or [date]"


def test_timestamps_and_ids_stay_readable() -> None:
    text = "event 6f1e5f0a-8d3c-5b7e-9a41-2c0b7d4e8f11 at 2025-01-02T09:30:00+00:00 offset 1234"
    assert redact_value(text) == text


def test_exception_text_is_redacted_too(log_lines: io.StringIO) -> None:
    try:
        raise ValueError("bad NHS number 9434765919 for Smith")
    except ValueError:
        structlog.get_logger("t").exception("failed")
    assert "9434765919" not in log_lines.getvalue()


def test_library_logs_through_stdlib_are_redacted(log_lines: io.StringIO) -> None:
    import logging

    logging.getLogger("faust.test").error("record for 9434765919 failed")
    assert "9434765919" not in log_lines.getvalue()
    assert "[nhs-number]" in log_lines.getvalue()


def test_console_format_is_used_when_asked() -> None:
    stream = io.StringIO()
    configure_logging(Settings(log_format="console"), stream=stream)
    structlog.get_logger("t").info("hello", n=1)
    assert not stream.getvalue().startswith("{")


def test_hubnet_ids_stay_whole_but_an_nhs_number_under_an_id_key_does_not(log_lines: io.StringIO) -> None:
    trace = "4f1a9434765919aa0b1c2d3e4f5a6b7c"  # hex that happens to hold a valid NHS number's digits
    structlog.get_logger("t").info(
        "ingest.done", trace_id=trace, event_id="6f1e5f0a-8d3c-5b7e-9a41-2c0b7d4e8f11"
    )
    structlog.get_logger("t").info("odd", trace_id="9434765919")
    first, second = emitted(log_lines)
    assert first["trace_id"] == trace
    assert first["event_id"] == "6f1e5f0a-8d3c-5b7e-9a41-2c0b7d4e8f11"
    assert second["trace_id"] == "[nhs-number]"


def test_a_library_exception_is_logged_as_structured_frames_not_a_traceback_object(
    log_lines: io.StringIO,
) -> None:
    """faust and aiokafka log errors through stdlib logging with exc_info (issue #21)."""
    import logging

    try:
        raise RuntimeError("agent crashed on 9434765919")
    except RuntimeError:
        logging.getLogger("faust.agents").exception("Agent error")
    [line] = emitted(log_lines)
    assert "traceback object" not in log_lines.getvalue()
    [exception] = line["exception"]  # type: ignore[misc]
    assert exception["exc_type"] == "RuntimeError"
    assert (
        exception["frames"][-1]["name"]
        == "test_a_library_exception_is_logged_as_structured_frames_not_a_traceback_object"
    )
    assert "9434765919" not in log_lines.getvalue()


def test_a_hubnet_exception_is_logged_as_structured_frames(log_lines: io.StringIO) -> None:
    try:
        raise KeyError("missing")
    except KeyError:
        structlog.get_logger("t").exception("failed")
    [line] = emitted(log_lines)
    [exception] = line["exception"]  # type: ignore[misc]
    assert exception["exc_type"] == "KeyError"
    assert exception["frames"]
