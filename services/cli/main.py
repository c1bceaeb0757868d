"""Entry point of the `hubnet` console script.

Each command group lives in its own module and is registered here with one line, so `hubnet
--help` lists everything and no module grows past one responsibility.
"""

from __future__ import annotations

import typer

from services.cli import (
    audit,
    bench,
    broker,
    config,
    consent,
    contracts,
    convert,
    county,
    directory,
    dlq,
    expectations,
    generate,
    help_text,
    identity,
    identity_score,
    listen,
    migrate,
    monitor,
    partners,
    publish,
    reference,
    referrals,
    replay,
    serve,
    status,
    timeline,
    topics,
    up,
    users,
    watch,
    worker,
)

app = typer.Typer(
    name="hubnet",
    help=(
        "Integration middleware for Family Hubs: partner events in, "
        "one family timeline and routed referrals out."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

app.command("broker")(broker.broker)
app.command("status")(status.status)
app.command("convert")(convert.convert)
app.command("up")(up.up)
app.command("bench")(bench.bench)
app.add_typer(topics.app, name="topics")
app.add_typer(config.app, name="config")
app.add_typer(contracts.app, name="schemas")
app.add_typer(dlq.app, name="dlq")
app.add_typer(directory.app, name="directory")
app.add_typer(county.app, name="county")
app.add_typer(listen.app, name="listen")
app.command("watch")(watch.watch)
app.command("publish")(publish.publish)
app.add_typer(serve.app, name="serve")
app.add_typer(partners.app, name="partners")
app.add_typer(consent.app, name="consent")
app.command("generate")(generate.generate)
app.command("replay")(replay.replay)
app.add_typer(worker.app, name="worker")
app.add_typer(identity.app, name="identity")
identity.app.command("score")(identity_score.score)
worker.app.command("referrals")(referrals.worker)
app.add_typer(referrals.app, name="referrals")
serve.app.command("api")(timeline.serve_api)
worker.app.command("timeline")(timeline.worker_timeline)
app.add_typer(timeline.app, name="rebuild")
app.add_typer(users.app, name="users")
app.command("audit")(audit.audit)
app.command("monitor")(monitor.monitor)
app.command("migrate")(migrate.migrate)
app.add_typer(reference.app, name="reference")
partners.app.command("expect")(expectations.expect)
partners.app.command("expected")(expectations.expected)
help_text.flow_command_lists(app)
