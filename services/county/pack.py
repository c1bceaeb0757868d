"""Read a county pack folder and report every problem in it, with file, line and field.

Reading never stops at the first problem: a county fixing its pack wants the whole list at once.
Each CSV row is validated against its row model (schemas/county.py); then the tables are checked
against each other (a neighbour, hub area, site or role that names nothing). Pure: no stores, no
Kafka; `hubnet county check` prints the problems, `hubnet county load` refuses a pack with any.
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from schemas.county import (
    CountyPack,
    District,
    HubAreaRule,
    Manifest,
    PostcodeRow,
    Service,
    Site,
    Team,
)
from services.county.consistency import cross_check

MANIFEST = "county.toml"
TABLES: dict[str, type[BaseModel]] = {
    "districts.csv": District,
    "hub-areas.csv": HubAreaRule,
    "postcodes.csv": PostcodeRow,
    "sites.csv": Site,
    "services.csv": Service,
    "teams.csv": Team,
}
OPTIONAL = frozenset({"services.csv", "teams.csv"})
Row = TypeVar("Row", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the pack: where it is and what to do about it."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where} {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class PackError(ValueError):
    """The pack has problems; `problems` lists every one."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(f"the county pack has {len(problems)} problem(s)")
        self.problems = tuple(problems)


@dataclass
class _Reading:
    folder: Path
    problems: list[Problem]
    lines: dict[tuple[str, int], int]
    """(file, row index) -> line number, for the cross-checks to point at."""

    def table(self, name: str, model: type[Row]) -> list[Row]:
        path = self.folder / name
        if not path.is_file():
            if name not in OPTIONAL:
                self.problems.append(Problem(name, None, "", "missing: every pack has this file"))
            return []
        text = path.read_text(encoding="utf-8-sig")
        reader = csv.DictReader(io.StringIO(text))
        rows: list[Row] = []
        for row in reader:
            line = reader.line_num
            cells = {
                (k or "").strip().lower(): v for k, v in row.items() if k is not None and v not in ("", None)
            }
            try:
                rows.append(model.model_validate(cells))
            except ValidationError as error:
                self.problems.extend(_problems(name, line, error))
                continue
            self.lines[(name, len(rows) - 1)] = line
        return rows

    def at(self, name: str, index: int, field: str, message: str) -> None:
        self.problems.append(Problem(name, self.lines.get((name, index)), field, message))


def _problems(name: str, line: int | None, error: ValidationError) -> Iterable[Problem]:
    for detail in error.errors():
        field = ".".join(str(part) for part in detail["loc"])
        yield Problem(name, line, field, detail["msg"])


def read_pack(folder: Path) -> CountyPack:
    """The pack in `folder`; raises `PackError` listing every problem when there is any."""
    problems = check_pack(folder)
    if isinstance(problems, CountyPack):
        return problems
    raise PackError(problems)


def check_pack(folder: Path) -> CountyPack | list[Problem]:
    """The pack, or the full list of its problems."""
    if not folder.is_dir():
        return [Problem(str(folder), None, "", "not a folder: give the county pack's folder")]
    reading = _Reading(folder, [], {})
    manifest = _manifest(reading)
    tables = {name: reading.table(name, model) for name, model in TABLES.items()}
    if manifest is None or reading.problems:
        return reading.problems
    pack = CountyPack(
        manifest=manifest,
        districts=tuple(tables["districts.csv"]),
        hub_areas=tuple(tables["hub-areas.csv"]),
        postcodes=tuple(tables["postcodes.csv"]),
        sites=tuple(tables["sites.csv"]),
        services=tuple(tables["services.csv"]),
        teams=tuple(tables["teams.csv"]),
    )
    cross_check(pack, reading)
    return reading.problems or pack


def _manifest(reading: _Reading) -> Manifest | None:
    path = reading.folder / MANIFEST
    if not path.is_file():
        reading.problems.append(Problem(MANIFEST, None, "", "missing: every pack has this file"))
        return None
    text = path.read_text(encoding="utf-8")
    try:
        manifest = Manifest.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        reading.problems.append(Problem(MANIFEST, None, "", f"not valid TOML: {error}"))
        return None
    except ValidationError as error:
        for problem in _problems(MANIFEST, None, error):
            key = problem.field.split(".")[0]
            line = next((n for n, t in enumerate(text.splitlines(), 1) if t.strip().startswith(key)), None)
            reading.problems.append(Problem(MANIFEST, line, problem.field, problem.message))
        return None
    for relative in (*manifest.reference, *([manifest.services_from] if manifest.services_from else [])):
        if not (reading.folder / relative).is_file():
            reading.problems.append(
                Problem(MANIFEST, None, "", f"names {relative}, which is not in the pack")
            )
    return manifest
