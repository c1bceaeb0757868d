"""Run hubnet's services as child processes for `hubnet up`, and stop them all on the way out.

Each child gets its own process group, so Ctrl-C in the terminal reaches only the supervisor, which
then stops children in reverse start order: SIGTERM, a grace period, SIGKILL. No orphans are left,
even when a child ignores SIGTERM. A child that dies early is reported (with its last log lines),
not silently restarted: in the demo stack a crash is a bug to see, not to hide.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import structlog

log = structlog.get_logger(__name__)


@dataclass
class Child:
    name: str
    argv: list[str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
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

    def start(self, name: str, argv: list[str], extra_env: dict[str, str] | None = None) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        child = Child(name, argv, self.log_dir / f"{name}.log")
        child._log = child.log_path.open("ab")
        child.process = subprocess.Popen(
            argv,
            env={**self.env, **(extra_env or {})},
            stdin=subprocess.DEVNULL,
            stdout=child._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.children.append(child)
        log.info("supervisor.started", service=name, pid=child.process.pid)
        return child

    def failed(self) -> list[Child]:
        """Children that exited on their own."""
        return [c for c in self.children if c.process is not None and c.process.poll() is not None]

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM every child's process group (newest first), wait, then SIGKILL what remains."""
        for child in reversed(self.children):
            _signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for child in reversed(self.children):
            if child.process is None:
                continue
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("supervisor.kill", service=child.name, pid=child.process.pid)
                _signal_group(child, signal.SIGKILL)
                child.process.wait(5)
            _signal_group(child, signal.SIGKILL)  # grandchildren the child left behind
            if child._log:
                child._log.close()
        log.info("supervisor.stopped", services=len(self.children))


def _signal_group(child: Child, sig: signal.Signals) -> None:
    if child.process is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.process.pid, sig)
