"""`hubnet watch DIR`: the file drop, one inbox per partner and format (see services/gateway/filedrop.py)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from connectors import registry
from services.cli.runtime import friendly_errors, start
from services.core import heap
from services.core.broker import require_bootstrap
from services.core.publisher import DurablePublisher
from services.gateway.filedrop import INCOMING, FileDrop, Outcome
from services.gateway.partners import ANY
from services.gateway.service import Gateway

out = Console()


@friendly_errors
def watch(
    folder: Annotated[Path, typer.Argument(help="Root of the drop: DIR/<partner>/<format>/incoming/.")],
    interval: Annotated[float, typer.Option(help="Seconds between scans.")] = 1.0,
    settle: Annotated[
        float, typer.Option(help="A file is taken once unchanged for this many seconds.")
    ] = 2.0,
    once: Annotated[bool, typer.Option("--once", help="Scan once, deliver, and exit.")] = False,
) -> None:
    """Process each settled file once into done/ or failed/ with a report beside it, until Ctrl-C."""
    settings = start()
    publisher = DurablePublisher(settings, require_bootstrap(settings)).start()
    gateway = Gateway.open(settings, publisher)
    try:
        _make_inboxes(folder, gateway)
        drop = FileDrop(folder, gateway, settle_s=settle)
        heap.settle()
        if once:
            for outcome in drop.scan():
                _report(outcome)
            return
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        out.print(f"watching {folder} ({len(drop.inboxes())} inboxes). Ctrl-C stops.")
        try:
            drop.run(stopped, interval, _report)
        except KeyboardInterrupt:
            out.print("stopping...")
    finally:
        publisher.close()
        gateway.close()


def _make_inboxes(folder: Path, gateway: Gateway) -> None:
    """An incoming/ folder for every active partner and each format it may publish."""
    for partner in gateway.partners.all():
        if partner.active:
            formats = registry.formats() if ANY in partner.formats else partner.formats
            for fmt in formats:
                (folder / partner.code / fmt / INCOMING).mkdir(parents=True, exist_ok=True)


def _report(outcome: Outcome) -> None:
    colour = "green" if outcome.state == "done" else "red"
    counts = {k: outcome.report.get(k, 0) for k in ("accepted", "rejected", "refused", "duplicates")}
    summary = (
        ", ".join(f"{v} {k}" for k, v in counts.items())
        if "error" not in outcome.report
        else outcome.report["error"]
    )
    out.print(f"[{colour}]{outcome.state}[/] {outcome.path}: {summary}", highlight=False)
