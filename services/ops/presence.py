"""How a long-running service shows itself to operations: health endpoints and heartbeats.

Every worker, web service and the monitor does the same two things, so they do it through this
one object: `/healthz`, `/readyz` and `/metrics` (on `HUBNET_HEALTH_PORT` for processes without a
web framework; web services mount the same checks on their own app), and a heartbeat on
`fh.heartbeats` carrying the readiness `/readyz` would answer. A clean stop sends a tombstone.
A stream worker (`worker=`) also fails `/healthz` and `/readyz` when stalled
(services/streams/progress.py) and logs one progress line per beat: counts and lag, no personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Self

from services.core import metrics
from services.core.health import Check, Health, broker_and_topics, serve_health, store_writable
from services.core.settings import Settings
from services.ops.heartbeat import Heartbeat
from services.streams.progress import progress_of


class Presence:
    def __init__(
        self,
        settings: Settings,
        bootstrap: str,
        service: str,
        *,
        serve_http: bool = True,
        worker: str | None = None,
        checks: Sequence[Check] = (),
    ) -> None:
        """`checks`: the service's own readiness checks, beside the broker and store ones (the
        referral worker's: a county pack is loaded)."""
        progress = progress_of(worker) if worker else None
        liveness: list[Check] = [partial(progress.problem, settings.worker_stall_after_s)] if progress else []
        ready = [broker_and_topics(settings, bootstrap), store_writable(settings.data_dir), *checks]
        self.health = Health(service, ready, liveness)
        self._serve_http = serve_http and settings.health_port is not None
        self._port = settings.health_port
        self._server: ThreadingHTTPServer | None = None
        metrics.SERVICE_RESTARTS.labels(service).set(settings.restarts)
        self._beat = Heartbeat(
            settings,
            bootstrap,
            service,
            problems=self.health.problems,
            stalled=lambda: bool(self.health.live_problems()),
            on_beat=progress.log_line if progress else lambda: None,
            restarts=settings.restarts,
        )

    def start(self) -> Self:
        if self._serve_http and self._port:
            self._server = serve_health(self.health, self._port)
        self._beat.start()
        return self

    def stop(self) -> None:
        self._beat.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
