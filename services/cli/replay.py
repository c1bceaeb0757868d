"""`hubnet replay`: feed a generated county through the gateway as live partner traffic.

The operator sends each record as the county partner it came from, through the gateway's one
ingest step (`services/gateway/replays.py`: audited as the operator acting for the partner, and
held to that partner's registration). A county partner not yet registered is registered first,
from the county itself (`services/synthetic/registrations.py`), and each registration is printed and
audited; a partner revoked since stays revoked, and its records are refused.
"""

from __future__ import annotations

import getpass
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from connectors.base import SourceContext
from services.cli.runtime import fail, friendly_errors, start
from services.core import heap
from services.core.broker import require_bootstrap
from services.core.publisher import DurablePublisher
from services.gateway.replays import ReplayDoor, register_missing
from services.gateway.service import Gateway
from services.gateway.submission import RefusedError
from services.ingest.pacing import Pacer, parse_rate
from services.synthetic.registrations import county_partners
from services.synthetic.replay import deliveries

out = Console()


@friendly_errors
def replay(
    county: Annotated[Path, typer.Argument(help="Folder written by `hubnet generate`.")],
    rate: Annotated[str, typer.Option(help="Records per second ('500/s', '30000/min' or 'max').")] = "500/s",
    limit: Annotated[int | None, typer.Option(help="Stop after this many records.")] = None,
    by: Annotated[str, typer.Option(help="Who is replaying (audited).")] = getpass.getuser(),
) -> None:
    """Send every record in the order partners would, at a steady rate, each as its partner through
    the gateway's checks, into the durable outbox."""
    if not (county / "manifest.json").is_file():
        fail(f"{county} is not a generated county (no manifest.json): run `hubnet generate` first")
    pace = Pacer(parse_rate(rate))
    settings = start()
    publisher = DurablePublisher(settings, require_bootstrap(settings)).start()
    gateway = Gateway.open(settings, publisher)
    counts: dict[str, Counter[str]] = {k: Counter() for k in ("accepted", "rejected", "refused")}
    try:
        purpose = f"`hubnet replay` of {county.name}"
        for partner in register_missing(gateway, county_partners(county), by, purpose):
            out.print(
                f"registered county partner {partner.code} ({', '.join(partner.formats)})", highlight=False
            )
        door = ReplayDoor(gateway, by, f"generated county {county.name} replayed with `hubnet replay`")
        heap.settle()
        columns = (TextColumn("replaying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=out, transient=True) as progress:
            task = progress.add_task("replay", total=limit)
            for sent, delivery in enumerate(deliveries(county), start=1):
                pace.wait()
                ctx = SourceContext(partner=delivery.partner, source_name=delivery.path)
                try:
                    result = door.send(delivery.partner, delivery.fmt, delivery.data, ctx)
                except RefusedError:
                    counts["refused"][delivery.fmt] += 1
                else:
                    for state, per_format in counts.items():
                        per_format[delivery.fmt] += getattr(result, state)
                progress.advance(task)
                if limit and sent >= limit:
                    break
    finally:
        if not publisher.flush(60):
            out.print("[yellow]the broker did not take everything yet; the rest waits in the outbox[/]")
        publisher.close()
        gateway.close()
    table = Table("format", "events", "dead-lettered", "refused", title="replayed")
    for fmt in sorted(set().union(*counts.values())):
        table.add_row(fmt, *(f"{counts[state][fmt]:,}" for state in counts))
    out.print(table)
