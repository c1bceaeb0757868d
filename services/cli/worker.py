"""`hubnet worker <name>`: run one stream worker; timeline and referrals register theirs here too."""

from __future__ import annotations

import typer

from services.cli.runtime import friendly_errors, start
from services.core.broker import require_bootstrap

app = typer.Typer(help="Run a stream worker until interrupted (Ctrl-C).", no_args_is_help=True)


@app.command("identity")
@friendly_errors
def identity() -> None:
    """Resolve every fh.events subject to a hub person and family; write fh.linked."""
    from services.identity.worker import build
    from services.ops.presence import Presence
    from services.streams.app import run_worker

    settings = start()
    bootstrap = require_bootstrap(settings)
    app_, _service = build(settings, bootstrap)
    with Presence(settings, bootstrap, "identity", worker="identity"):
        run_worker(app_, loglevel=settings.log_level.lower())
