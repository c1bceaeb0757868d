"""The reference files a county pack names in its manifest (`[reference]`, kind = file): read and
validated with the pack by `hubnet county check`, put in the reference store by `hubnet county load`.

Each file is in its publisher's layout (services/reference/files.py) and read whole before anything
is stored: a problem is reported as the pack's other problems are, with the file and line, so a bad
register is found by `check`, never half-loaded. A file must lie inside the pack's folder: the pack
is what was checked, and a path leading out of it would load something nobody checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from services.county.problems import Problem
from services.reference.files import KINDS, ReferenceFileError, Row, read
from services.reference.store import ReferenceStore

MANIFEST = "county.toml"


@dataclass(frozen=True)
class ReferenceChange:
    """How many names of one kind the reference store held before a load and holds after."""

    kind: str
    before: int
    after: int


def read_reference(folder: Path, files: Mapping[str, str]) -> tuple[dict[str, list[Row]], list[Problem]]:
    """The rows of every reference file the manifest names, by kind, and every problem found."""
    rows: dict[str, list[Row]] = {}
    problems: list[Problem] = []
    for kind, relative in files.items():
        if kind not in KINDS:
            message = f"{kind} is not a kind of reference data; use one of: {', '.join(KINDS)}"
            problems.append(Problem(MANIFEST, None, f"reference.{kind}", message))
            continue
        path = folder / relative
        if Path(relative).is_absolute() or not path.resolve().is_relative_to(folder.resolve()):
            problems.append(
                Problem(
                    MANIFEST,
                    None,
                    f"reference.{kind}",
                    f"{relative} is outside the pack: put it in its folder",
                )
            )
        elif not path.is_file():
            problems.append(Problem(MANIFEST, None, f"reference.{kind}", f"{relative} is not in the pack"))
        else:
            try:
                rows[kind] = read(kind, path.read_bytes())
            except ReferenceFileError as error:
                problems.extend(Problem(relative, p.line, p.where, p.message) for p in error.problems)
    return rows, problems


def load_reference(store: ReferenceStore, rows: Mapping[str, list[Row]]) -> list[ReferenceChange]:
    """Replace each kind's names with the pack's (one transaction per kind); what changed."""
    changes = []
    for kind, found in rows.items():
        before = len(store.rows(kind))
        changes.append(ReferenceChange(kind, before, store.replace(kind, found)))
    return changes
