"""Run hubnet's services as child processes for `hubnet up`, and stop them all on the way out.

Each child gets its own process group, so Ctrl-C in the terminal reaches only the supervisor, which
then stops children in reverse start order: SIGTERM, a grace period, SIGKILL. No orphans are left,
even when a child ignores SIGTERM.

Healing (`heal`, called by `hubnet up` every few seconds): a child that died, or whose `/healthz`
answers 503 (a stalled stream worker: services/streams/progress.py), is restarted with exponential
backoff (1, 2, 4 ... 60 s), each time logged with the reason and its last log lines, and counted
(`HUBNET_RESTARTS` reaches the new process, which shows it in its heartbeat and metrics). After
`max_restarts` restarts without a quiet `settle_s` in between it gives up loudly: the child stays
down and `heal` reports it, since a loop of crashes is a bug to see, not to hide. Nothing is lost by
a restart: every worker commits its store before its offsets (at-least-once in, idempotent out).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import structlog

from services.core import metrics

log = structlog.get_logger(__name__)


@dataclass
class Child:
    name: str
    argv: list[str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    health_url: str | None = None
    """`/healthz` of the child: a 503 there (stalled) is cured by a restart."""
    restarts: int = 0
    started_at: float = 0.0
    restart_at: float | None = None
    why: str = ""
    gave_up: bool = False
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, lines: int = 15) -> str:
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as handle:
            return b"".join(deque(handle, maxlen=lines)).decode(errors="replace")


@dataclass
class Supervisor:
    env: dict[str, str]
    log_dir: Path
    children: list[Child] = field(default_factory=list)
    max_restarts: int = 5
    settle_s: float = 600.0
    """A child that has run this long since its last restart starts counting restarts afresh."""
    first_backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    clock: Callable[[], float] = time.monotonic
    probe: Callable[[str], bool] = field(default_factory=lambda: _healthy)

    def start(
        self,
        name: str,
        argv: list[str],
        extra_env: dict[str, str] | None = None,
        health_url: str | None = None,
    ) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        child = Child(name, argv, self.log_dir / f"{name}.log", extra_env=dict(extra_env or {}))
        child.health_url = health_url
        child._log = child.log_path.open("ab")
        self._spawn(child)
        self.children.append(child)
        log.info("supervisor.started", service=name, pid=child.process.pid if child.process else None)
        return child

    def _spawn(self, child: Child) -> None:
        assert child._log is not None
        restarts = {"HUBNET_RESTARTS": str(child.restarts)} if child.restarts else {}
        child.process = subprocess.Popen(
            child.argv,
            env={**self.env, **child.extra_env, **restarts},
            stdin=subprocess.DEVNULL,
            stdout=child._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        child.started_at = self.clock()

    def heal(self) -> list[str]:
        """Restart what died or stalled, once its backoff has passed; sentences for the operator
        (each restart, each give-up). Call it every few seconds."""
        said: list[str] = []
        for child in self.children:
            if child.gave_up:
                continue
            if child.restart_at is None:
                reason = self._trouble(child)
                if reason is None:
                    continue
                said.append(self._schedule(child, reason))
            if child.restart_at is not None and not child.gave_up and self.clock() >= child.restart_at:
                said.append(self._restart(child))
        return [s for s in said if s]

    def _trouble(self, child: Child) -> str | None:
        if child.process is None:
            return None
        code = child.process.poll()
        if code is not None:
            return f"exited with status {code}"
        if child.health_url and not self.probe(child.health_url):
            return "stalled (its /healthz answers 503)"
        return None

    def _schedule(self, child: Child, reason: str) -> str:
        if self.clock() - child.started_at >= self.settle_s:
            child.restarts = 0  # it ran quietly for long enough: this is a new trouble, not a loop
        if child.restarts >= self.max_restarts:
            child.gave_up = True
            _stop_child(child, grace_s=5.0)
            log.error("supervisor.gave_up", service=child.name, restarts=child.restarts, reason=reason)
            return (
                f"{child.name} {reason} after {child.restarts} restarts: giving up; it stays down. "
                f"Its last lines:\n{child.tail()}"
            )
        delay = min(self.max_backoff_s, self.first_backoff_s * 2**child.restarts)
        child.restart_at, child.why = self.clock() + delay, reason
        log.warning("supervisor.will_restart", service=child.name, reason=reason, in_s=delay)
        return f"{child.name} {reason}; restarting in {delay:.0f} s. Its last lines:\n{child.tail()}"

    def _restart(self, child: Child) -> str:
        _stop_child(child, grace_s=5.0)  # a stalled child still runs: stop it (and its group) first
        child.restarts += 1
        child.restart_at = None
        self._spawn(child)
        metrics.SERVICE_RESTARTS.labels(child.name).set(child.restarts)
        pid = child.process.pid if child.process else None
        log.warning(
            "supervisor.restarted", service=child.name, reason=child.why, restarts=child.restarts, pid=pid
        )
        return (
            f"{child.name} restarted ({child.why}; restart {child.restarts} of at most {self.max_restarts})"
        )

    def failed(self) -> list[Child]:
        """Children that exited on their own."""
        return [c for c in self.children if c.process is not None and c.process.poll() is not None]

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM every child's process group (newest first), wait, then SIGKILL what remains."""
        for child in reversed(self.children):
            _signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for child in reversed(self.children):
            _reap(child, deadline)
            if child._log:
                child._log.close()
        log.info("supervisor.stopped", services=len(self.children))


def _stop_child(child: Child, grace_s: float) -> None:
    """One child's process group: SIGTERM, then SIGKILL after `grace_s` (and its grandchildren)."""
    _signal_group(child, signal.SIGTERM)
    _reap(child, time.monotonic() + grace_s)


def _reap(child: Child, deadline: float) -> None:
    if child.process is None:
        return
    try:
        child.process.wait(max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        log.warning("supervisor.kill", service=child.name, pid=child.process.pid)
        _signal_group(child, signal.SIGKILL)
        child.process.wait(5)
    _signal_group(child, signal.SIGKILL)  # grandchildren the child left behind


def _healthy(url: str) -> bool:
    """False only when the service answers 503 (it says it is stalled); a service that does not
    answer at all is left to the exit check, since a busy start-up may not answer yet."""
    import httpx

    try:
        return httpx.get(url, timeout=2.0).status_code != 503
    except httpx.HTTPError:
        return True


def _signal_group(child: Child, sig: signal.Signals) -> None:
    if child.process is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.process.pid, sig)
