"""`hubnet topics`: make the broker match the topic catalogue, or show the catalogue."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from schemas.topics import catalogue
from services.cli.runtime import fail, friendly_errors, start
from services.core import kafka_clients, topics
from services.core.broker import require_bootstrap

app = typer.Typer(
    help="Create and check Kafka topics from the catalogue (schemas/topics.toml).", no_args_is_help=True
)
out = Console()


@app.command("apply")
@friendly_errors
def apply_command(
    check_only: Annotated[bool, typer.Option("--check", help="Report only; change nothing.")] = False,
) -> None:
    """Create missing topics (idempotent) and report drift from the catalogue."""
    settings = start()
    admin = kafka_clients.admin(settings, require_bootstrap(settings))
    try:
        report = topics.check(admin, catalogue()) if check_only else topics.apply(admin, catalogue())
    finally:
        admin.close()
    for name in report.created:
        out.print(f"[green]created[/] {name}")
    for name in report.present:
        out.print(f"present {name}")
    for name in report.missing:
        out.print(f"[yellow]missing[/] {name}")
    for name, problems in report.drift.items():
        for problem in problems:
            out.print(f"[red]drift[/] {name}: {problem}")
    if not report.ok:
        fail("the broker does not match the catalogue", code=1)


@app.command("list")
def list_command() -> None:
    """Print the topic catalogue."""
    table = Table("topic", "partitions", "retention", "cleanup", "key", "purpose")
    for spec in catalogue().topic:
        retention = "forever" if spec.retention_ms < 0 else f"{spec.retention_ms // 86_400_000} d"
        table.add_row(spec.name, str(spec.partitions), retention, spec.cleanup_policy, spec.key, spec.purpose)
    out.print(table)
