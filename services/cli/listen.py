"""`hubnet listen hl7`: an MLLP listener for one partner's live HL7 v2 feed, through the gateway's
one ingest step (services/gateway/hl7_feed.py), acknowledging every message."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer
from rich.console import Console

from services.cli.runtime import fail, friendly_errors, start
from services.core import heap
from services.core.broker import require_bootstrap
from services.core.publisher import DurablePublisher
from services.gateway import mllp
from services.gateway.hl7_feed import Hl7Feed
from services.gateway.service import Gateway

app = typer.Typer(help="Listen for partner feeds that push over a socket.", no_args_is_help=True)
out = Console()


@app.command("hl7")
@friendly_errors
def hl7(
    partner: Annotated[str, typer.Option(help="Partner code of the sending system (one listener per feed).")],
    port: Annotated[int, typer.Option(help="TCP port (2575 is HL7's registered port).")] = 2575,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Receive HL7 v2 over MLLP as a registered partner; ACK AA/AE/AR each message once its outcome
    is in the durable outbox. The partner's registration, sender ids (MSH-4), size and rate limits
    apply as on the HTTP API [HUBNET_INGEST_*, HUBNET_MLLP_*]."""
    settings = start()
    publisher = DurablePublisher(settings, require_bootstrap(settings)).start()
    gateway = Gateway.open(settings, publisher)
    try:
        registered = gateway.partners.find(partner)
        if registered is None or not registered.active:
            fail(f"'{partner}' is not an active partner: register it with `hubnet partners add` first")
        feed = Hl7Feed(gateway, partner, source_name=f"mllp:{port}")
        limits = mllp.Limits(
            max_message_bytes=gateway.limits.max_body_bytes,
            idle_timeout_s=settings.mllp_idle_timeout_s,
            max_connections=settings.mllp_max_connections,
        )
        heap.settle()
        asyncio.run(_serve(host, port, partner, feed.handler(), limits))
    finally:
        publisher.close()
        gateway.close()


async def _serve(host: str, port: int, partner: str, handler: mllp.Handler, limits: mllp.Limits) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # Kubernetes and Ctrl-C stop us the same way
        loop.add_signal_handler(sig, stop.set)
    server = await mllp.serve_mllp(host, port, handler, limits)
    out.print(f"[green]listening[/] for HL7 v2 over MLLP on {host}:{port} as {partner}; Ctrl-C stops")
    await stop.wait()
    out.print("stopping: no new connections; delivering what is in the outbox")
    server.close()
    await server.wait_closed()
