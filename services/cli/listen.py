"""`hubnet listen hl7`: an MLLP listener for a live HL7 v2 feed, acknowledging every message."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer
from rich.console import Console

from connectors.base import Outcome, SourceContext
from connectors.hl7v2.mllp import serve_mllp
from services.cli.runtime import friendly_errors, start
from services.core import heap
from services.core.broker import require_bootstrap
from services.core.publisher import DurablePublisher
from services.ingest.pipeline import Ingestor

app = typer.Typer(help="Listen for partner feeds that push over a socket.", no_args_is_help=True)
out = Console()


@app.command("hl7")
@friendly_errors
def hl7(
    partner: Annotated[str, typer.Option(help="Partner code of the sending system (one listener per feed).")],
    port: Annotated[int, typer.Option(help="TCP port (2575 is HL7's registered port).")] = 2575,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Receive HL7 v2 over MLLP; ACK AA/AE/AR each message once its outcome is in the durable outbox."""
    settings = start()
    publisher = DurablePublisher(settings, require_bootstrap(settings)).start()
    ingestor = Ingestor(publisher)
    heap.settle()

    def handle(message: bytes) -> list[Outcome]:
        ctx = SourceContext(partner=partner, source_name=f"mllp:{port}")
        return ingestor.ingest("hl7v2", message, ctx).outcomes

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):  # Kubernetes and Ctrl-C stop us the same way
            loop.add_signal_handler(sig, stop.set)
        server = await serve_mllp(host, port, handle)
        out.print(f"[green]listening[/] for HL7 v2 over MLLP on {host}:{port} as {partner}; Ctrl-C stops")
        await stop.wait()
        out.print("stopping: no new connections; delivering what is in the outbox")
        server.close()
        await server.wait_closed()

    try:
        asyncio.run(serve())
    finally:
        publisher.close()
