"""The supervisor against real child processes (sleep and a shell that ignores SIGTERM)."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from services.core.supervisor import Supervisor


def alive(pid: int) -> bool:
    """Running or sleeping; a zombie (killed, awaiting a reaper that containers may lack) is not alive."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


def test_stop_terminates_children_and_their_grandchildren(tmp_path: Path) -> None:
    supervisor = Supervisor(env=dict(os.environ), log_dir=tmp_path)
    pid_file = tmp_path / "grandchild.pid"
    ignoring = tmp_path / "stubborn.ready"
    parent = supervisor.start("sleeper", ["sh", "-c", f"sleep 60 & echo $! > {pid_file}; wait"])
    stubborn = supervisor.start(
        "stubborn",
        [
            sys.executable,
            "-c",
            "import pathlib,signal,sys,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "pathlib.Path(sys.argv[1]).touch(); time.sleep(60)",
            str(ignoring),
        ],
    )
    deadline = time.monotonic() + 30
    while not (pid_file.exists() and ignoring.exists()) and time.monotonic() < deadline:
        time.sleep(0.05)  # a loaded machine starts Python slowly: SIGTERM must find the handler set
    time.sleep(0.05)
    grandchild = int(pid_file.read_text())
    supervisor.stop(grace_s=1.0)
    assert parent.process is not None
    assert stubborn.process is not None
    assert parent.process.returncode is not None
    assert stubborn.process.returncode == -signal.SIGKILL
    time.sleep(0.1)
    assert not alive(grandchild)


def test_a_child_that_dies_is_reported_with_its_last_output(tmp_path: Path) -> None:
    supervisor = Supervisor(env=dict(os.environ), log_dir=tmp_path)
    child = supervisor.start("crasher", ["sh", "-c", "echo 'cannot bind port'; exit 3"])
    assert child.process is not None
    child.process.wait(5)
    assert supervisor.failed() == [child]
    assert "cannot bind port" in child.tail()
    supervisor.stop()


def _heal_until(supervisor: Supervisor, done: Callable[[], bool], timeout_s: float = 30.0) -> list[str]:
    said: list[str] = []
    deadline = time.monotonic() + timeout_s
    while not done() and time.monotonic() < deadline:
        said += supervisor.heal()
        time.sleep(0.02)
    return said


def test_a_child_that_keeps_dying_is_restarted_with_backoff_then_given_up_loudly(tmp_path: Path) -> None:
    counts = tmp_path / "restarts-seen"
    supervisor = Supervisor(
        env=dict(os.environ), log_dir=tmp_path, max_restarts=2, first_backoff_s=0.05, settle_s=3600
    )
    record = (
        "import os,sys; open(sys.argv[1], 'a').write(os.environ.get('HUBNET_RESTARTS', '0') + ' '); "
        "sys.exit(3)"
    )
    child = supervisor.start("crasher", [sys.executable, "-c", record, str(counts)])
    said = _heal_until(supervisor, lambda: child.gave_up)
    assert counts.read_text().split() == ["0", "1", "2"]  # each start knows how often it was restarted
    assert [s.split(";")[0] for s in said if "restarting in" in s] == ["crasher exited with status 3"] * 2
    assert sum("crasher restarted (exited with status 3; restart" in s for s in said) == 2
    assert "giving up" in said[-1]
    assert child.restarts == 2
    supervisor.stop()


def test_a_stalled_child_is_stopped_and_a_new_one_started(tmp_path: Path) -> None:
    answers = iter([True, False])  # healthy once, then its /healthz says 503 (stalled)
    supervisor = Supervisor(
        env=dict(os.environ), log_dir=tmp_path, first_backoff_s=0.01,
        probe=lambda url: next(answers, True),
    )  # fmt: skip
    child = supervisor.start("worker", ["sleep", "60"], health_url="http://127.0.0.1:1/healthz")
    assert child.process is not None
    first = child.process
    assert supervisor.heal() == []
    said = _heal_until(supervisor, lambda: child.process is not first)
    assert first.returncode is not None  # the stalled process was stopped, not left beside the new one
    assert child.running
    assert any("worker stalled (its /healthz answers 503); restarting" in s for s in said)
    assert child.restarts == 1
    supervisor.stop()
