"""The HL7 v2 segment cap of `InputLimits.check_shape` (#18): segments are counted on the raw bytes,
before the message is cut or parsed, whatever ends them and however the message is framed. Through
every real door: tests/security/test_ingest_doors.py; through a real HTTP server at the default
cap: tests/security/test_bounded_cost_http.py."""

from __future__ import annotations

import pytest

from connectors.hl7v2.ack import ack_code, refusal_ack
from connectors.hl7v2.parsing import parse_header
from connectors.input_limits import InputLimits
from schemas.errors import InputLimitError

CAP = 50
HEAD = b"MSH|^~\\&|LAB|RQ3|HUB|HUB|20240501093000||ORU^R01|M1|P|2.5\rPID|1||9990000018^^^NHS^NH\r"
OBX = b"OBX|1|NM|||1|\r"
LIMITS = InputLimits(max_nodes=CAP)


def oru(segments: int, end: bytes = b"\r") -> bytes:
    """An ORU of `segments` segments (MSH, PID and OBX without a code), each ended by `end`."""
    return (HEAD + OBX * (segments - 2)).replace(b"\r", end)


LAYOUTS = {
    "CR ends": oru,
    "LF ends": lambda n: oru(n, b"\n"),
    "CRLF ends": lambda n: oru(n, b"\r\n"),
    "blank lines between segments": lambda n: oru(n, b"\r\n\r\n"),
    "an MLLP frame with a BOM": lambda n: b"\x0b\xef\xbb\xbf" + oru(n) + b"\x1c\r",
    "the last segment unended": lambda n: oru(n)[:-1],
    "an FHS/BHS batch": lambda n: b"FHS|^~\\&\rBHS|^~\\&\r" + oru(n - 4) + b"BTS|1\rFTS|1\r",
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_an_hl7_input_one_segment_over_the_cap_is_refused_naming_count_cap_and_setting(layout: str) -> None:
    with pytest.raises(InputLimitError) as refused:
        LIMITS.check_shape(LAYOUTS[layout](CAP + 1))
    reason = str(refused.value)
    assert f"more than {CAP} HL7 v2 segments ({CAP + 1})" in reason
    assert "HUBNET_INGEST_MAX_NODES" in reason
    assert "split the message" in reason


@pytest.mark.parametrize("layout", LAYOUTS)
def test_an_hl7_input_at_the_cap_is_let_through(layout: str) -> None:
    LIMITS.check_shape(LAYOUTS[layout](CAP))  # raises when refused


def test_a_line_of_spaces_is_counted_in_linear_time() -> None:
    """The exact count (used near the cap) matches whole lines, so 1 MiB of spaces is one pass, not
    a million: a quadratic count would not finish within the test run."""
    InputLimits(max_nodes=1).check_shape(b"MSH|^~\\&|" + b" " * (1024 * 1024) + b"\r" + b" " * (1024 * 1024))


def test_the_refusal_ack_reads_only_the_header_of_an_over_cap_message() -> None:
    """MLLP answers an over-cap message with an AR built from its MSH alone; the body, however many
    segments it holds, is neither decoded nor split (a body not in the declared character set
    would otherwise leave the ACK without the message's control id)."""
    utf8 = HEAD.replace(b"|P|2.5\r", b"|P|2.5||||||UNICODE UTF-8\r")
    message = utf8 + b"OBX|1|ST|||\xff|\r" * CAP  # not the UTF-8 its MSH-18 declares
    header = parse_header(message)
    assert header.text(10) == "M1"
    ack = refusal_ack(message, "over the cap")
    assert ack_code(ack) == "AR"
    assert b"|M1|" in ack
