"""Reference files the county loads, read and validated. Pure: bytes in, (code, name) rows out.

Why: staff read "Clacton Primary School", not `990650`; the names come from the files the
publishers issue, not from code. Each kind is the publisher's own layout:

- `epraccur` (NHS ODS GP practices) and `etr` (NHS ODS NHS trusts): CSV without a header row,
  column 1 the organisation code, column 2 its name, then address, postcode, dates...
- `gias` (DfE Get Information about Schools, "edubasealldata"): CSV with a header row; the
  `URN` and `EstablishmentName` columns are read (a school's LAESTAB is `LA (code)` and
  `EstablishmentNumber` together, also loaded when those columns are there).
- `oruk` (Open Referral UK directory, JSON or zipped HSDS tables): each organisation's
  registered numbers (GB-CHC charity numbers, GB-COH company numbers) to its name.
- `districts` (the county's district table): CSV with a header row `code,name` (ONS codes).

A bad file is refused whole, with every problem by line and column, so a half-loaded register
never hides a name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from connectors.common.csv_records import decode_first, numbered_rows
from schemas.errors import HubnetError

Row = tuple[str, str]
ODS_CODE = re.compile(r"^[A-Z0-9]{3,6}$")
URN = re.compile(r"^[0-9]{6}$")
ONS_CODE = re.compile(r"^[EWSN][0-9]{8}$")
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class FileProblem:
    """One problem in a reference file: its line (None for a JSON directory), where on that line
    (`column 1`, `column 2 (URN)`, a JSON path), and what is wrong."""

    line: int | None
    where: str
    message: str

    def __str__(self) -> str:
        place = ", ".join(part for part in (f"line {self.line}" if self.line else "", self.where) if part)
        return f"{place}: {self.message}"


class ReferenceFileError(HubnetError):
    """A reference file that cannot be loaded: each problem names its line and column."""

    def __init__(self, kind: str, problems: list[FileProblem]) -> None:
        shown = [str(problem) for problem in problems[:MAX_PROBLEMS]]
        more = f"\n  ... and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        super().__init__(
            f"the {kind} file was not loaded:\n  " + "\n  ".join(shown) + more
            + f"\nFix the file (the publisher's {kind} layout) and load it again."
        )  # fmt: skip
        self.problems = problems


@dataclass(frozen=True)
class Kind:
    name: str
    title: str
    read: Callable[[bytes], list[Row]]


def _rows(data: bytes, kind: str) -> list[tuple[int, list[str]]]:
    """The file's non-blank rows with their line numbers (the partners' CSV reader's own rules)."""
    try:
        text, _ = decode_first(data, ("utf-8", "cp1252"))  # GIAS publishes in Windows-1252
    except UnicodeDecodeError:
        raise ReferenceFileError(
            kind, [FileProblem(1, "", "the file is neither UTF-8 nor Windows-1252 text")]
        ) from None
    return list(numbered_rows(text))


Check = Callable[[int, str, str], FileProblem | None]
"""A layout's check of one row's (line, code, name): the problem, or None when the row is good."""


def _named(kind: str, rows: Iterable[tuple[int, list[str]]], at: int, named: int, check: Check) -> list[Row]:
    """(code, name) of every row, refused whole with every problem when any row has one."""
    found: list[Row] = []
    problems: list[FileProblem] = []
    for number, record in rows:
        code = record[at].strip() if at < len(record) else ""
        name = record[named].strip() if named < len(record) else ""
        problem = check(number, code, name)
        if problem is None:
            found.append((code, name))
        else:
            problems.append(problem)
    return _checked(kind, found, problems)


def _ods_check(number: int, code: str, name: str) -> FileProblem | None:
    if not ODS_CODE.match(code):
        return FileProblem(number, "column 1", f"{code!r} is not an ODS organisation code")
    return None if name else FileProblem(number, "column 2", f"the name of {code} is empty")


def _ods(kind: str) -> Callable[[bytes], list[Row]]:
    return lambda data: _named(kind, _rows(data, kind), 0, 1, _ods_check)


def _headed(
    kind: str, code_column: str, name_column: str, pattern: re.Pattern[str]
) -> Callable[[bytes], list[Row]]:
    def read(data: bytes) -> list[Row]:
        rows = _rows(data, kind)
        header = [h.strip() for h in rows[0][1]] if rows and rows[0][0] == 1 else []
        missing = [c for c in (code_column, name_column) if c not in header]
        if missing:
            raise ReferenceFileError(
                kind, [FileProblem(1, "", f"the header has no {' or '.join(missing)} column")]
            )
        at, named = header.index(code_column), header.index(name_column)

        def check(number: int, code: str, name: str) -> FileProblem | None:
            if not pattern.match(code):
                return FileProblem(number, f"column {at + 1} ({code_column})", f"{code!r} is not valid")
            return (
                None
                if name
                else FileProblem(number, f"column {named + 1} ({name_column})", "the name is empty")
            )

        return _named(kind, rows[1:], at, named, check)

    return read


def _oruk(data: bytes) -> list[Row]:
    from connectors.oruk.importer import load_directory  # the directory connector's own reader

    found = load_directory(data)
    if not found.catalogue.organisations and found.rejections:
        raise ReferenceFileError(
            "oruk", [FileProblem(None, r.location or "file", r.reason) for r in found.rejections]
        )
    return [
        (identifier.value, organisation.name)
        for organisation in found.catalogue.organisations.values()
        for identifier in organisation.identifiers
    ]


def _checked(kind: str, rows: list[Row], problems: list[FileProblem]) -> list[Row]:
    if problems:
        raise ReferenceFileError(kind, problems)
    if not rows:
        raise ReferenceFileError(kind, [FileProblem(1, "", "the file holds no rows")])
    return rows


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("epraccur", "NHS ODS GP practices (epraccur.csv)", _ods("epraccur")),
        Kind("etr", "NHS ODS NHS trusts (etr.csv)", _ods("etr")),
        Kind(
            "gias",
            "DfE schools register (GIAS edubasealldata.csv)",
            _headed("gias", "URN", "EstablishmentName", URN),
        ),
        Kind("oruk", "Open Referral UK directory: charity and company numbers", _oruk),
        Kind(
            "districts",
            "the county's districts (code,name with ONS codes)",
            _headed("districts", "code", "name", ONS_CODE),
        ),
    )
}


COUNTY_FILES = {
    "epraccur": "epraccur.csv", "etr": "etr.csv", "gias": "edubasealldata.csv", "districts": "districts.csv",
    "oruk": "oruk-organizations.json",
}  # fmt: skip
"""A county's `reference/` folder (`hubnet generate` writes it, a county pack ships it): kind to file."""


def read(kind: str, data: bytes) -> list[Row]:
    """The (code, name) rows of a reference file of `kind`; raises ReferenceFileError."""
    if kind not in KINDS:
        raise HubnetError(f"unknown reference kind {kind!r}; use one of: {', '.join(KINDS)}")
    return KINDS[kind].read(data)
