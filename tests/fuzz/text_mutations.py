"""Mutations of bytes, lines, CSV cells and HL7 v2 segments/fields, for the connector fuzz test.

A mutation is `(draw, data) -> data`: it draws its choices from hypothesis (so failures shrink to
the smallest change) and returns the mutated input. Byte-level mutations test the parsers; the
line, cell and field mutations keep the input well-formed so the change reaches mapping code.
A mutation that cannot apply (an input that no longer decodes) returns the input unchanged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from hypothesis import strategies as st

from tests.fuzz.values import EDGE_BYTES, edge_names, edge_text

Mutation = Callable[[st.DrawFn, bytes], bytes]
BOM = b"\xef\xbb\xbf"


def _position(draw: st.DrawFn, data: bytes) -> int:
    return draw(st.integers(0, max(len(data) - 1, 0)))


def flip_byte(draw: st.DrawFn, data: bytes) -> bytes:
    if not data:
        return data
    at = _position(draw, data)
    return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]


def insert_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    at = _position(draw, data)
    return data[:at] + draw(st.sampled_from(EDGE_BYTES) | st.binary(min_size=1, max_size=8)) + data[at:]


def delete_range(draw: st.DrawFn, data: bytes) -> bytes:
    at = _position(draw, data)
    return data[:at] + data[at + draw(st.integers(1, 64)) :]


def truncate(draw: st.DrawFn, data: bytes) -> bytes:
    return data[: _position(draw, data)]


def duplicate_slice(draw: st.DrawFn, data: bytes) -> bytes:
    at = _position(draw, data)
    end = min(len(data), at + draw(st.integers(1, 200)))
    return data[:end] + data[at:end] + data[end:]


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def remove_line(draw: st.DrawFn, data: bytes) -> bytes:
    lines = _lines(data)
    if not lines:
        return data
    del lines[draw(st.integers(0, len(lines) - 1))]
    return b"".join(lines)


def duplicate_line(draw: st.DrawFn, data: bytes) -> bytes:
    lines = _lines(data)
    if not lines:
        return data
    at = draw(st.integers(0, len(lines) - 1))
    lines.insert(draw(st.integers(0, len(lines))), lines[at])
    return b"".join(lines)


def swap_lines(draw: st.DrawFn, data: bytes) -> bytes:
    lines = _lines(data)
    if len(lines) < 2:
        return data
    a, b = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
    lines[a], lines[b] = lines[b], lines[a]
    return b"".join(lines)


def line_endings(draw: st.DrawFn, data: bytes) -> bytes:
    ending = draw(st.sampled_from([b"\n", b"\r\n", b"\r", b"\n\n"]))
    return ending.join(data.splitlines())


def add_bom(_draw: st.DrawFn, data: bytes) -> bytes:
    return BOM + data


GENERIC: tuple[Mutation, ...] = (
    flip_byte,
    insert_bytes,
    delete_range,
    truncate,
    duplicate_slice,
    remove_line,
    duplicate_line,
    swap_lines,
    line_endings,
    add_bom,
)


def _csv_rows(data: bytes) -> list[list[str]] | None:
    try:
        text = data.removeprefix(BOM).decode("utf-8")
    except UnicodeDecodeError:
        return None
    return list(csv.reader(io.StringIO(text, newline="")))


def _csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def _cell(draw: st.DrawFn, rows: list[list[str]]) -> tuple[int, int] | None:
    """A cell, mostly in a data row (the header is mutated now and then too)."""
    filled = [r for r, row in enumerate(rows) if row]
    if not filled:
        return None
    data_rows = [r for r in filled if r > 0] or filled
    r = draw(st.sampled_from(data_rows) | st.sampled_from(filled))
    return r, draw(st.integers(0, len(rows[r]) - 1))


def csv_cell(draw: st.DrawFn, data: bytes) -> bytes:
    """Set, blank, swap, drop or add a cell, or copy one from another row, re-quoting properly."""
    rows = _csv_rows(data)
    if rows is None or (where := _cell(draw, rows)) is None:
        return data
    r, c = where
    row = rows[r]
    text = edge_names() if r == 0 else edge_text()
    action = draw(st.sampled_from(["set", "set", "set", "blank", "swap", "drop", "add", "copy"]))
    if action == "set":
        row[c] = draw(text)
    elif action == "blank":
        row[c] = ""
    elif action == "swap":
        other = draw(st.integers(0, len(row) - 1))
        row[c], row[other] = row[other], row[c]
    elif action == "drop":
        del row[c]
    elif action == "add":
        row.insert(c, draw(text))
    else:
        source = rows[draw(st.integers(0, len(rows) - 1))]
        row[c] = source[c] if c < len(source) else ""
    return _csv_bytes(rows)


def csv_header(draw: st.DrawFn, data: bytes) -> bytes:
    """Rename, upper-case, pad or duplicate a column name."""
    rows = _csv_rows(data)
    if not rows or not rows[0]:
        return data
    header = rows[0]
    c = draw(st.integers(0, len(header) - 1))
    header[c] = draw(
        st.sampled_from([header[c].upper(), f" {header[c]} ", header[c] + "_x", header[-1 - c], ""])
    )
    return _csv_bytes(rows)


CSV: tuple[Mutation, ...] = (csv_cell, csv_cell, csv_cell, csv_header)


def _segments(data: bytes) -> tuple[list[bytes], bytes] | None:
    """HL7 segments and the field separator (MSH-1), or None when there is no MSH/FHS/BHS."""
    segments = [s for s in data.replace(b"\r\n", b"\r").replace(b"\n", b"\r").split(b"\r") if s]
    header = next((s for s in segments if s[:3] in (b"MSH", b"FHS", b"BHS") and len(s) > 3), None)
    return (segments, header[3:4]) if header else None


def hl7_field(draw: st.DrawFn, data: bytes) -> bytes:
    """Set a field or one component of it, or drop, add or repeat a field, in any segment."""
    parsed = _segments(data)
    if parsed is None:
        return data
    segments, bar = parsed
    s = draw(st.integers(0, len(segments) - 1))
    fields = segments[s].split(bar)
    f = draw(st.integers(1, len(fields) - 1)) if len(fields) > 1 else 0
    value = draw(edge_text()).encode()
    action = draw(st.sampled_from(["set", "set", "component", "drop", "add", "repeat"]))
    if action == "set":
        fields[f] = value
    elif action == "component":
        parts = fields[f].split(b"^")
        parts[draw(st.integers(0, len(parts) - 1))] = value
        fields[f] = b"^".join(parts)
    elif action == "drop":
        del fields[f]
    elif action == "add":
        fields.insert(f, value)
    else:
        fields[f] = fields[f] + b"~" + fields[f]
    segments[s] = bar.join(fields)
    return b"\r".join(segments) + b"\r"


def hl7_segment(draw: st.DrawFn, data: bytes) -> bytes:
    """Remove, repeat or move a whole segment, or rename its id."""
    parsed = _segments(data)
    if parsed is None:
        return data
    segments, _ = parsed
    s = draw(st.integers(0, len(segments) - 1))
    action = draw(st.sampled_from(["remove", "repeat", "move", "rename"]))
    if action == "remove":
        del segments[s]
    elif action == "repeat":
        segments.insert(s, segments[s])
    elif action == "move":
        segments.insert(draw(st.integers(0, len(segments) - 1)), segments.pop(s))
    else:
        segments[s] = draw(st.sampled_from([b"ZZZ", b"PID", b"MSH", b"NK1", b"pid", b"PI"])) + segments[s][3:]
    return b"\r".join(segments) + b"\r"


def hl7_encoding(draw: st.DrawFn, data: bytes) -> bytes:
    """Change the encoding characters (MSH-2) or the field separator (MSH-1) of a header."""
    parsed = _segments(data)
    if parsed is None:
        return data
    segments, bar = parsed
    s = next(i for i, seg in enumerate(segments) if seg[:3] in (b"MSH", b"FHS", b"BHS"))
    fields = segments[s].split(bar)
    if draw(st.booleans()) and len(fields) > 1:
        fields[1] = draw(st.sampled_from([b"", b"^", b"^~", b"#~\\&", b"^~\\&#", b"||||", b"^^^^"]))
        segments[s] = bar.join(fields)
    else:
        segments[s] = segments[s][:3] + draw(st.sampled_from([b"#", b"^", b"", b"\x00"])) + segments[s][4:]
    return b"\r".join(segments) + b"\r"


HL7: tuple[Mutation, ...] = (hl7_field, hl7_field, hl7_field, hl7_segment, hl7_encoding)
