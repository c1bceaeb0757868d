"""Serving an ASGI app (the partner API, the timeline API and staff pages) with uvicorn until
SIGTERM or Ctrl-C, then returning the normal way so the caller's clean-up runs.

uvicorn stops gracefully on SIGTERM and then raises the signal again for the handler it found at
start: by default one that ends the process at once, skipping every `finally` and atexit hook. A
stopped API then never closed its publisher or its stores, and SQLite kept their last writes only
in `<store>.sqlite-wal` (docs/operations.md, backups). Here that re-raised SIGTERM exits through
`SystemExit(0)` instead, as the workers do."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any, NoReturn


def _exit(signum: int, frame: FrameType | None) -> NoReturn:
    raise SystemExit(0)


def serve(app: Any, **options: Any) -> None:
    """`uvicorn.run(app, **options)`, returning (or raising `SystemExit(0)`) on SIGTERM."""
    import uvicorn

    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        uvicorn.run(app, **options)
    finally:
        signal.signal(signal.SIGTERM, previous)
