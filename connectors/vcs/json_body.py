"""The `vcs-json` webhook body: one activity object, or an array of them.

Each array item becomes its own record (re-serialised on its own, so a dead-lettered item can be
replayed alone) with `ref` = its JSON path (`$[3]`). Field names are checked: a misspelt key is
rejected with its path rather than ignored, because an ignored `birthdate` would silently lose
what identity resolution needs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from connectors.base import Record
from connectors.common.values import parse_json
from connectors.vcs.activity import FIELDS, PERSON_FIELDS
from schemas.errors import MappingError

_TOP_FIELDS = frozenset(FIELDS).difference(PERSON_FIELDS) | {"person"}


def _parse(data: bytes, where: str | None) -> Any:
    return parse_json(
        data,
        "the body is not well-formed JSON",
        "send one JSON object, or an array of objects, UTF-8 encoded",
        where,
    )


def split_json(data: bytes) -> Iterator[Record]:
    """One record per activity object; raises `MappingError` when the body is not JSON at all."""
    body = _parse(data, None)
    if isinstance(body, list):
        for index, item in enumerate(body):
            yield Record(raw=orjson.dumps(item), ref=f"$[{index}]")
    else:
        yield Record(raw=data, ref=None)


class JsonFields:
    """An activity object read as `Fields`: person fields live under `person`."""

    def __init__(self, record: Record) -> None:
        self._base = record.ref or "$"
        body = _parse(record.raw, record.ref)
        self._top = self._object(body, self._base, _TOP_FIELDS)
        person = self._top.get("person")
        self._person = self._object(person, f"{self._base}.person", PERSON_FIELDS) if person else {}

    @staticmethod
    def _object(value: Any, where: str, known: frozenset[str] | tuple[str, ...]) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise MappingError(
                "expected a JSON object here", where, hint="send each activity as an object {...}"
            )
        unknown = sorted(key for key in value if key not in known)
        if unknown:
            raise MappingError(
                f"unknown field name{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
                where,
                hint=f"use the field names of the contract: {', '.join(sorted(known))}",
            )
        return value

    def where(self, column: str) -> str:
        if column in PERSON_FIELDS:
            return f"{self._base}.person.{column}"
        return f"{self._base}.{column}"

    def get(self, column: str) -> str | None:
        value = (self._person if column in PERSON_FIELDS else self._top).get(column)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise MappingError(
                "expected text here", self.where(column), hint="send this field as a JSON string"
            )
        return str(value).strip() or None
