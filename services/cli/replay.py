"""`hubnet replay`: feed a generated county through the connectors as live partner traffic."""

from __future__ import annotations

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
from services.ingest.pacing import Pacer, parse_rate
from services.ingest.pipeline import Ingestor
from services.synthetic.replay import deliveries

out = Console()


@friendly_errors
def replay(
    county: Annotated[Path, typer.Argument(help="Folder written by `hubnet generate`.")],
    rate: Annotated[str, typer.Option(help="Records per second ('500/s', '30000/min' or 'max').")] = "500/s",
    limit: Annotated[int | None, typer.Option(help="Stop after this many records.")] = None,
) -> None:
    """Send every record in the order partners would, at a steady rate, through the durable publisher."""
    if not (county / "manifest.json").is_file():
        fail(f"{county} is not a generated county (no manifest.json): run `hubnet generate` first")
    pace = Pacer(parse_rate(rate))
    settings = start()
    publisher = DurablePublisher(settings, require_bootstrap(settings)).start()
    ingestor = Ingestor(publisher)
    heap.settle()
    accepted: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    columns = (TextColumn("replaying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    try:
        with Progress(*columns, console=out, transient=True) as progress:
            task = progress.add_task("replay", total=limit)
            for sent, delivery in enumerate(deliveries(county), start=1):
                pace.wait()
                ctx = SourceContext(partner=delivery.partner, source_name=delivery.path)
                result = ingestor.ingest(delivery.fmt, delivery.data, ctx)
                accepted[delivery.fmt] += len(result.accepted)
                rejected[delivery.fmt] += len(result.rejected)
                progress.advance(task)
                if limit and sent >= limit:
                    break
    finally:
        if not publisher.flush(60):
            out.print("[yellow]the broker did not take everything yet; the rest waits in the outbox[/]")
        publisher.close()
    table = Table("format", "events", "dead-lettered", title="replayed")
    for fmt in sorted(accepted.keys() | rejected.keys()):
        table.add_row(fmt, f"{accepted[fmt]:,}", f"{rejected[fmt]:,}")
    out.print(table)
