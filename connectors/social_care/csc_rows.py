"""Cut a `csc-events` body into records: a CSV file, or JSON (an array of objects, `{"events": [...]}`,
or one object when a dead-lettered record is replayed), told apart by the first byte.

CSV goes through the shared reader (`connectors.common.csv_records`). A JSON record's `raw` is the
object alone, so it can be replayed on its own; its `ref` is its JSON path (`$.events[3]`), which
also prefixes every error location (`$.events[3].birth_date`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from connectors.base import Record
from connectors.common.csv_records import CsvRow, read_row, split_csv
from connectors.common.values import BOM, parse_json
from schemas.errors import MappingError

REQUIRED_COLUMNS = ("record_id", "person_id", "event_type", "event_date")
_JSON_START = (ord("["), ord("{"))
_JSON_REF = re.compile(r"^\$(\.events)?\[\d+\]$")


@dataclass(frozen=True)
class JsonRow(CsvRow):
    """A JSON object read like a CSV row (same getters), located by JSON path instead of line."""

    path: str = "$"

    def where(self, column: str) -> str:
        return f"{self.path}.{column}"


def is_json(data: bytes) -> bool:
    body = data.removeprefix(BOM).lstrip()
    return bool(body) and body[0] in _JSON_START


def split_records(data: bytes) -> Iterator[Record]:
    """Records of a CSV or JSON body; raises `MappingError` only when the body is unreadable."""
    if not is_json(data):
        return split_csv(data, required=REQUIRED_COLUMNS)
    return _split_json(data)


def read_record(record: Record) -> CsvRow:
    """The row of one record made by `split_records` (or replayed alone)."""
    if not is_json(record.raw):
        return read_row(record, required=REQUIRED_COLUMNS)
    item = _load(record.raw)
    path = record.ref if record.ref and _JSON_REF.match(record.ref) else "$"
    if not isinstance(item, dict):
        raise MappingError("the record is not a JSON object", path, hint="send one object per event")
    return JsonRow(cells=_cells(item, path), line=0, path=path)


def _split_json(data: bytes) -> Iterator[Record]:
    body = _load(data)
    prefix = "$"
    if isinstance(body, dict) and "events" in body:
        body, prefix = body["events"], "$.events"
    if isinstance(body, dict):
        body = [body]
    if not isinstance(body, list):
        raise MappingError(
            "the JSON body is neither an array of events nor an object with an events array",
            prefix,
            hint='send [{...}, ...] or {"events": [{...}, ...]}',
        )
    for index, item in enumerate(body):
        yield Record(raw=orjson.dumps(item), ref=f"{prefix}[{index}]")


def _load(data: bytes) -> Any:
    return parse_json(
        data, "the body is not valid JSON", hint="send UTF-8 JSON as the csc-events contract describes"
    )


def _cells(item: dict[str, Any], path: str) -> dict[str, str]:
    """Values as text, as a CSV cell would hold them: null -> empty, true -> `true`, 2 -> `2`."""
    cells: dict[str, str] = {}
    for key, value in item.items():
        if isinstance(value, dict | list):
            raise MappingError(
                "the value is an object or array; the contract allows only text, numbers and booleans",
                f"{path}.{key}",
                hint="flatten the field as the csc-events contract lists it",
            )
        if value is None:
            text = ""
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        cells[str(key).strip().lower()] = text
    return cells
