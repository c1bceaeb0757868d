"""`hubnet monitor`: the ops monitor, collecting status periodically so Prometheus can scrape it.

The lag, dead-letter and partner gauges (`hubnet_consumer_lag`, `hubnet_dead_letters_open`,
`hubnet_partner_*`) describe the whole network, not one process: this is the one process that sets
them, from the same collector `hubnet status` uses. Run one instance (two would export the same
series twice). Each cycle also keeps its report and a throughput/lag/latency sample in the ops
store (services/ops/history.py), which the ops page of the staff app shows. It serves `/metrics`,
`/healthz`, `/readyz` on `HUBNET_HEALTH_PORT` and beats on `fh.heartbeats` like every other service.
"""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import structlog
import typer

from services.cli.runtime import friendly_errors, start
from services.core.broker import require_bootstrap
from services.ops import history
from services.ops.presence import Presence
from services.ops.status import collect

log = structlog.get_logger(__name__)
SERVICE = "monitor"


@friendly_errors
def monitor(
    every: Annotated[float, typer.Option(min=1.0, help="Seconds between two collections.")] = 30.0,
) -> None:
    """Collect status every EVERY seconds and export it as metrics, until Ctrl-C or SIGTERM."""
    settings = start()
    bootstrap = require_bootstrap(settings)
    presence = Presence(settings, bootstrap, SERVICE).start()
    halt = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: halt.set())  # how Kubernetes and `hubnet up` stop it
    try:
        while not halt.is_set():
            report = collect(settings)
            history.record_cycle(settings, bootstrap, report, every)
            log.info(
                "monitor.collected",
                groups=len(report.lag),
                services=len(report.services),
                open_dead_letters=sum(d.count for d in report.dead_letters),
                stale_partners=sum(p.stale for p in report.partners),
                attention=len(report.attention),
            )
            halt.wait(every)
    except KeyboardInterrupt:
        log.info("monitor.stopping")
    finally:
        presence.stop()
