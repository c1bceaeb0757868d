"""`hubnet directory import`: load an Open Referral UK directory into hubnet's service catalogue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from connectors.base import SourceContext
from connectors.oruk.importer import load_directory
from services.cli.convert import rejection_line
from services.cli.runtime import fail, friendly_errors, start
from services.core.broker import require_bootstrap
from services.core.publisher import DurablePublisher
from services.ingest.directory import directory_messages

app = typer.Typer(
    help="The service directory (Open Referral UK) that referral routing reads.", no_args_is_help=True
)
out = Console(soft_wrap=True)  # a piped or logged import keeps each warning on its one line


@app.command("import")
@friendly_errors
def import_command(
    files: Annotated[
        list[Path], typer.Argument(help="ORUK JSON (object, array or API page) or a zip of CSV tables.")
    ],
    publisher_code: Annotated[
        str, typer.Option("--partner", help="Who publishes the directory.")
    ] = "directory",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and count; publish nothing.")] = False,
) -> None:
    """Publish services, organisations and locations to fh.directory; bad records go to fh.dlq."""
    settings = start()
    publisher = None if dry_run else DurablePublisher(settings, require_bootstrap(settings)).start()
    rejected = 0
    try:
        for path in files:
            if not path.is_file():
                fail(f"cannot read {path}: no such file")
            result = load_directory(path.read_bytes())
            rejected += len(result.rejections)
            for warning in result.warnings:
                out.print(
                    f"[yellow]warning[/] {path.name} {warning.location}: {warning.reason}", highlight=False
                )
            for rejection in result.rejections:
                out.print(f"[red]rejected[/] {rejection_line(Path(path.name), rejection)}", highlight=False)
            if publisher:
                publisher.publish(
                    directory_messages(result, SourceContext(partner=publisher_code, source_name=path.name))
                )
            out.print(
                f"{path.name}: {len(result.services)} services, {len(result.resources)} resources, "
                f"{len(result.rejections)} rejected"
            )
    finally:
        if publisher:
            if not publisher.flush(30):
                out.print("[yellow]the broker did not take everything yet; the rest waits in the outbox[/]")
            publisher.close()
    if rejected:
        raise typer.Exit(1)
