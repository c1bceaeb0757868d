"""`hubnet convert`: run a connector offline, so a partner can check a feed before going live.

Rejections go to standard error, one line each, with each place named once (the file, the
record, then the connector's reason, which starts with its own location). Lines are never cut to
the terminal's width when standard error is a file or a pipe, so a log or `grep` sees whole
reasons. The exit status is 0 when every person record converted, even if side entries (a
directory Organization, a server's OperationOutcome) were refused, and 1 when a person record was.
A last note says what the format's own published validator checks that hubnet does not.
"""

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

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def _list_formats(wanted: bool) -> None:
    """`--list-formats`: each format name with what it reads, then exit."""
    if not wanted:
        return
    width = max(len(name) for name in registry.formats())
    for name in registry.formats():
        out.print(f"{name:<{width}}  {registry.get(name).title}", highlight=False, markup=False)
    raise typer.Exit(0)


@friendly_errors
def convert(
    files: Annotated[list[Path], typer.Argument(help="Input files; '-' reads standard input.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="Connector format name (see --list-formats).")],
    partner: Annotated[str, typer.Option(help="Partner code stamped on the events.")] = "local-test",
    ndjson: Annotated[
        bool, typer.Option("--ndjson", help="One Bundle per line instead of a JSON array.")
    ] = False,
    list_formats: Annotated[
        bool,
        typer.Option(
            "--list-formats",
            is_eager=True,
            callback=_list_formats,
            help="List the format names and what each reads, then exit.",
        ),
    ] = False,
) -> None:
    """Print the hub event Bundles an input becomes, and why records were rejected.

    Nothing is sent to Kafka. Exit status 0 when every person record converted (side entries
    such as a directory Organization or an OperationOutcome may have been refused), 1 when a
    person record was rejected. `hubnet convert --list-formats` names the formats.
    """
    del list_formats  # handled by its callback before the command runs
    listed = start().ingest_max_errors  # reasons printed; the rest are counted, as in API answers
    connector = registry.get(fmt)
    bundles: list[bytes] = []
    rejected = side = 0
    for path in files:
        data = sys.stdin.buffer.read() if str(path) == "-" else _read(path)
        ctx = SourceContext(partner=partner, source_name=str(path))
        for outcome in connector.convert(data, ctx):
            if isinstance(outcome, Rejection):
                side += outcome.side_entry
                rejected += not outcome.side_entry
                if rejected + side > listed:
                    continue
                label = "[yellow]side entry refused[/]" if outcome.side_entry else "[red]rejected[/]"
                err.print(f"{label} {rejection_line(path, outcome)}", highlight=False)
            else:
                bundles.append(outcome.to_bytes())
    if ndjson:
        sys.stdout.buffer.write(b"".join(b + b"\n" for b in bundles))
    else:
        sys.stdout.buffer.write(
            orjson.dumps([orjson.Fragment(b) for b in bundles], option=orjson.OPT_INDENT_2) + b"\n"
        )
    if rejected + side > listed:
        err.print(
            f"... {rejected + side - listed} more not listed [HUBNET_INGEST_MAX_ERRORS]", highlight=False
        )
    err.print(summary(len(bundles), rejected, side), highlight=False)
    if connector.not_checked:
        err.print(f"note: {connector.not_checked}", highlight=False, markup=False)
    if rejected or (side and not bundles):
        raise typer.Exit(1)


def rejection_line(path: Path, rejection: Rejection) -> str:
    """`FILE RECORD: LOCATION: reason`, each place once: the record is left out when the location
    already names it, the location when the reason already starts with it."""
    location = rejection.location or ""
    reason = rejection.reason
    if location and not reason.startswith(location):
        reason = f"{location}: {reason}"
    places = [str(path)]
    if (
        rejection.record_ref
        and rejection.record_ref != str(path)
        and not reason.startswith(rejection.record_ref)
    ):
        places.append(rejection.record_ref)
    return f"{' '.join(places)}: {reason}".replace("\n", " ")


def summary(events: int, rejected: int, side: int) -> str:
    """The last line: what converted, what was rejected, and whether any person record was lost."""
    text = f"{events} event(s), {rejected} rejected record(s)"
    if side:
        text += f", {side} side entr{'y' if side == 1 else 'ies'} refused (not person records)"
        if not rejected and events:
            text += "; every person record converted"
        elif not events:
            text += "; the input holds no person record"
    return text


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}")
