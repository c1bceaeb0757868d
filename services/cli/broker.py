"""`hubnet broker`: the embedded Kafka-protocol broker in the foreground, for development."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer
from rich.console import Console

from schemas.topics import catalogue
from services.cli.runtime import friendly_errors, start
from services.core import kafka_clients, topics
from services.core.broker import EmbeddedBroker, forget_running, free_port, record_running

out = Console()


@friendly_errors
def broker(
    port: Annotated[
        int | None, typer.Option(help="Port to listen on (default: HUBNET_BROKER_PORT or free).")
    ] = None,
    apply_topics: Annotated[
        bool, typer.Option("--topics/--no-topics", help="Create the catalogue's topics.")
    ] = True,
) -> None:
    """Run the embedded broker (Tansu, in memory) until Ctrl-C; other hubnet commands find it."""
    settings = start()
    with EmbeddedBroker(port=port or settings.broker_port or free_port()) as running:
        record_running(settings, running)
        try:
            if apply_topics:
                admin = kafka_clients.admin(settings, running.bootstrap)
                report = topics.apply(admin, catalogue())
                admin.close()
                out.print(f"topics: created {len(report.created)}, present {len(report.present)}")
            out.print(
                f"[green]broker ready[/] at [bold]{running.bootstrap}[/] (memory only). Ctrl-C stops it."
            )
            stopped = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stopped.set())
            while not stopped.wait(0.5):
                if not running.running:
                    out.print("[red]the broker process exited[/]")
                    raise typer.Exit(1)
        finally:
            forget_running(settings)
