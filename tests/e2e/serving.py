"""Serve an app on a free loopback port in a thread: the real HTTP server the browser, security and
integration tests talk to."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from services.core.broker import free_port


@contextmanager
def served(app: Any, start_timeout_s: float = 10.0, port: int | None = None, **config: Any) -> Iterator[str]:
    """The app's base URL while it runs; stopped (and joined) on exit. `port` when the URL must be
    known first; `config` goes to uvicorn (e.g. `lifespan="off"`, `proxy_headers=False`)."""
    port = port or free_port()
    running = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, **config))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if not running.started:
        running.should_exit = True
        thread.join(10)
        raise RuntimeError(f"uvicorn did not start on port {port} within {start_timeout_s:.0f} s")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join(10)
