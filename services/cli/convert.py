"""`hubnet convert`: run a connector offline, so a partner can check a feed before going live."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console

from connectors import registry
from connectors.base import Rejection, SourceContext
from services.cli.runtime import fail, friendly_errors, start

err = Console(stderr=True)


@friendly_errors
def convert(
    files: Annotated[list[Path], typer.Argument(help="Input files; '-' reads standard input.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="Connector format name (see --list-formats).")],
    partner: Annotated[str, typer.Option(help="Partner code stamped on the events.")] = "local-test",
    ndjson: Annotated[
        bool, typer.Option("--ndjson", help="One Bundle per line instead of a JSON array.")
    ] = False,
) -> None:
    """Print the hub event Bundles an input becomes, or why records were rejected (exit status 1).

    Nothing is sent to Kafka. Known formats: see `hubnet convert --format x -` error text.
    """
    start()
    connector = registry.get(fmt)
    bundles: list[bytes] = []
    rejected = 0
    for path in files:
        data = sys.stdin.buffer.read() if str(path) == "-" else _read(path)
        ctx = SourceContext(partner=partner, source_name=str(path))
        for outcome in connector.convert(data, ctx):
            if isinstance(outcome, Rejection):
                rejected += 1
                where = " ".join(
                    p for p in (outcome.record_ref, f"({outcome.location})" if outcome.location else "") if p
                )
                err.print(f"[red]rejected[/] {path} {where}: {outcome.reason}", highlight=False)
            else:
                bundles.append(outcome.to_bytes())
    if ndjson:
        sys.stdout.buffer.write(b"".join(b + b"\n" for b in bundles))
    else:
        sys.stdout.buffer.write(
            orjson.dumps([orjson.Fragment(b) for b in bundles], option=orjson.OPT_INDENT_2) + b"\n"
        )
    err.print(f"{len(bundles)} event(s), {rejected} rejected record(s)")
    if rejected:
        raise typer.Exit(1)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}")
