"""The shared CSV reader: BOM, case-insensitive headers, line numbers, replayable rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from connectors.base import Record
from connectors.common.csv_records import CsvRow, read_row, split_csv
from schemas.errors import MappingError

FILE = (
    b"\xef\xbb\xbfRecord_ID, Name ,When\r\n"
    b"r1,Ann,2025-01-02\r\n"
    b"\r\n"
    b'r2,"Smith, ""Bo""\r\nsecond line",2025-02-03\r\n'
    b"r3,Cy,\r\n"
)


def test_rows_keep_header_and_physical_line_numbers() -> None:
    records = list(split_csv(FILE, required=["record_id"]))
    assert [r.ref for r in records] == ["line 2", "line 4", "line 6"]
    assert all(r.raw.startswith(b"Record_ID, Name ,When\r\n") for r in records)
    assert records[1].raw.endswith(b'second line",2025-02-03\r\n')


def test_a_row_replays_alone_with_its_cells() -> None:
    record = list(split_csv(FILE))[1]
    row = read_row(record)
    assert row.line == 4
    assert row.get("name") == 'Smith, "Bo"\r\nsecond line'
    assert row.as_date("when") == date(2025, 2, 3)
    assert read_row(Record(raw=record.raw)).line == 2


def test_empty_cell_and_absent_column_are_not_known() -> None:
    row = read_row(list(split_csv(FILE))[2])
    assert row.get("when") is None
    assert row.get("no_such_column") is None
    with pytest.raises(MappingError) as caught:
        row.require("when")
    assert caught.value.location == "line 6, column when"


def test_missing_required_columns_are_all_named() -> None:
    with pytest.raises(MappingError) as caught:
        list(split_csv(b"a,b\n1,2\n", required=["a", "c", "d"]))
    assert caught.value.reason == "required columns missing: c, d"
    assert caught.value.location == "line 1"


def test_not_utf8_and_no_header_are_rejected() -> None:
    with pytest.raises(MappingError, match="not UTF-8"):
        list(split_csv(b"a,b\n\xff,1\n"))
    with pytest.raises(MappingError, match="no header"):
        list(split_csv(b"\n\n"))


@pytest.mark.parametrize(
    ("cell", "call", "message"),
    [
        ("2025-13-01", lambda row: row.as_date("v"), "not a date"),
        ("soon", lambda row: row.as_datetime("v"), "not a date-time"),
        ("x", lambda row: row.as_int("v", 0, 60), "not a whole number"),
        ("61", lambda row: row.as_int("v", 0, 60), "out of range"),
        ("maybe", lambda row: row.choice("v", ("yes", "no")), "not one of the allowed codes"),
    ],
)
def test_bad_cells_name_line_and_column(cell: str, call: Callable[[CsvRow], object], message: str) -> None:
    row = read_row(Record(raw=f"v\n{cell}\n".encode(), ref="line 9"))
    with pytest.raises(MappingError, match=message) as caught:
        call(row)
    assert caught.value.location == "line 9, column v"
    assert cell not in caught.value.describe()


def test_a_row_with_more_cells_than_columns_is_rejected() -> None:
    with pytest.raises(MappingError, match="3 cells but the header names 2"):
        read_row(Record(raw=b"a,b\n1,2,3\n", ref="line 2"))


@pytest.mark.parametrize(
    ("cell", "version"),
    [("", "1"), ("007", "7"), ("2025-03-14T09:30:00+01:00", "2025-03-14T08:30:00.000000Z")],
)
def test_record_version_is_a_number_or_a_utc_stamp(cell: str, version: str) -> None:
    assert read_row(Record(raw=f"id,record_version\nx,{cell}\n".encode())).record_version() == version
