"""What one partner input may cost hubnet, whichever door brought it (HTTP, file drop, MLLP, replay).

Without caps, cost grew with what an input holds, not with its size: a 2 MB JSON array of empty
objects became ~700,000 rejected records, a 347 MB answer and 5.6 GB of memory. The caps:

- records per input (`max_records`): counted while the connector cuts the input, so refusing a
  huge input costs no more than cutting the records up to the cap;
- bytes of the records cut from one input (`max_record_bytes`): a CSV row carries its header
  line, so a large header with many tiny rows multiplied the input many times over;
- nested values per input (`max_nodes`: JSON objects and arrays, XML elements, HL7 v2 segments),
  counted on the bytes before any parser runs: a parsed empty object costs ~70 bytes and a record
  ~40 times its own size in what splitters index, so 10 MiB of `{},` took 258 MB to parse and a
  FHIR Bundle of empty entries 1.1 GB and 41 s to index, before the record cap could count
  anything; one 10 MiB ORU of 750,000 OBX segments took 609 MB and 5.7 s to parse and map;
- reasons listed per answer (`max_errors`): the first N rejected records in full, the rest counted
  (each keeps its dead-letter id, whose own reason stays complete);
- the length of one reason and one location (`clip`), which may quote partner values.

An input over a cap is refused as a whole (`InputLimitError`: HTTP 413, a failed file with its
report) before any record is mapped: nothing is queued, and the message names the cap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from schemas.errors import InputLimitError

if TYPE_CHECKING:  # connectors.base uses these limits
    from connectors.base import Record

MIB = 1024 * 1024
MAX_REASON_CHARS = 1_000
"""A reason (dead letter, answer, CLI) longer than this is cut, with a mark that it was."""
MAX_LOCATION_CHARS = 300
"""A location (a JSON path may hold a partner's key names) longer than this is cut."""

_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"')
_HL7_LINE = re.compile(rb"([ \t]*+[^\s\x0b\x1c])?[^\r\n\x0b\x1c]*+")  # group 1: the line is not blank
_MARK_ROOM = 50  # room for the "... (N more characters not shown)" mark


@dataclass(frozen=True)
class InputLimits:
    """Caps on one input; `Settings.input_limits()` builds them from HUBNET_INGEST_MAX_*."""

    max_records: int = 10_000
    max_record_bytes: int = 16 * MIB
    max_nodes: int = 300_000
    max_errors: int = 100

    def check_shape(self, data: bytes, *, segments: bool = False) -> None:
        """Refuse (`InputLimitError`) JSON or XML holding more than `max_nodes` nested values, or
        with `segments` (the format is HL7 v2, whatever the input starts with) more than
        `max_nodes` segments, counted without parsing (a partner's JSON has one per ~80-160 bytes:
        ~130,000 in 10 MiB; HL7 one per ~40-200 bytes)."""
        if segments:
            self._check_segments(data)
            return
        start = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        if start in (b"{", b"["):
            nodes, what = _json_containers(data, self.max_nodes), "JSON objects and arrays"
        elif start == b"<":
            nodes = data.count(b"<") - data.count(b"</") - data.count(b"<?") - data.count(b"<!")
            what = "XML elements"
        else:
            return
        if nodes > self.max_nodes:
            raise InputLimitError(
                f"the input holds more than {self.max_nodes:,} {what} ({nodes:,}), the most one input "
                "may hold",
                hint="split it into smaller inputs and send each",
            )

    def _check_segments(self, data: bytes) -> None:
        """Refuse HL7 v2 holding more than `max_nodes` segments before any is cut or parsed: each
        parsed segment costs ~700 bytes, so one ORU of 750,000 tiny OBX took 609 MB."""
        segments = _hl7_segments(data, self.max_nodes)
        if segments > self.max_nodes:
            raise InputLimitError(
                f"the input holds more than {self.max_nodes:,} HL7 v2 segments ({segments:,}), the "
                "most one input may hold",
                hint=(
                    f"split the message (or batch) into smaller ones of at most {self.max_nodes:,} "
                    "segments and send each; the hub's operator sets this cap (HUBNET_INGEST_MAX_NODES)"
                ),
            )

    def records(self, records: Iterable[Record]) -> list[Record]:
        """The input's records, or `InputLimitError` as soon as one cap is passed (nothing past it is
        cut, so a refusal costs at most the cap)."""
        kept: list[Record] = []
        size = 0
        for record in records:
            size += len(record.raw)
            passed = self._passed(len(kept) + 1, size)
            if passed is not None:
                raise passed
            kept.append(record)
        return kept

    def within(self, records: Iterable[Record]) -> Iterator[Record]:
        """The records up to the first that would pass a cap, without raising: for checks that read
        an input beside its connector (the claimed-sender check), which refuses it anyway."""
        count = size = 0
        for record in records:
            count, size = count + 1, size + len(record.raw)
            if self._passed(count, size) is not None:
                return
            yield record

    def _passed(self, count: int, size: int) -> InputLimitError | None:
        if count > self.max_records:
            return InputLimitError(
                f"the input holds more than {self.max_records:,} records, the most one input may hold",
                hint=f"split it into parts of at most {self.max_records:,} records and send each",
            )
        if size > self.max_record_bytes:
            return InputLimitError(
                f"the records of this input add up to more than {self.max_record_bytes // MIB:,} MiB "
                "(each CSV row is counted with its header line)",
                hint="split the file into smaller parts, and check the header line is not overlong",
            )
        return None


def _json_containers(data: bytes, limit: int) -> int:
    """Objects and arrays in JSON bytes: every brace when that is within `limit` (fast, and never
    fewer than there are), else those outside strings (exact, slower: only for inputs near the cap)."""
    upper = data.count(b"{") + data.count(b"[")
    if upper <= limit:
        return upper
    text = _JSON_STRING.sub(b"", data)
    return text.count(b"{") + text.count(b"[")


def _hl7_segments(data: bytes, limit: int) -> int:
    """Segments in HL7 v2 bytes: every segment end (CR, LF, CRLF; the last segment may have none)
    when that is within `limit` (fast, and never fewer than there are), else the lines that are not
    blank (exact, slower: only for inputs near the cap)."""
    upper = data.count(b"\r") + data.count(b"\n") - data.count(b"\r\n") + 1
    if upper <= limit:
        return upper
    return sum(1 for line in _HL7_LINE.finditer(data) if line[1] is not None)


def clip(text: str, limit: int) -> str:
    """`text`, cut to at most `limit` characters with a mark saying how much was left out."""
    if len(text) <= limit:
        return text
    shown = max(0, limit - _MARK_ROOM)
    return f"{text[:shown]}... ({len(text) - shown:,} more characters not shown)"
