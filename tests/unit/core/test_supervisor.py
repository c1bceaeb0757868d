"""The supervisor against real child processes (sleep and a shell that ignores SIGTERM)."""

from __future__ import annotations

import os
import signal
import sys
import time
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
