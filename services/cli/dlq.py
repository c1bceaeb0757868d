"""`hubnet dlq`: list, show, replay and discard dead letters."""

from __future__ import annotations

import getpass
from datetime import datetime
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from services.cli.publishing import publishing
from services.cli.runtime import fail, friendly_errors, start
from services.cli.tables import table_console
from services.core.broker import require_bootstrap
from services.core.settings import Settings
from services.gateway.replays import ReplayDoor
from services.gateway.service import Gateway
from services.ops import dead_letters
from services.ops.dead_letters import Entry, Filter

app = typer.Typer(
    help="Work the dead-letter topic: what partners sent that hubnet could not use.", no_args_is_help=True
)
out = table_console()

PartnerOpt = Annotated[str | None, typer.Option(help="Only this partner.")]
ConnectorOpt = Annotated[str | None, typer.Option(help="Only this connector (format).")]
ReasonOpt = Annotated[str | None, typer.Option(help="Only reasons containing this text.")]
SinceOpt = Annotated[datetime | None, typer.Option(help="Rejected at or after (ISO date/time).")]
UntilOpt = Annotated[datetime | None, typer.Option(help="Rejected at or before (ISO date/time).")]
ByOpt = Annotated[str, typer.Option(help="Who is acting (kept with the status and audit).")]


def _entries(settings: Settings, flt: Filter) -> list[Entry]:
    return [e for e in dead_letters.load(settings, require_bootstrap(settings)) if flt(e)]


@app.command("list")
@friendly_errors
def list_command(
    partner: PartnerOpt = None,
    connector: ConnectorOpt = None,
    reason: ReasonOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Include replayed and discarded ones.")] = False,
) -> None:
    """Dead letters, oldest first: id, when, partner, connector, where, reason."""
    settings = start()
    entries = _entries(settings, Filter(partner, connector, reason, since, until, include_closed=all_))
    table = Table("id", "rejected at", "partner", "connector", "where", "reason", "state")
    for entry in entries:
        letter = entry.letter
        state = entry.status.state if entry.status else "open"
        table.add_row(
            letter.dead_letter_id[:12],
            f"{letter.rejected_at:%Y-%m-%d %H:%M}",
            letter.partner,
            letter.connector,
            letter.where,
            letter.reason,
            state,
        )
    out.print(table)
    out.print(f"{len(entries)} dead letter(s)")


@app.command("show")
@friendly_errors
def show(
    dead_letter_id: Annotated[str, typer.Argument(help="Id or unique prefix from `hubnet dlq list`.")],
) -> None:
    """The reason and the original input exactly as the partner sent it."""
    settings = start()
    entry = dead_letters.find(dead_letters.load(settings, require_bootstrap(settings)), dead_letter_id)
    letter = entry.letter
    for label, value in (
        ("id", letter.dead_letter_id),
        ("partner", letter.partner),
        ("connector", letter.connector),
        ("input", letter.source_name),
        ("record", letter.record_ref),
        ("where", letter.location),
        ("reason", letter.reason),
        ("rejected at", letter.rejected_at.isoformat()),
        ("trace id", letter.trace_id),
        ("state", entry.status.state if entry.status else "open"),
    ):
        if value:
            out.print(f"[bold]{label}:[/] {value}", highlight=False)
    out.rule("original input")
    typer.echo(letter.original.decode("utf-8", errors="backslashreplace"))


@app.command("replay")
@friendly_errors
def replay(
    partner: PartnerOpt = None,
    connector: ConnectorOpt = None,
    reason: ReasonOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    by: ByOpt = getpass.getuser(),
) -> None:
    """Re-run today's connector on open dead letters, each as its partner through the gateway's
    checks (audited); those that now map, and are allowed, leave the dead-letter view."""
    settings = start()
    entries = _entries(settings, Filter(partner, connector, reason, since, until))
    with publishing(settings, out) as publisher, Progress(console=out, transient=True) as progress:
        gateway = Gateway.open(settings, publisher)
        door = ReplayDoor(gateway, by, "dead letters replayed with `hubnet dlq replay`")
        task = progress.add_task("replaying", total=len(entries))
        try:
            report = dead_letters.replay(
                entries, publisher, by, progress=lambda: progress.advance(task), door=door
            )
        finally:
            gateway.close()
    out.print(f"[green]{len(report.replayed)} replayed[/], {len(report.still_failing)} still failing")
    for dl_id, why in report.still_failing:
        out.print(f"  {dl_id[:12]}: {why}", highlight=False)


@app.command("discard")
@friendly_errors
def discard(
    dead_letter_id: Annotated[str, typer.Argument(help="Id or unique prefix from `hubnet dlq list`.")],
    reason: Annotated[str, typer.Option(help="Why nobody will fix it (required, audited).")] = "",
    by: ByOpt = getpass.getuser(),
) -> None:
    """Close a dead letter without replaying it; needs a reason and writes an audit record."""
    if not reason.strip():
        fail("a discard needs --reason, which is kept in the audit trail")
    settings = start()
    entry = dead_letters.find(dead_letters.load(settings, require_bootstrap(settings)), dead_letter_id)
    with publishing(settings, out) as publisher:
        dead_letters.discard(entry, reason, by, publisher)
    out.print(f"discarded {entry.letter.dead_letter_id[:12]}")
