"""How a long-running service shows itself to operations: health endpoints and heartbeats.

Every worker, web service and the monitor does the same two things, so they do it through this
one object: `/healthz`, `/readyz` and `/metrics` (on `HUBNET_HEALTH_PORT` for processes without a
web framework; web services mount the same checks on their own app), and a heartbeat on
`fh.heartbeats` carrying the readiness `/readyz` would answer. A clean stop sends a tombstone.
"""

from __future__ import annotations

from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Self

from services.core.health import Health, broker_and_topics, serve_health, store_writable
from services.core.settings import Settings
from services.ops.heartbeat import Heartbeat


class Presence:
    def __init__(self, settings: Settings, bootstrap: str, service: str, *, serve_http: bool = True) -> None:
        self.health = Health(
            service, [broker_and_topics(settings, bootstrap), store_writable(settings.data_dir)]
        )
        self._serve_http = serve_http and settings.health_port is not None
        self._port = settings.health_port
        self._server: ThreadingHTTPServer | None = None
        self._beat = Heartbeat(settings, bootstrap, service, ready=lambda: not self.health.problems())

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
