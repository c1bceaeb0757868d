"""Read ORUK objects field by field, each error naming where the field is in the partner's input.

JSON input is located by JSON path (`$.contents[3].eligibilities[0].minimum_age`); objects
assembled from CSV tables carry their row (`services.csv line 4`) under the `WHERE` key, and their
fields are located as `services.csv line 4, column minimum_age`. One reader serves both forms.
Reasons name the field, never its value.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.common.fhir_time import parse_fhir_datetime
from schemas.errors import MappingError

WHERE = "__where__"
"""Key on objects built from CSV rows: the row's location (`services.csv line 4`)."""


@dataclass(frozen=True)
class Node:
    """One ORUK object and where it is."""

    data: Mapping[str, Any]
    path: str
    csv: bool = False

    @classmethod
    def of(cls, value: Any, path: str) -> Node:
        """The object at `path`; an object from a CSV row is located by its row instead."""
        if not isinstance(value, dict):
            raise MappingError("expected a JSON object here", path, hint="see the HSDS 3.0 UK profile")
        where = value.get(WHERE)
        return cls(value, where, csv=True) if isinstance(where, str) else cls(value, path)

    def at(self, key: str) -> str:
        return f"{self.path}, column {key}" if self.csv else f"{self.path}.{key}"

    def has(self, *keys: str) -> bool:
        return any(self.data.get(key) not in (None, "", [], {}) for key in keys)

    def text(self, *keys: str) -> str | None:
        """The first of `keys` (current name first, then older ORUK v1 names) that has a value."""
        for key in keys:
            value = self.data.get(key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise MappingError("expected text here", self.at(key), hint="send this field as a string")
            if text := str(value).strip():
                return text
        return None

    def required(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            raise MappingError("this required field is empty or missing", self.at(key), hint="fill it in")
        return value

    def choice(self, key: str, allowed: Collection[str]) -> str | None:
        value = self.text(key)
        if value is not None and value.lower() not in allowed:
            raise MappingError(
                "the value is not one of the allowed codes",
                self.at(key),
                hint=f"use one of: {', '.join(allowed)}",
            )
        return value.lower() if value is not None else None

    def number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            value = "not a number"
        try:
            return float(value)
        except (TypeError, ValueError):
            raise MappingError("the value is not a number", self.at(key), hint="send digits only") from None

    def age(self, key: str, maximum: int) -> int | None:
        """An age in whole years from 0 to `maximum`."""
        value = self.number(key)
        if value is None:
            return None
        if not value.is_integer() or not 0 <= value <= maximum:
            raise MappingError(
                f"the age is not a whole number of years from 0 to {maximum}",
                self.at(key),
                hint="send ages in whole years, e.g. 0 for babies",
            )
        return int(value)

    def moment(self, key: str) -> datetime | None:
        """An ISO date or date-time; a date means midnight UTC, no offset means UTC."""
        value = self.text(key)
        if value is None:
            return None
        moment = parse_fhir_datetime(value) if len(value) >= 10 else None
        if moment is None:
            raise MappingError(
                "the value is not a real ISO date or date-time",
                self.at(key),
                hint="write dates as YYYY-MM-DD and date-times as ISO 8601",
            )
        return moment

    def child(self, *keys: str) -> Node | None:
        for key in keys:
            value = self.data.get(key)
            if value not in (None, {}):
                return Node.of(value, self.at(key))
        return None

    def children(self, *keys: str) -> list[Node]:
        """Items of the first of `keys` that is present; each must be an object."""
        for key in keys:
            value = self.data.get(key)
            if value is None:
                continue
            if not isinstance(value, list):
                raise MappingError("expected a list here", self.at(key), hint="send a JSON array [...]")
            return [Node.of(item, f"{self.at(key)}[{index}]") for index, item in enumerate(value)]
        return []


def plain(value: Any) -> Any:
    """A copy without `WHERE` markers: the record as a partner could resend it, as JSON."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items() if key != WHERE}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value
