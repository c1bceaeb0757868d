"""Liveness and readiness checks, and a small HTTP server for processes without a web framework.

`/healthz` answers while the process runs and its liveness checks pass (a stream worker's: not
stalled, services/streams/progress.py; a restart is what cures a failing one); `/readyz` runs every
check the service registered (broker reachable, topics present, store writable, and the liveness
checks) and answers 503 naming the failing ones. Web services (FastAPI) mount the same checks on
their own app; stream workers start `serve_health`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from schemas.topics import catalogue
from services.core import kafka_clients, metrics
from services.core.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

Check = Callable[[], str | None]
"""A readiness check returns None when fine, or a sentence saying what is wrong."""


def hubnet_version() -> str:
    try:
        return version("hubnet")
    except PackageNotFoundError:
        return "unknown"


def broker_and_topics(settings: Settings, bootstrap: str) -> Check:
    def check() -> str | None:
        try:
            admin = kafka_clients.admin(
                settings, bootstrap, request_timeout_ms=3000, bootstrap_timeout_ms=3000
            )
        except Exception as error:  # kafka-python raises several types for an absent broker
            return f"broker {bootstrap} unreachable ({type(error).__name__})"
        try:
            missing = set(catalogue().names()) - set(admin.list_topics())
        finally:
            admin.close()
        return f"topics missing: {', '.join(sorted(missing))}" if missing else None

    return check


def store_writable(folder: Path) -> Check:
    def check() -> str | None:
        probe = folder / ".ready-probe"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe.write_text("ok")
            probe.unlink()
        except OSError as error:
            return f"store folder {folder} is not writable ({error.strerror})"
        return None

    return check


@dataclass
class Health:
    service: str
    checks: list[Check] = field(default_factory=list)
    liveness: list[Check] = field(default_factory=list)
    """Checks a restart would cure (a stalled worker): they fail `/healthz` as well as `/readyz`."""

    def __post_init__(self) -> None:
        metrics.UP.labels(self.service).set(1)
        metrics.BUILD.info({"version": hubnet_version()})

    def problems(self) -> list[str]:
        found = [problem for check in (*self.checks, *self.liveness) if (problem := check())]
        metrics.READY.labels(self.service).set(0 if found else 1)
        return found

    def live_problems(self) -> list[str]:
        return [problem for check in self.liveness if (problem := check())]

    def live_answer(self) -> tuple[int, dict[str, object]]:
        """`/healthz`: 200 while live, 503 naming what a restart should cure."""
        problems = self.live_problems()
        body: dict[str, object] = {"status": "stalled" if problems else "live", "service": self.service}
        if problems:
            body["problems"] = problems
        return (503 if problems else 200), body


def serve_health(health: Health, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Start `/healthz`, `/readyz` and `/metrics` on a daemon thread; returns the server to shut down."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._send(200, generate_latest(), CONTENT_TYPE_LATEST)
            elif self.path == "/healthz":
                self._json(*health.live_answer())
            elif self.path == "/readyz":
                problems = health.problems()
                self._json(503 if problems else 200, {"ready": not problems, "problems": problems})
            else:
                self._json(404, {"error": "not found", "paths": ["/healthz", "/readyz", "/metrics"]})

        def _json(self, code: int, body: dict[str, object]) -> None:
            self._send(code, json.dumps(body).encode(), "application/json")

        def _send(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib's signature
            """Scrapes every few seconds would drown the logs; access is visible in metrics instead."""

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name=f"{health.service}-health", daemon=True).start()
    return server


def add_health_routes(app: FastAPI, health: Health) -> None:
    """The same three endpoints on a FastAPI app (web services serve them on their own port)."""
    from fastapi import Response
    from fastapi.responses import JSONResponse

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        code, body = health.live_answer()
        return JSONResponse(body, status_code=code)

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        problems = health.problems()
        return JSONResponse(
            {"ready": not problems, "problems": problems}, status_code=503 if problems else 200
        )

    @app.get("/metrics", include_in_schema=False)
    def metrics_endpoint() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
