"""Which exceptions mean "the partner's input is malformed", and the reason a partner is told.

Parsers in the standard library (json, csv, int, bytes.decode) and the models behind them signal
some malformed inputs with exceptions that are not hubnet's `MappingError`: nesting deeper than the
interpreter's recursion limit (`RecursionError`), an integer of more than 4,300 digits (`ValueError`
from Python's integer string conversion limit), a CSV cell over the csv module's field size limit
(`_csv.Error`, as any other CSV syntax error), bytes that are not UTF-8 (`UnicodeDecodeError`).
Caught as "anything else", they looked like hubnet faults: a dead letter saying "this is a hubnet
fault, not yours" on one door and 503 "retry later" on another, so a sender retried a file that
can never be read. This module is the one place that tells those apart from real faults;
`Connector.convert` and the claimed-sender check both ask it, so no connector and no door can
answer a malformed input with a 503.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable

from schemas.errors import MappingError

_INT_DIGITS = "for integer string conversion"
_CSV_FIELD = "field larger than field limit"


def malformed_input(error: BaseException) -> MappingError | None:
    """The `MappingError` a partner should get for `error`, or None when it is not about the input
    (a hubnet fault, which callers keep reporting as one)."""
    if isinstance(error, MappingError):
        return error
    for kind, describe in _KINDS:
        if isinstance(error, kind):
            return describe(error)
    return None


def _nesting(_error: BaseException) -> MappingError:
    return MappingError(
        "the input is nested too deeply to read (objects, arrays or elements inside one another "
        f"more than about {sys.getrecursionlimit()} levels)",
        hint="no partner format nests that deep: check the export, which may be looping",
    )


def _encoding(error: BaseException) -> MappingError:
    start = error.start if isinstance(error, UnicodeDecodeError) else 0
    return MappingError(
        f"the input is not UTF-8 text (bad byte at offset {start})", hint="send the input encoded as UTF-8"
    )


def _digits(error: BaseException) -> MappingError | None:
    if _INT_DIGITS not in str(error):
        return None  # any other ValueError is a hubnet fault
    return MappingError(
        f"a number has more than {sys.get_int_max_str_digits():,} digits",
        hint="no field hubnet reads takes such a number: send identifiers as text",
    )


def _csv_syntax(error: BaseException) -> MappingError:
    if _CSV_FIELD in str(error):
        return MappingError(
            f"a CSV cell or line is longer than {csv.field_size_limit():,} characters",
            hint="check the quoting: an unclosed double quote runs a cell on to the end of the file",
        )
    return MappingError(f"the CSV cannot be read ({error})", hint="save or export the file as CSV")


_KINDS: tuple[tuple[type[BaseException], Callable[[BaseException], MappingError | None]], ...] = (
    (RecursionError, _nesting),
    (UnicodeDecodeError, _encoding),  # before ValueError, of which it is one
    (ValueError, _digits),
    (csv.Error, _csv_syntax),
)
