"""Read a county pack folder and report every problem in it, with file, line and field.

Reading never stops at the first problem: a county fixing its pack wants the whole list at once.
Each CSV row is validated against its row model (schemas/county.py), the manifest against its own
(with its staff sign-in map), each reference file in its publisher's layout, and the Open Referral
UK directory `services_from` names (services/county/directory.py); then the tables, the directory
and the sign-in map are checked against each other (a neighbour, hub area, site, role or service
that names nothing, a directory service routing could not place). Pure: no stores, no Kafka;
`hubnet county check` prints the problems, `hubnet county load` refuses a pack with any.
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from connectors.oruk.importer import DirectoryImport
from schemas.county import (
    CountyPack,
    District,
    HubAreaRule,
    Manifest,
    PostcodeRow,
    Service,
    SignIn,
    SignInIdentity,
    SignInRule,
    Site,
    Team,
)
from services.county.consistency import cross_check
from services.county.directory import check_directory, read_directory
from services.county.problems import PackError, Problem
from services.county.reference import read_reference
from services.county.sign_in import Loc, check_sign_in
from services.county.toml_lines import toml_line

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


@dataclass
class _Reading:
    folder: Path
    problems: list[Problem]
    lines: dict[tuple[str, int], int]
    """(file, row index) -> line number, for the cross-checks to point at."""
    manifest_text: str = field(default="")

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

    def manifest_at(self, loc: Loc, message: str) -> None:
        """A problem in county.toml at a key path (`("sign_in", "rule", 0, "role")`)."""
        self.problems.append(Problem(MANIFEST, toml_line(self.manifest_text, loc), _field_name(loc), message))


def _problems(name: str, line: int | None, error: ValidationError) -> Iterable[Problem]:
    for detail in error.errors():
        field = ".".join(str(part) for part in detail["loc"])
        yield Problem(name, line, field, detail["msg"])


PROVIDER_SETTINGS = {
    "issuer": "HUBNET_OIDC_ISSUER",
    "client_id": "HUBNET_OIDC_CLIENT_ID",
    "client_secret": "HUBNET_OIDC_CLIENT_SECRET",
    "scopes": "HUBNET_OIDC_SCOPES",
    "redirect_url": "HUBNET_OIDC_REDIRECT_URL",
}
"""Provider keys a county may try to put in `[sign_in]`: they are settings (a secret never travels
in a pack), so the problem names the setting to use instead."""

MANIFEST_TABLES: dict[tuple[str | int, ...], type[BaseModel]] = {
    (): Manifest,
    ("sign_in",): SignIn,
    ("sign_in", "rule"): SignInRule,
    ("sign_in", "identity"): SignInIdentity,
}
"""The model of each table of county.toml, to name the keys it reads when one is unknown."""


def _manifest_message(loc: Loc, kind: str, message: str) -> str:
    """pydantic's message, except for an unknown key: say which keys are read there."""
    if kind != "extra_forbidden":
        return message
    key = str(loc[-1])
    if loc[:-1] in ((), ("sign_in",)) and key in PROVIDER_SETTINGS:
        return (
            f"the provider is not part of the pack: set {PROVIDER_SETTINGS[key]} (docs/county.md, Settings)"
        )
    parent = tuple(part for part in loc[:-1] if not isinstance(part, int))
    known = ", ".join(MANIFEST_TABLES.get(parent, Manifest).model_fields)
    return f"{key} is not read here; the keys are {known} (docs/county.md)"


def _field_name(loc: Loc) -> str:
    """A key path as the county reads it: rules numbered from 1 (`sign_in.rule[2].role`)."""
    name = ""
    for part in loc:
        name += f"[{part + 1}]" if isinstance(part, int) else f"{'.' if name else ''}{part}"
    return name


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
    imported, refused = _directory(folder, manifest)
    if manifest is None or reading.problems:
        return reading.problems + refused
    pack = CountyPack(
        manifest=manifest,
        districts=tuple(tables["districts.csv"]),
        hub_areas=tuple(tables["hub-areas.csv"]),
        postcodes=tuple(tables["postcodes.csv"]),
        sites=tuple(tables["sites.csv"]),
        services=tuple(tables["services.csv"]),
        teams=tuple(tables["teams.csv"]),
        directory=imported.catalogue if imported else None,
    )
    cross_check(pack, reading)
    check_sign_in(pack, reading)
    if manifest.services_from and imported:
        reading.problems += refused + check_directory(pack, manifest.services_from, imported.where)
    return reading.problems or pack


def read_sign_in(path: Path) -> SignIn:
    """The staff sign-in map HUBNET_OIDC_CLAIM_MAP names, read by the one `SignIn` schema: a county
    pack's manifest (a TOML file with a `[sign_in]` table) is read with its whole pack, checked as
    `hubnet county check` checks it, so every area a rule grants is a hub area of hub-areas.csv;
    any other file holds `[sign_in]`'s keys at its top level. Raises `PackError` listing every
    problem with its file, line and field."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as error:
        raise PackError(
            [Problem(str(path), None, "", f"cannot read the claim map ({error.strerror})")]
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise PackError([Problem(str(path), None, "", f"not valid TOML: {error}")]) from None
    if isinstance(data.get("sign_in"), dict):
        if path.name != MANIFEST:
            why = f"read from a pack's {MANIFEST} only: name the pack's, or put its keys at the top level"
            raise PackError([Problem(str(path), toml_line(text, ("sign_in",)), "sign_in", why)])
        found = check_pack(path.parent)
        if isinstance(found, list):
            raise PackError([replace(p, file=str(path.parent / p.file)) for p in found])
        return found.manifest.sign_in
    try:
        return SignIn.model_validate(data)
    except ValidationError as error:
        raise PackError([_map_problem(str(path), text, detail) for detail in error.errors()]) from None


def _map_problem(file: str, text: str, detail: Any) -> Problem:
    """A schema error of a stand-alone map (the `[sign_in]` keys at its top level)."""
    loc: Loc = tuple(detail["loc"])
    message = _manifest_message(("sign_in", *loc), detail["type"], detail["msg"])
    return Problem(file, toml_line(text, loc), _field_name(loc), message)


def _directory(folder: Path, manifest: Manifest | None) -> tuple[DirectoryImport | None, list[Problem]]:
    """The directory `services_from` names, read and validated record by record, and the records
    it refuses (which do not stop the other checks). None when the pack names none, or it is
    missing: the manifest check says so."""
    name = manifest.services_from if manifest else None
    if not name or not (folder / name).is_file():
        return None, []
    return read_directory(folder, name)


def _manifest(reading: _Reading) -> Manifest | None:
    path = reading.folder / MANIFEST
    if not path.is_file():
        reading.problems.append(Problem(MANIFEST, None, "", "missing: every pack has this file"))
        return None
    reading.manifest_text = text = path.read_text(encoding="utf-8")
    try:
        manifest = Manifest.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        reading.problems.append(Problem(MANIFEST, None, "", f"not valid TOML: {error}"))
        return None
    except ValidationError as error:
        for detail in error.errors():
            loc = tuple(detail["loc"])
            reading.manifest_at(loc, _manifest_message(loc, detail["type"], detail["msg"]))
        return None
    if manifest.services_from and not (reading.folder / manifest.services_from).is_file():
        reading.manifest_at(("services_from",), f"names {manifest.services_from}, which is not in the pack")
    _, problems = read_reference(reading.folder, manifest.reference)
    for problem in problems:
        line = problem.line
        if problem.file == MANIFEST:
            line = toml_line(text, tuple(problem.field.split(".")))
        reading.problems.append(Problem(problem.file, line, problem.field, problem.message))
    return manifest
