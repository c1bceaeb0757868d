"""`hubnet partners expect|expected`: how often each partner should send, for stale-partner detection.

Kept in the ops store rather than the gateway's partner registry (which has no such field), so any
partner code seen on `fh.events` can be given one, including ones that publish without the gateway.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from services.cli.runtime import fail, friendly_errors, start
from services.cli.status import interval
from services.ops.heartbeat import utc_now
from services.ops.partners import parse_interval
from services.ops.store import OpsStore

out = Console()


@friendly_errors
def expect(
    code: Annotated[str, typer.Argument(help="Partner code, as on its events (source_partner).")],
    every: Annotated[str | None, typer.Option(help="Expected interval, e.g. 1d, 6h, 30m, 1d12h.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Stop expecting anything from it.")] = False,
) -> None:
    """Say how often a partner should send; `hubnet status` flags it stale after that much silence."""
    if (every is None) == (not clear):
        fail("give either --every INTERVAL or --clear")
    period = None if every is None else parse_interval(every)
    store = OpsStore.in_data_dir(start())
    try:
        if period is None:
            found = store.forget_expectation(code)
            out.print(f"{code}: no expectation any more" if found else f"{code} had no expectation")
            return
        store.expect(code, period, utc_now())
        out.print(f"{code}: expected at least every {interval(period.total_seconds())}")
    finally:
        store.close()


@friendly_errors
def expected() -> None:
    """List each partner's expected interval."""
    store = OpsStore.in_data_dir(start())
    try:
        table = Table("partner", "expected every", "since")
        for code, expectation in store.expectations().items():
            table.add_row(code, interval(expectation.every.total_seconds()), expectation.since.isoformat())
        out.print(table)
    finally:
        store.close()
