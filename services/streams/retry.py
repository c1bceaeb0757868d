"""Transient failures (a store busy for a moment, a broker electing a leader) are retried with
backoff; only a message that fails on its own merits is poison and goes to fh.dlq.

Transient, and so retried: SQLite `database is locked` / `busy` (a CLI or API writing the same
store; WAL gives a writer that read before another's commit SQLITE_BUSY at once), PostgreSQL
serialization failures, deadlocks and lock timeouts (SQLSTATE 40001, 40P01, 55P03) and lost
connections (psycopg `OperationalError`), and any Kafka client error its client marks `retriable`.
Everything else (bad JSON, a model that does not validate, a bug) is the message's own fault.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog

from services.core import metrics

log = structlog.get_logger(__name__)
T = TypeVar("T")

FIRST_DELAY_S = 0.05
MAX_DELAY_S = 30.0
_SQLITE_TRANSIENT = ("locked", "busy")
_POSTGRES_TRANSIENT = frozenset({"40001", "40P01", "55P03"})


def is_transient(error: BaseException) -> bool:
    """Whether the same work may well succeed if tried again in a moment."""
    if isinstance(error, sqlite3.OperationalError):
        return any(word in str(error).lower() for word in _SQLITE_TRANSIENT)
    state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    if state in _POSTGRES_TRANSIENT:
        return True
    if type(error).__module__.startswith("psycopg") and type(error).__name__ == "OperationalError":
        return True
    return bool(getattr(error, "retriable", False))


async def retry_transient(
    worker: str,
    work: Callable[[], Awaitable[T]],
    *,
    first_delay: float = FIRST_DELAY_S,
    max_delay: float = MAX_DELAY_S,
    on_retry: Callable[[BaseException], None] = lambda _error: None,
) -> T:
    """Run `work` until it succeeds or fails for good: a transient error waits (doubling from
    `first_delay` up to `max_delay`) and tries again, without limit, because the message is
    sound and dead-lettering it would be wrong; the stall shows as consumer lag and, past
    HUBNET_WORKER_STALL_AFTER_S, as a stalled worker (`on_retry` hears each error: progress.py).
    Any other error is raised to the caller, which dead-letters the message."""
    delay = first_delay
    attempt = 1
    while True:
        try:
            return await work()
        except Exception as error:
            if not is_transient(error):
                raise
            metrics.TRANSIENT_RETRIES.labels(worker).inc()
            on_retry(error)
            log.warning(
                "stream.transient_retry",
                worker=worker,
                attempt=attempt,
                retry_in_s=delay,
                error_type=type(error).__name__,
                error=str(error),  # driver and broker texts; the redacting logger masks personal data
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, max_delay)
        attempt += 1
