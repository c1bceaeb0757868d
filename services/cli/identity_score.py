"""`hubnet identity score DIR`: identity resolution scored against a generated county's ground truth.

A tool of the synthetic county generator (services/synthetic/identity_score.py), kept apart from the
production identity commands so that they never import the generator (pyproject's import contract);
main.py registers it on the `identity` group.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.cli.runtime import err, friendly_errors, start
from services.cli.tables import table_console
from services.synthetic.identity_score import score as run

out = table_console()


@friendly_errors
def score(
    county: Annotated[Path, typer.Argument(help="A folder written by `hubnet generate`.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Resolve a generated county offline and compare with its ground truth."""
    settings = start()
    path = settings.data_dir / "identity-score.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    columns = (
        TextColumn("resolving"),
        MofNCompleteColumn(),
        TextColumn("partner deliveries"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as progress:  # draws only on a terminal
        task = progress.add_task("deliveries", total=None)
        report = run(county, path, lambda n: progress.update(task, completed=n))
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    for name, value in report.model_dump().items():
        out.print(f"{name:38} {value}")
