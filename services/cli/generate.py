"""`hubnet generate`: write a synthetic county (families, partner feeds, ground truth) to a folder."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.cli.runtime import fail, friendly_errors, start
from services.synthetic.county import DEFAULT_END, DEFAULT_START, Options, check_output
from services.synthetic.county import generate as generate_county

out_console = Console(stderr=True)


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a date written YYYY-MM-DD, not {value!r}")


@friendly_errors
def generate(
    families: Annotated[
        int, typer.Option("--families", "-n", min=1, help="How many families live in the county.")
    ],
    seed: Annotated[
        int, typer.Option("--seed", "-s", help="Random seed: the same seed gives identical files.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="New or empty folder to write the county to.")],
    start_day: Annotated[
        str, typer.Option("--start", help="First day of the simulated window (YYYY-MM-DD).")
    ] = DEFAULT_START.isoformat(),
    end_day: Annotated[
        str, typer.Option("--end", help="Last day of the simulated window (YYYY-MM-DD).")
    ] = DEFAULT_END.isoformat(),
    pack: Annotated[
        Path | None,
        typer.Option(
            "--pack",
            exists=True,
            file_okay=False,
            help="A county pack folder: the families live at its postcodes, in its hub areas, near its "
            "sites (default: the synthetic Essex county).",
        ),
    ] = None,
) -> None:
    """Generate a synthetic county modelled on Essex (or living inside a county pack's geography):
    made-up families, the records their partners (NHS, social care, schools, charities) would send
    in each partner's own format, and the ground truth of who is who. No real person's data is
    used. See docs/synthetic-county.md.
    """
    start()
    options = Options(families, seed, _day(start_day, "--start"), _day(end_day, "--end"), pack=pack)
    check_output(out)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=out_console, transient=False) as progress:
        lives = progress.add_task("families", total=families)
        files = progress.add_task("records written", total=None)

        def step(stage: str, done: int) -> None:
            progress.advance(lives if stage == "families" else files, done)

        manifest = generate_county(options, out, step)
        progress.update(files, total=manifest["counts"]["records"])
    counts = manifest["counts"]
    out_console.print(
        f"wrote {counts['families']} families, {counts['people']} people, {counts['records']} records in "
        f"{counts['files']} files to {out} (ground truth: {out / 'ground_truth.csv'})",
        highlight=False,
    )
