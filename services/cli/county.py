"""`hubnet county check DIR` validates a county pack and prints every problem; `hubnet county load
DIR` stores a valid one (its tables as the next version, which the workers pick up, and its
reference files), audited on `fh.audit` (docs/county.md)."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from schemas.county import CountyPack, SiteKind
from services.cli.publishing import publishing
from services.cli.runtime import EXIT_FAILED, friendly_errors, start
from services.core.audit import audit_message
from services.core.settings import Settings
from services.county.geography import hub_area_lookup
from services.county.loading import LoadReport, load_pack, loaded_record, pack_digest, refused_record
from services.county.pack import check_pack
from services.county.problems import PackError, Problem
from services.county.store import CountyStore
from services.reference.store import ReferenceStore

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
    found = check_pack(folder)
    if isinstance(found, list):
        _refuse(folder, found)
    _summarise(folder, found)


@app.command("load")
@friendly_errors
def load(
    folder: Annotated[
        Path, typer.Argument(help="The county pack's folder (county.toml and its CSV tables).")
    ],
    by: Annotated[str | None, typer.Option("--by", help="Who loads it (default: your login name).")] = None,
) -> None:
    """Check the pack, then store it and its reference files; workers switch to it without a
    restart. Audited on fh.audit, so it needs the broker (refused or loaded)."""
    settings = start()
    who = by or getpass.getuser()
    with publishing(settings, out) as publisher:  # the load is audited: no broker, no load
        found = check_pack(folder)
        try:
            if isinstance(found, list):
                raise PackError(found)
            report = _store(settings, folder, found, who)
        except PackError as error:  # found by the check, or a file changed since: nothing stored
            publisher.publish([audit_message(refused_record(folder, len(error.problems), who))])
            _refuse(folder, list(error.problems))
        publisher.publish([audit_message(loaded_record(found, report, who))])
    _summarise(folder, found)
    out.print(f"loaded as county pack version {report.version}: {report.changes()}", highlight=False)


def _store(settings: Settings, folder: Path, pack: CountyPack, who: str) -> LoadReport:
    county, names = CountyStore.in_data_dir(settings), ReferenceStore.from_settings(settings)
    try:
        return load_pack(folder, pack, who, county, names)
    finally:
        county.close()
        names.close()


def _refuse(folder: Path, problems: list[Problem]) -> NoReturn:
    """Every problem printed, and exit status 2."""
    for problem in problems:
        out.print(f"[red]problem[/] {escape(str(problem))}", highlight=False)  # `[oruk.needs]` is text
    out.print(f"{folder}: {len(problems)} problem(s); nothing was loaded", highlight=False)
    raise typer.Exit(EXIT_FAILED)


def _services(pack: CountyPack) -> str:
    """`4 service(s)`, and how many of them come from the pack's Open Referral directory."""
    if pack.directory is None:
        return f"{len(pack.services)} service(s)"
    listed = len(pack.directory.services)
    return f"{len(pack.services) + listed} service(s) ({listed} from {pack.manifest.services_from})"


def _summarise(folder: Path, found: CountyPack) -> None:
    placed = len(hub_area_lookup(found).by_postcode)
    kinds = ", ".join(f"{sum(s.kind is k for s in found.sites)} {k.value}" for k in SiteKind)
    out.print(
        f"{found.manifest.name} ({found.manifest.id}, version {found.manifest.version}): ok; "
        f"{len(found.districts)} district(s), {len({r.hub_area for r in found.hub_areas})} hub area(s), "
        f"{placed} postcode(s) placed, sites {kinds}, {_services(found)}, "
        f"{len(found.teams)} team(s), {len(found.manifest.sign_in.rule)} sign-in rule(s), "
        f"reference {', '.join(found.manifest.reference) or 'none'}; sha256 {pack_digest(folder, found)}",
        highlight=False,
    )
