"""The HL7 v2 segment cap of `InputLimits.check_shape` (#18): segments are counted on the raw bytes,
before the message is cut or parsed, whatever ends them, however the message is framed and whatever
it starts with; only for the HL7 v2 connector (a pipe-delimited CSV is not counted as segments). Through
every real door: tests/security/test_ingest_doors.py; through a real HTTP server at the default
cap: tests/security/test_bounded_cost_http.py."""

from __future__ import annotations

import pytest

from connectors import registry
from connectors.base import SourceContext
from connectors.hl7v2.ack import ack_code, refusal_ack
from connectors.hl7v2.parsing import parse_header
from connectors.input_limits import InputLimits
from connectors.vaccination_csv.layout import COLUMNS as VACCINATION_LAYOUT
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
        LIMITS.check_shape(LAYOUTS[layout](CAP + 1), segments=True)
    reason = str(refused.value)
    assert f"more than {CAP} HL7 v2 segments ({CAP + 1})" in reason
    assert "HUBNET_INGEST_MAX_NODES" in reason
    assert "split the message" in reason


@pytest.mark.parametrize("layout", LAYOUTS)
def test_an_hl7_input_at_the_cap_is_let_through(layout: str) -> None:
    LIMITS.check_shape(LAYOUTS[layout](CAP), segments=True)  # raises when refused


def test_a_line_of_spaces_is_counted_in_linear_time() -> None:
    """The exact count (used near the cap) matches whole lines, so 1 MiB of spaces is one pass, not
    a million: a quadratic count would not finish within the test run."""
    spaces = b" " * (1024 * 1024)
    InputLimits(max_nodes=1).check_shape(b"MSH|^~\\&|" + spaces + b"\r" + spaces, segments=True)


CTX = SourceContext(partner="lab", source_name="test")


def test_the_hl7_connector_counts_segments_of_an_input_that_does_not_start_with_msh() -> None:
    """No MSH first (or a partner's garbage): still HL7 v2 input, still counted before it is cut."""
    body = oru(CAP + 1).removeprefix(HEAD.split(b"\r")[0] + b"\r") + OBX
    with pytest.raises(InputLimitError, match=f"more than {CAP} HL7 v2 segments"):
        list(registry.get("hl7v2").convert(body, CTX, LIMITS))


def test_a_pipe_delimited_csv_is_not_counted_as_segments() -> None:
    """Lines of other formats are records, held by the record cap: never refused as HL7 segments."""
    header = "|".join(column.upper() for column in VACCINATION_LAYOUT).encode()
    rows = header + b"\n" + (b"x" + b"|" * (len(VACCINATION_LAYOUT) - 1) + b"\n") * (CAP + 1)
    outcomes = list(registry.get("vaccination-csv").convert(rows, CTX, LIMITS))
    assert len(outcomes) == CAP + 1, "each row is mapped (and rejected for its own reasons)"


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
