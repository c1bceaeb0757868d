"""`hubnet county check DIR` validates a county pack and prints every problem; `hubnet county load
DIR` stores a valid one as the next version, which the workers pick up (docs/county.md)."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from schemas.county import CountyPack, SiteKind
from services.cli.runtime import EXIT_FAILED, friendly_errors, start
from services.county.geography import hub_area_lookup
from services.county.pack import check_pack
from services.county.store import CountyStore

app = typer.Typer(
    help="The county pack: geography, hub network and staff teams as data.", no_args_is_help=True
)
out = Console(soft_wrap=True)  # one problem per line, whatever the terminal width


@app.command("check")
@friendly_errors
def check(
    folder: Annotated[
        Path, typer.Argument(help="The county pack's folder (county.toml and its CSV tables).")
    ],
) -> None:
    """Validate the pack: every problem with its file, line and field; exit 2 when there is any."""
    _summarise(_checked(folder))


@app.command("load")
@friendly_errors
def load(
    folder: Annotated[
        Path, typer.Argument(help="The county pack's folder (county.toml and its CSV tables).")
    ],
    by: Annotated[str | None, typer.Option("--by", help="Who loads it (default: your login name).")] = None,
) -> None:
    """Check the pack, then store it as the next version; workers switch to it without a restart."""
    settings = start()
    pack = _checked(folder)
    store = CountyStore.in_data_dir(settings)
    try:
        version = store.add(pack, loaded_by=by or getpass.getuser())
    finally:
        store.close()
    _summarise(pack)
    out.print(f"loaded as county pack version {version}", highlight=False)


def _checked(folder: Path) -> CountyPack:
    """The pack, or every problem printed and exit status 2."""
    found = check_pack(folder)
    if isinstance(found, list):
        for problem in found:
            out.print(f"[red]problem[/] {problem}", highlight=False)
        out.print(f"{folder}: {len(found)} problem(s); nothing was loaded", highlight=False)
        raise typer.Exit(EXIT_FAILED)
    return found


def _summarise(found: CountyPack) -> None:
    placed = len(hub_area_lookup(found).by_postcode)
    kinds = ", ".join(f"{sum(s.kind is k for s in found.sites)} {k.value}" for k in SiteKind)
    out.print(
        f"{found.manifest.name} ({found.manifest.id}, version {found.manifest.version}): ok; "
        f"{len(found.districts)} district(s), {len({r.hub_area for r in found.hub_areas})} hub area(s), "
        f"{placed} postcode(s) placed, sites {kinds}, {len(found.services)} service(s), "
        f"{len(found.teams)} team(s)",
        highlight=False,
    )
