"""`hubnet serve ingest`: the partner ingestion API; `hubnet serve openapi`: its OpenAPI document."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

import orjson
import typer

from services.cli.runtime import friendly_errors, start
from services.core import heap
from services.core.broker import require_bootstrap
from services.core.publisher import DurablePublisher
from services.gateway.app import build_app, create_app
from services.gateway.service import MIB, Gateway, Limits
from services.ops.presence import Presence

app = typer.Typer(help="Run hubnet's HTTP services.", no_args_is_help=True)


@app.command("ingest")
@friendly_errors
def ingest(
    host: Annotated[str | None, typer.Option(help="Address to listen on [HUBNET_INGEST_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [HUBNET_INGEST_PORT].")] = None,
    max_body_mib: Annotated[
        float | None, typer.Option(help="Largest request body, MiB, 413 above [HUBNET_INGEST_MAX_BODY_MIB].")
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(help="Requests per second per partner, 429 above [HUBNET_INGEST_RATE_PER_S]."),
    ] = None,
    burst: Annotated[
        int | None, typer.Option(help="Requests a partner may send at once [HUBNET_INGEST_BURST].")
    ] = None,
) -> None:
    """Serve the partner API (OpenAPI at /docs) until Ctrl-C; accepted input goes to the durable outbox.

    Options override the settings named in brackets (see the README's configuration table).
    """
    from services.core.http_server import serve

    settings = start()
    limits = replace(
        Limits.of(settings),  # the input caps (HUBNET_INGEST_MAX_*) too
        max_body_bytes=int((max_body_mib or settings.ingest_max_body_mib) * MIB),
        rate_per_s=rate or settings.ingest_rate_per_s,
        burst=burst or settings.ingest_burst,
    )
    bootstrap = require_bootstrap(settings)
    publisher = DurablePublisher(settings, bootstrap).start()
    gateway = Gateway.open(settings, publisher, limits)
    presence = Presence(settings, bootstrap, "ingest", serve_http=False).start()  # routes on the app
    web = create_app(gateway, presence.health)
    heap.settle()
    try:
        serve(
            web,
            host=host or settings.ingest_host,
            port=port or settings.ingest_port,
            log_config=None,
            server_header=False,
        )
    finally:
        presence.stop()
        publisher.close()
        gateway.close()


@app.command("openapi")
def openapi() -> None:
    """Print the OpenAPI document of the partner API (docs/partners/openapi.json is this output)."""
    typer.echo(
        orjson.dumps(build_app().openapi(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    )
