"""Whether a stream worker gets work done, not only whether it is alive (issue #21).

A worker retrying a transient error for ever looked healthy: its process ran, its broker answered,
its store folder was writable. What operations need to know is whether the messages it holds are
being committed. The agents (services/streams/app.py) report here when they take messages and
when a unit of work is done; a worker holding messages with nothing done for `stall_after_s` is
*stalled*: `/readyz` and `/healthz` fail naming it (so `hubnet up` and Kubernetes restart it), its
heartbeat says so (`hubnet status`, `/ops`), and `hubnet_worker_stalled` is 1 (alert
`HubnetWorkerStalled`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from services.core import metrics

log = structlog.get_logger(__name__)


@dataclass
class Progress:
    """One worker's work in hand and its last completed unit; safe to read from other threads."""

    worker: str
    clock: Callable[[], float] = time.monotonic
    in_hand: int = 0
    done_total: int = 0
    last_error: str | None = None
    last_done_at: float = field(default=0.0)
    busy_since: float = field(default=0.0)
    wall_last_done: float = field(default_factory=time.time)
    lag: Callable[[], int | None] = lambda: None
    """Messages behind the end of the worker's partitions, as its consumer last saw them."""
    logged_total: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.last_done_at = self.busy_since = self.clock()  # starting counts as progress

    def took(self, count: int) -> None:
        """Messages taken into a unit of work; stall time counts from the first one in hand."""
        with self._lock:
            if self.in_hand == 0:
                self.busy_since = self.clock()
            self.in_hand += count

    def done(self, count: int) -> None:
        """A unit of work committed (or its messages dead-lettered): they are off the worker's hands."""
        with self._lock:
            self.in_hand = max(0, self.in_hand - count)
            self.done_total += count
            self.last_done_at = self.clock()
            self.wall_last_done = time.time()
            self.last_error = None
        metrics.WORKER_LAST_PROGRESS.labels(self.worker).set(self.wall_last_done)

    def failed(self, error: BaseException) -> None:
        """A unit of work failed transiently and will be retried: kept to say why it is stalled."""
        with self._lock:
            self.last_error = f"{type(error).__name__}: {error}"

    def stalled_for(self) -> float:
        """Seconds the messages in hand have waited without any unit completing; 0 when idle."""
        with self._lock:
            if self.in_hand == 0:
                return 0.0
            return self.clock() - max(self.last_done_at, self.busy_since)

    def problem(self, stall_after_s: float) -> str | None:
        """A sentence for `/readyz` when stalled, else None; keeps `hubnet_worker_stalled` current."""
        waited = self.stalled_for()
        stalled = waited >= stall_after_s
        metrics.WORKER_STALLED.labels(self.worker).set(1 if stalled else 0)
        if not stalled:
            return None
        cause = f"; last error: {self.last_error}" if self.last_error else ""
        return (
            f"worker {self.worker} stalled: {self.in_hand} messages in hand and nothing committed "
            f"for {waited:.0f} s{cause}"
        )

    def log_line(self) -> None:
        """One INFO line per interval, so an incident has a progress trail to read: counts and
        lag only, never personal data."""
        with self._lock:
            done, self.logged_total = self.done_total - self.logged_total, self.done_total
        log.info(
            "worker.progress",
            worker=self.worker,
            done=done,
            done_total=self.done_total,
            in_hand=self.in_hand,
            lag=self.lag(),
            stalled_for_s=round(self.stalled_for(), 1),
        )


_REGISTRY: dict[str, Progress] = {}
_REGISTRY_LOCK = threading.Lock()


def fresh_progress(worker: str) -> Progress:
    """A new record for `worker`, made when its agent is built: a new app starts with nothing in hand."""
    with _REGISTRY_LOCK:
        made = _REGISTRY[worker] = Progress(worker)
        return made


def progress_of(worker: str) -> Progress:
    """The process-wide progress of `worker` (agents report to it, health checks read it)."""
    with _REGISTRY_LOCK:
        found = _REGISTRY.get(worker)
        if found is None:
            found = _REGISTRY[worker] = Progress(worker)
        return found
