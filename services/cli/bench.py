"""`hubnet bench`: print throughput and CPU cost figures measured on this machine."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from services.bench.conversion import conversion
from services.bench.measure import Figure
from services.bench.pipeline import Latency, PipelineOptions, PipelineResult, run_pipeline
from services.bench.raw_broker import raw_pipe
from services.cli.runtime import friendly_errors, start
from services.core.broker import EmbeddedBroker, free_port, resolve_bootstrap, start_embedded
from services.core.logging import configure_logging
from services.core.settings import Settings

out = Console()
progress = Console(stderr=True)
TARGET_EVENTS_PER_S = 5000
TARGET_P99_S = 1.0
DEFAULTS = PipelineOptions()


@friendly_errors
def bench(
    messages: Annotated[int, typer.Option(help="Messages for the raw broker pipe.")] = 20000,
    samples: Annotated[Path, typer.Option(help="Sample inputs, one folder per format.")] = Path("samples"),
    families: Annotated[
        int, typer.Option(help="Families in the generated county the pipeline replays (cached).")
    ] = DEFAULTS.families,
    rate: Annotated[
        float, typer.Option(help="Offered load of the latency phase, events per second.")
    ] = DEFAULTS.rate,
    seconds: Annotated[float, typer.Option(help="Length of the latency phase, seconds.")] = DEFAULTS.seconds,
    skip_pipeline: Annotated[
        bool, typer.Option("--skip-pipeline", help="Only the raw broker pipe and per-format conversion.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Raw broker pipe, per-format conversion and the whole pipeline (connectors, fh.events,
    identity, fh.linked, timeline store) with its latency at a fixed load.

    The pipeline runs on a private embedded broker with its own worker processes, never on a
    configured or running one, so the raw pipe it is compared with runs there too; with
    --skip-pipeline the raw pipe uses the configured broker, or an embedded one.
    """
    settings = start()
    # Warnings only, as the pipeline's worker processes run: a line per partner input would bury
    # the table and charge the ingest stage for terminal output.
    configure_logging(settings.model_copy(update={"log_level": "WARNING"}))
    pipeline: PipelineResult | None = None
    if skip_pipeline:
        figures = _raw_on_configured_broker(settings, messages)
    else:
        options = PipelineOptions(families=families, rate=rate, seconds=seconds)
        with EmbeddedBroker(port=free_port()) as private:
            pipeline = run_pipeline(private, settings.data_dir.resolve(), options, _say(as_json))
            size = round(pipeline.mean_event_bytes) or 600
            figures = raw_pipe(settings, private.bootstrap, messages, size=size)
    figures += conversion(samples)
    if pipeline is not None:
        figures += pipeline.stages
    if as_json:
        typer.echo(json.dumps(_document(figures, pipeline), indent=2))
        return
    table = Table("measure", "items", "per second", "CPU µs/item", "wall s")
    for f in figures:
        table.add_row(
            f.name, f"{f.items:,}", f"{f.per_second:,.0f}", f"{f.cpu_us_per_item:,.1f}", f"{f.wall_s:.2f}"
        )
    out.print(table)
    if pipeline is not None:
        for line in _summary(pipeline, figures):
            out.print(line, highlight=False)


def _raw_on_configured_broker(settings: Settings, messages: int) -> list[Figure]:
    bootstrap = resolve_bootstrap(settings)
    if bootstrap is not None:
        return raw_pipe(settings, bootstrap, messages)
    broker = start_embedded(settings)
    try:
        return raw_pipe(settings, broker.bootstrap, messages)
    finally:
        broker.stop()


def _say(quiet: bool) -> Callable[[str], None]:
    """Progress lines on stderr, so `--json` output stays clean on stdout."""
    if quiet:
        return lambda _line: None
    return lambda line: progress.print(f"[dim]{line}[/]")


def _raw_rate(figures: list[Figure]) -> float:
    """What the broker pipe sustains with this client: the slower of produce and consume."""
    rates = [f.per_second for f in figures if f.name.startswith("broker:")]
    return min(rates) if rates else 0.0


def _summary(result: PipelineResult, figures: list[Figure]) -> list[str]:
    raw = _raw_rate(figures)
    cpu = sum(f.cpu_us_per_item for f in result.stages)
    cores = os.cpu_count() or 1
    ceiling = cores * 1e6 / cpu if cpu else 0.0
    lines = [
        f"pipeline: {result.visible:,} of {result.events:,} events visible in the timeline store in "
        f"{result.wall_s:.1f} s = [bold]{result.events_per_s:,.0f} events/s[/] "
        f"({_verdict(result.events_per_s >= TARGET_EVENTS_PER_S, result.events_per_s / TARGET_EVENTS_PER_S)} "
        f"of the {TARGET_EVENTS_PER_S:,}/s target); connectors fed {result.records:,} records in "
        f"{result.feed_s:.1f} s",
        f"raw broker pipe ({result.mean_event_bytes:,.0f}-byte messages): {raw:,.0f} msg/s; "
        f"[bold]pipeline / raw = {result.events_per_s / raw if raw else 0:.3f}[/]",
        f"CPU per event, all stages: {cpu:,.0f} µs (so {cores} cores give at most {ceiling:,.0f} events/s)",
    ]
    if result.latency:
        lat = result.latency
        lines.append(
            f"latency, received -> visible in the timeline store, at {lat.offered_per_s:,.0f} events/s "
            f"offered ({lat.achieved_per_s:,.0f}/s achieved, {lat.visible:,} of {lat.sent:,} visible): "
            f"p50 {lat.p50_s * 1000:,.0f} ms, p95 {lat.p95_s * 1000:,.0f} ms, "
            f"[bold]p99 {lat.p99_s * 1000:,.0f} ms[/] "
            f"(target p99 < 1 s: {'met' if _latency_met(lat) else 'MISSED'})"
        )
    return lines


def _latency_met(latency: Latency) -> bool:
    """Every event visible, 99% of them within the target, at the offered load (not below it)."""
    return (
        latency.p99_s < TARGET_P99_S
        and latency.visible == latency.sent
        and latency.achieved_per_s >= 0.95 * latency.offered_per_s
    )


def _verdict(met: bool, share: float) -> str:
    return "target met" if met else f"{share:.0%}"


def _row(figure: Figure) -> dict[str, object]:
    return {
        "name": figure.name,
        "items": figure.items,
        "per_second": round(figure.per_second, 1),
        "cpu_us_per_item": round(figure.cpu_us_per_item, 1),
        "wall_s": round(figure.wall_s, 3),
        **figure.notes,
    }


def _document(figures: list[Figure], result: PipelineResult | None) -> dict[str, object]:
    document: dict[str, object] = {"figures": [_row(f) for f in figures]}
    if result is not None:
        raw = _raw_rate(figures)
        document["pipeline"] = {
            "county": str(result.county),
            "records": result.records,
            "events": result.events,
            "visible": result.visible,
            "wall_s": round(result.wall_s, 3),
            "events_per_s": round(result.events_per_s, 1),
            "target_events_per_s": TARGET_EVENTS_PER_S,
            "raw_pipe_msgs_per_s": round(raw, 1),
            "ratio_pipeline_to_raw": round(result.events_per_s / raw, 4) if raw else None,
            "mean_event_bytes": round(result.mean_event_bytes),
            "cpu_us_per_event": {
                f.name.removeprefix("pipeline CPU: "): round(f.cpu_us_per_item, 1) for f in result.stages
            },
            "latency": result.latency.__dict__ if result.latency else None,
        }
    return document
