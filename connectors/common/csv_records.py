"""Read partner CSV extracts the same way in every CSV connector.

The rules come from docs/connectors/native-formats.md: UTF-8 with an optional BOM, RFC 4180
quoting, first line is the header, column names case-insensitive, column order free, unknown
columns ignored, empty cell = not known. Each data row becomes a `Record` whose `raw` is the
header line plus that row's own bytes, so a dead-lettered row can be replayed on its own, and whose
`ref` is the row's physical line number (`line 12`), which partners see in their spreadsheet.

Typical use in a connector:

    def split(self, data: bytes) -> Iterator[Record]:
        return split_csv(data, required=REQUIRED_COLUMNS)

    def map_record(self, record: Record, ctx: SourceContext) -> list[HubEvent]:
        row = read_row(record)
        nhs = row.get("nhs_number")          # None when the cell is empty or the column absent
        when = row.as_date("review_date")       # raises MappingError "line 3, column review_date"
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from connectors.base import Record
from connectors.common.values import BOM, iso_date, record_version
from schemas.errors import MappingError

UTF8 = ("utf-8",)
T = TypeVar("T")


def _decode(data: bytes, where: str | None = None, encodings: tuple[str, ...] = UTF8) -> str:
    return _decode_as(data, where, encodings)[0]


def decode_first(data: bytes, encodings: tuple[str, ...]) -> tuple[str, str]:
    """The text (a UTF-8 BOM dropped) in the first of `encodings` that reads every byte, and that
    encoding: a publisher's specification may allow a legacy code page after UTF-8, e.g.
    Windows-1252. Raises the last encoding's `UnicodeDecodeError` when none reads it; each caller
    words the refusal for its own users (a partner's dead letter, a county's reference file)."""
    body = data.removeprefix(BOM)
    for encoding in encodings[:-1]:
        try:
            return body.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return body.decode(encodings[-1]), encodings[-1]


def numbered_rows(text: str, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """Each row holding a non-blank cell, with the physical line it starts on (a quoted cell may
    span lines, so this is not the row count): the line a spreadsheet shows."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    for row in reader:
        if any(cell.strip() for cell in row):
            yield start, row
        start = reader.line_num + 1


def _decode_as(data: bytes, where: str | None, encodings: tuple[str, ...]) -> tuple[str, str]:
    try:
        return decode_first(data, encodings)
    except UnicodeDecodeError as error:
        names = " or ".join(e.upper() for e in encodings)
        raise MappingError(
            f"the file is not {names} text (bad byte at offset {error.start})",
            location=where,
            hint=f"save or export the file as {encodings[0].upper()} CSV",
        ) from None


def _header(text: str, delimiter: str = ",") -> list[str]:
    first = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), None)
    if not first or not any(cell.strip() for cell in first):
        raise MappingError(
            "the file has no header line",
            location="line 1",
            hint="put the column names on the first line",
        )
    return [cell.strip().lower() for cell in first]


def check_columns(header: Collection[str], required: Collection[str]) -> None:
    """Raise one error naming every required column the header lacks."""
    missing = [name for name in required if name not in header]
    if missing:
        raise MappingError(
            f"required column{'s' if len(missing) > 1 else ''} missing: {', '.join(missing)}",
            location="line 1",
            hint="add the column(s) to the header line; names are case-insensitive",
        )


def split_csv(
    data: bytes, required: Collection[str] = (), *, delimiter: str = ",", encodings: tuple[str, ...] = UTF8
) -> Iterator[Record]:
    """Cut a CSV file into one `Record` per data row (blank lines skipped).

    Raises `MappingError` when the file as a whole is unusable: not UTF-8 (or another of
    `encodings`), no header, a required column missing. Quoted cells spanning lines stay in one
    record; `ref` names the row's first line. Records keep the file's encoding, so a dead letter
    holds the partner's own bytes.
    """
    text, encoding = _decode_as(data, None, encodings)
    header = _header(text, delimiter)
    check_columns(header, required)
    # csv.reader pulls one physical line at a time, and only as many as the row it returns spans:
    # the lines pulled since the last row are that row's raw text. Read lazily, so a caller that
    # stops at a cap (InputLimits) never holds more lines than the rows it took.
    pulled: list[str] = []
    reader = csv.reader(_pulling(io.StringIO(text, newline=""), pulled), delimiter=delimiter)
    next(reader)
    start = reader.line_num
    header_text = _take(pulled)
    try:
        for row in reader:
            end = reader.line_num
            raw = _take(pulled)
            if any(cell.strip() for cell in row):
                yield Record(raw=(header_text + raw).encode(encoding), ref=f"line {start + 1}")
            start = end
    except csv.Error as error:
        raise MappingError(
            f"the CSV cannot be read from here on ({error})",
            location=f"line {start + 1}",
            hint="check the quoting: a cell with a comma, quote or line break must be in double quotes",
        ) from None


def _pulling(lines: Iterator[str], pulled: list[str]) -> Iterator[str]:
    for line in lines:
        pulled.append(line)
        yield line


def _take(pulled: list[str]) -> str:
    text = "".join(pulled)
    pulled.clear()
    return text


@dataclass(frozen=True)
class CsvRow:
    """One data row: cells by lower-case column name, plus the line number for error locations."""

    cells: Mapping[str, str]
    line: int

    def where(self, column: str) -> str:
        """The location string every CSV error uses: `line 12, column birth_date`."""
        return f"line {self.line}, column {column}"

    def get(self, column: str) -> str | None:
        """The trimmed cell, or None when it is empty or the column is absent (= not known)."""
        value = self.cells.get(column, "").strip()
        return value or None

    def require(self, column: str) -> str:
        value = self.get(column)
        if value is None:
            raise self.empty(column)
        return value

    def required(self, read: Callable[[str], T | None], column: str) -> T:
        """A typed cell that must be filled in: `row.required(row.as_date, "review_date")`."""
        value = read(column)
        if value is None:
            raise self.empty(column)
        return value

    def empty(self, column: str) -> MappingError:
        """The error of a required cell left empty."""
        return MappingError("this required cell is empty", self.where(column), hint="fill it in")

    def choice(self, column: str, allowed: Collection[str], default: str | None = None) -> str | None:
        """A cell that must be one of a fixed list of codes (compared lower-case)."""
        value = self.get(column)
        if value is None:
            return default
        code = value.lower()
        if code not in allowed:
            raise MappingError(
                "the value is not one of the allowed codes",
                self.where(column),
                hint=f"use one of: {', '.join(allowed)}",
            )
        return code

    def as_date(self, column: str) -> date | None:
        value = self.get(column)
        return None if value is None else iso_date(value, self.where(column))

    def as_datetime(self, column: str) -> datetime | None:
        """An ISO 8601 date-time; a plain date is accepted as midnight (no offset = UTC)."""
        value = self.get(column)
        if value is None:
            return None
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise MappingError(
                "the value is not a date-time",
                self.where(column),
                hint="write date-times as ISO 8601 with an offset, e.g. 2025-03-14T09:30:00+00:00",
            ) from None

    def record_version(self, column: str = "record_version") -> str:
        """The row's record version (see `connectors.common.values.record_version`)."""
        return record_version(self.get(column), self.where(column))

    def as_int(self, column: str, low: int | None = None, high: int | None = None) -> int | None:
        value = self.get(column)
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError:
            raise MappingError(
                "the value is not a whole number", self.where(column), hint="write digits only"
            ) from None
        if (low is not None and number < low) or (high is not None and number > high):
            raise MappingError(
                "the number is out of range",
                self.where(column),
                hint=f"use a whole number from {low if low is not None else '-'} to "
                f"{high if high is not None else '-'}",
            )
        return number


def read_row(
    record: Record, required: Collection[str] = (), *, delimiter: str = ",", encodings: tuple[str, ...] = UTF8
) -> CsvRow:
    """Parse a record made by `split_csv` (header line + one row) back into a `CsvRow`.

    Also accepts a replayed dead letter on its own. The line number comes from `record.ref`
    (`line 12`), so locations match the partner's original file; without it the row is line 2.
    """
    text = _decode(record.raw, record.ref, encodings)
    header = _header(text, delimiter)
    check_columns(header, required)
    rows = [row for _, row in numbered_rows(text, delimiter)][1:]  # after the header
    if len(rows) != 1:
        raise MappingError(
            f"expected one data row after the header, found {len(rows)}",
            location=record.ref,
            hint="send one row per record, or send the whole file to split it",
        )
    line = _line_of(record.ref)
    row = rows[0]
    if len(row) > len(header):
        raise MappingError(
            f"the row has {len(row)} cells but the header names {len(header)} columns",
            location=f"line {line}",
            hint="check for an unquoted comma in a cell",
        )
    return CsvRow(cells=dict(zip(header, row, strict=False)), line=line)


def _line_of(ref: str | None) -> int:
    if ref and ref.startswith("line ") and ref[5:].isdigit():
        return int(ref[5:])
    return 2
