"""`hubnet serve api`, `hubnet worker timeline`, `hubnet rebuild timeline`: the family timeline's
processes. Registered in services/cli/main.py, serve.py and worker.py with one line each."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from schemas.errors import ConfigurationError
from services.cli.runtime import friendly_errors, start
from services.core import heap
from services.core.broker import require_bootstrap

app = typer.Typer(help="Rebuild a view from its topic.", no_args_is_help=True)


@friendly_errors
def serve_api(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8090,
    store: Annotated[
        Path | None, typer.Option(help="Timeline store file [<data dir>/timeline.sqlite].")
    ] = None,
    trust_proxy: Annotated[
        bool, typer.Option(help="Trust OIDC identity headers from a reverse proxy (see docs/timeline.md).")
    ] = False,
) -> None:
    """Serve the timeline API (/v1, OpenAPI at /docs) and the hub staff web pages until Ctrl-C/SIGTERM.

    Every read is audited to the store and to fh.audit through the durable outbox."""
    from services.core.http_server import serve
    from services.core.publisher import DurablePublisher
    from services.ops.presence import Presence
    from services.reference.store import ReferenceStore
    from services.timeline.audit import AuditTrail
    from services.timeline.audit_store import AuditStore
    from services.timeline.store import TimelineStore
    from services.timeline.users import UserStore
    from services.web.app import create_app
    from services.web.oidc import OidcClient
    from services.web.routes_consent import install_default as install_consent
    from services.web.routes_identity import install_default as install_identity_reviews
    from services.web.routes_ops import install as install_ops
    from services.web.routes_referrals import install_default
    from services.web.sessions import session_secret
    from services.web.signin import SessionRules
    from services.web.signin_store import SignInStore

    settings = start()
    secret = session_secret(settings)  # before anything starts: production refuses without one
    if trust_proxy and not settings.trusted_proxy_networks():
        raise ConfigurationError(
            "--trust-proxy believes identity headers, so it needs HUBNET_TRUSTED_PROXIES: the "
            "addresses (or CIDR ranges) of the OIDC proxy, the only peers whose headers count"
        )
    oidc = OidcClient.from_settings(settings)  # the claim map is checked before anything starts
    bootstrap = require_bootstrap(settings)
    publisher = DurablePublisher(settings, bootstrap, settings.data_dir / "timeline-outbox.sqlite").start()
    presence = Presence(settings, bootstrap, "api", serve_http=False).start()  # routes on the app
    timeline = TimelineStore.from_settings(settings, store)
    users = UserStore.from_settings(settings)
    signins = SignInStore.from_settings(settings)
    names = ReferenceStore.from_settings(settings)
    web = create_app(
        timeline, users, AuditTrail(AuditStore.from_settings(settings), publisher), secret,
        trust_proxy=trust_proxy,
        health=presence.health, rules=SessionRules.from_settings(settings), signins=signins,
        names=names.name_of,
        oidc=oidc, local_accounts=oidc is None or settings.oidc_local_accounts,
    )  # fmt: skip
    install_default(web, settings)  # referral inboxes and API on the same sign-in and audit
    install_consent(web, settings)  # staff record a family's consent (on the same outbox as audit)
    install_identity_reviews(web, settings)
    install_ops(web, settings)  # /ops for the operations role: status, charts, dead letters
    heap.settle()  # a family page makes thousands of short-lived dicts; keep the app out of their GC
    try:
        # proxy_headers off: forwarded headers count only from HUBNET_TRUSTED_PROXIES (web/proxy.py)
        serve(web, host=host, port=port, log_config=None, server_header=False, proxy_headers=False)
    finally:
        presence.stop()
        publisher.close()
        timeline.close()
        users.close()
        signins.close()


@friendly_errors
def worker_timeline(
    store: Annotated[
        Path | None, typer.Option(help="Timeline store file [<data dir>/timeline.sqlite].")
    ] = None,
) -> None:
    """Project every fh.linked event into the timeline store, until Ctrl-C/SIGTERM."""
    from services.ops.presence import Presence
    from services.streams.app import run_worker
    from services.timeline.store import TimelineStore
    from services.timeline.worker import build

    settings = start()
    bootstrap = require_bootstrap(settings)
    timeline = TimelineStore.from_settings(settings, store)
    app_, _ = build(settings, bootstrap, store=timeline)
    with Presence(settings, bootstrap, "timeline", worker="timeline"):
        run_worker(app_, loglevel=settings.log_level.lower())


@app.command("timeline")
@friendly_errors
def rebuild_timeline(
    store: Annotated[
        Path | None, typer.Option(help="Store file to build [<data dir>/timeline.sqlite].")
    ] = None,
    replace: Annotated[
        bool, typer.Option(help="Start from an empty store (the old file is removed).")
    ] = True,
) -> None:
    """Rebuild the timeline store from fh.linked, from the beginning (stop the worker first).

    Idempotent: events already in the store are skipped by id, so `--no-replace` only adds what is missing."""
    from rich.progress import Progress

    from schemas.topics import LINKED
    from services.core.topic_reader import read_to_end
    from services.timeline.store import TimelineStore
    from services.timeline.worker import default_areas, rebuild

    settings = start()
    bootstrap = require_bootstrap(settings)
    timeline = TimelineStore.from_settings(settings, store)
    if replace:
        timeline.clear_projection()
    try:
        with Progress(transient=True) as progress:
            task = progress.add_task("reading fh.linked", total=None)
            applied, failed = rebuild(
                timeline,
                read_to_end(settings, bootstrap, LINKED),
                default_areas(settings),  # the county pack in use now: areas are re-derived
                lambda: progress.advance(task),
            )
    finally:
        timeline.close()
    typer.echo(f"timeline rebuilt: {applied} events applied, {failed} unreadable skipped")
