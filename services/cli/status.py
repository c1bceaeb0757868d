"""`hubnet status`: one console view of the running network; `--watch` refreshes it, `--json` is for scripts.

This module only renders: `services.ops.status.collect` gathers the facts and decides what needs
attention. Exit status 1 when anything does (for `--watch`, judged on the last view shown).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from services.cli.runtime import friendly_errors, start
from services.core.settings import Settings
from services.ops.heartbeat import Liveness
from services.ops.lag import Trend
from services.ops.status import StatusReport, collect

out = Console()
DEFAULT_WATCH_S = 5.0
_LIVENESS_STYLE = {
    Liveness.UP: "green",
    Liveness.STALLED: "bold red",
    Liveness.NOT_READY: "yellow",
    Liveness.SILENT: "red",
    Liveness.REPLACED: "dim",
}
_TREND_STYLE = {Trend.RISING: "red", Trend.FALLING: "green", Trend.STEADY: "white", Trend.NEW: "dim"}


@friendly_errors
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    watch: Annotated[bool, typer.Option("--watch", help="Redraw in place until Ctrl-C.")] = False,
    every: Annotated[
        float, typer.Option(min=0.5, metavar="SECONDS", help="Seconds between two redraws of --watch.")
    ] = DEFAULT_WATCH_S,
) -> None:
    """Services, broker and topics, consumer lag, dead letters, stale partners and outbox; exit
    status 1 when something needs attention."""
    settings = start()
    report = _watch(settings, every) if watch and not as_json else collect(settings)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    elif not watch:
        render(report)
    if not report.healthy:
        raise typer.Exit(1)


def _watch(settings: Settings, every_s: float) -> StatusReport:
    """Redraw in place until Ctrl-C; returns the last report so the exit status reflects it."""
    report = collect(settings)
    with Live(view(report), console=out, auto_refresh=False, screen=False) as live:
        try:
            while True:
                time.sleep(every_s)
                report = collect(settings)
                live.update(view(report), refresh=True)
        except KeyboardInterrupt:
            pass  # Ctrl-C is how a watch ends: not an error
    return report


def render(report: StatusReport) -> None:
    out.print(view(report))


def view(report: StatusReport) -> RenderableType:
    """The whole status as one renderable, so `--watch` can redraw it in place."""
    now = report.collected_at
    parts: list[RenderableType] = [_headline(report), _broker_line(report)]
    parts += [_services(report, now), _topics(report), _lag(report)]
    parts += [_dead_letters(report, now), _partners(report, now), _outbox_line(report)]
    if report.attention:
        parts.append(Text("needs attention:", style="bold red"))
        parts += [Text(f"  • {line}") for line in report.attention]
    return Group(*parts)


def _headline(report: StatusReport) -> Text:
    when = report.collected_at.astimezone().strftime("%H:%M:%S")
    count = len(report.attention)
    verdict = (
        Text("all well", style="green") if not count else Text(f"{count} need(s) attention", style="red")
    )
    return Text.assemble(("hubnet status", "bold"), f" at {when}: ", verdict)


def _broker_line(report: StatusReport) -> Text:
    broker = report.broker
    kind = "embedded" if broker.embedded else "Kafka"
    state = (
        Text("reachable", style="green") if broker.reachable else Text(f"unreachable ({broker.error})", "red")
    )
    return Text.assemble(("broker ", "bold"), f"{broker.bootstrap or '-'} ({kind}): ", state)


def _services(report: StatusReport, now: datetime) -> RenderableType:
    if not report.services:
        return Text("services: no heartbeats yet (services beat on fh.heartbeats once started)", style="dim")
    table = Table("service", "instance", "version", "started", "last beat", "state", title="services")
    for s in report.services:
        state = Text(str(s.liveness), style=_LIVENESS_STYLE[s.liveness])
        if s.restarts:
            state.append(f" (restarted {s.restarts}x)", style="yellow")
        table.add_row(
            s.service, s.instance, s.version, ago(s.started_at, now), ago(s.last_beat_at, now), state
        )
    return table


def _topics(report: StatusReport) -> RenderableType:
    table = Table("topic", "state", title="topics")
    for topic in report.topics:
        if not topic.present:
            cell = Text("missing (run: hubnet topics apply)", style="red")
        elif topic.drift:
            cell = Text("drift: " + "; ".join(topic.drift), style="yellow")
        else:
            cell = Text("ok", style="green")
        table.add_row(topic.name, cell)
    return table


def _lag(report: StatusReport) -> RenderableType:
    if not report.lag:
        return Text("consumer lag: no consumer groups have committed offsets yet", style="dim")
    table = Table("group", "lag", "trend", "by topic", title="consumer lag")
    for group in report.lag:
        by_topic: dict[str, int] = {}
        for p in group.partitions:
            by_topic[p.topic] = by_topic.get(p.topic, 0) + p.lag
        trend = Text(
            f"{group.trend.arrow} {group.trend} ({group.change:+d})", style=_TREND_STYLE[group.trend]
        )
        topics = ", ".join(f"{topic} {lag}" for topic, lag in sorted(by_topic.items()))
        table.add_row(group.group, str(group.total), trend, topics)
    return table


def _dead_letters(report: StatusReport, now: datetime) -> RenderableType:
    if not report.dead_letters:
        return Text("dead letters: none open", style="green")
    table = Table("partner", "connector", "open", "oldest", "reason", title="open dead letters")
    for row in report.dead_letters:
        table.add_row(row.partner, row.connector, str(row.count), ago(row.oldest_at, now), row.reason)
    return Group(table, Text("  see `hubnet dlq list --partner CODE`; replay after a fix", style="dim"))


def _partners(report: StatusReport, now: datetime) -> RenderableType:
    if not report.partners:
        return Text("partners: no input seen and no expectations set (hubnet partners expect)", style="dim")
    table = Table("partner", "last input", "expected every", "state", title="partners")
    for p in report.partners:
        if p.expected_every_s is None:
            state, every = Text("no expectation", style="dim"), "-"
        else:
            state = Text("stale", style="red") if p.stale else Text("ok", style="green")
            every = interval(p.expected_every_s)
        last = ago(p.last_input_at, now) if p.last_input_at else "never"
        table.add_row(p.partner, last, every, state)
    return table


def _outbox_line(report: StatusReport) -> Text:
    if report.outbox is None:
        return Text.assemble(("outbox ", "bold"), "none yet")
    oldest = f", oldest queued {report.outbox.oldest_queued_at}" if report.outbox.backlog else ""
    return Text.assemble(("outbox ", "bold"), f"{report.outbox.backlog} waiting{oldest}")


def interval(seconds: float) -> str:
    """Largest whole units, two at most: 90061 -> '1d 1h'."""
    remaining = int(seconds)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if remaining >= size and len(parts) < 2:
            parts.append(f"{remaining // size}{unit}")
            remaining %= size
    return " ".join(parts) or "0s"


def ago(when: datetime, now: datetime) -> str:
    seconds = (now - when).total_seconds()
    return f"{interval(seconds)} ago" if seconds >= 0 else f"in {interval(-seconds)}"
