"""Typed values from partner text (CSV cells, XML element text, JSON strings), parsed one way.

Each function takes the text and where it came from (`line 3, column dob`, an element path), and
raises a `MappingError` that says what to write instead, never echoing the value.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from connectors.common.fhir_time import parse_fhir_datetime, utc_stamp
from schemas.errors import MappingError

BOM = b"\xef\xbb\xbf"
"""The UTF-8 byte order mark some partner systems put first; every reader tolerates it."""


def parse_json(data: bytes, reason: str, hint: str, where: str | None = None) -> Any:
    """JSON (a leading BOM tolerated), or a `MappingError` with the caller's reason and the line and
    column of the fault; `where` prefixes the location (a record of a batch).

    The standard library parser is used, not orjson: orjson reads an integer beyond 64 bits as a
    float without a word, and records cut out of a batch are re-serialised, so a dead letter would
    no longer hold the partner's number. Such a number is refused instead."""
    try:
        return json.loads(data.removeprefix(BOM), parse_int=_int64)
    except json.JSONDecodeError as error:
        position = f"JSON line {error.lineno}, column {error.colno}"
        raise MappingError(reason, f"{where}, {position}" if where else position, hint=hint) from None
    except UnicodeDecodeError:
        raise MappingError(reason, where or "JSON", hint="send the JSON encoded as UTF-8") from None


def _int64(text: str) -> int:
    number = int(text)
    if not -(2**63) <= number < 2**63:
        raise MappingError(
            "a number is too large for any field hubnet reads (beyond 64 bits)",
            "JSON",
            hint="send identifiers as JSON strings, not numbers",
        )
    return number


def iso_date(value: str, where: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise MappingError("the value is not a date", where, hint="write dates as YYYY-MM-DD") from None


def record_version(value: str | None, where: str) -> str:
    """A whole number (default 1), or an ISO date-time turned into a fixed-width UTC stamp, so
    text order is time order (`schemas.envelope.version_order`)."""
    text = value or "1"
    if text.isascii() and text.isdigit():
        return str(int(text))
    moment = parse_fhir_datetime(text) if len(text) > 10 else None
    if moment is None:
        raise MappingError(
            "the record version is neither a whole number nor an ISO date-time",
            where,
            hint="send 1 for a new record and increase it each time you resend a corrected one",
        )
    return utc_stamp(moment)
