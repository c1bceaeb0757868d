"""`hubnet reference load|list`: the county's reference data (organisation and area names by code)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from services.cli.runtime import fail, friendly_errors, start
from services.reference.files import KINDS
from services.reference.store import ReferenceStore, load_file

app = typer.Typer(help="Reference data: organisation and area names by code.", no_args_is_help=True)
out = Console(soft_wrap=True)
KIND_HELP = "; ".join(f"{k.name}: {k.title}" for k in KINDS.values())


def _kind(kind: str) -> str:
    if kind not in KINDS:
        fail(f"unknown reference kind {kind!r}; use one of: {', '.join(KINDS)}")
    return kind


@app.command("load")
@friendly_errors
def load(
    kind: Annotated[str, typer.Argument(help=KIND_HELP)],
    file: Annotated[
        Path, typer.Argument(help="The file in its publisher's layout.", exists=True, dir_okay=False)
    ],
) -> None:
    """Validate a reference file and replace that kind's names with it (all or nothing)."""
    store = ReferenceStore.from_settings(start())
    try:
        count = load_file(store, _kind(kind), file)
    finally:
        store.close()
    out.print(f"loaded {count} {kind} names from {file}", highlight=False, markup=False)


@app.command("list")
@friendly_errors
def list_names(kind: Annotated[str, typer.Argument(help=KIND_HELP)]) -> None:
    """The codes and names of one kind, as loaded."""
    store = ReferenceStore.from_settings(start())
    try:
        rows = store.rows(_kind(kind))
    finally:
        store.close()
    table = Table("code", "name")
    for code, name in rows:
        table.add_row(code, name)
    out.print(table)
    out.print(f"{len(rows)} {kind} names", highlight=False, markup=False)
