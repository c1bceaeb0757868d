"""`hubnet up` as a test starts it: a real process tree on a private data dir, its output read as it
comes (or the stack blocks writing to a full pipe), and the processes it runs found by their
environment."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from tests.sqlite_files import opened

REPO = Path(__file__).resolve().parents[2]


def processes_using(data_dir: Path) -> list[int]:
    """Pids whose environment names this data dir: the stack's children (and their children)."""
    marker = f"HUBNET_DATA_DIR={data_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                environ = (entry / "environ").read_bytes()
                state = (entry / "status").read_text()
            except OSError:
                continue
            if marker in environ.split(b"\0") and "State:\tZ" not in state:
                found.append(int(entry.name))
    return found


def worker_pid(data_dir: Path, worker: str) -> int | None:
    """The running `hubnet worker <name>` of this stack, if any."""
    for pid in processes_using(data_dir):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"worker" in argv and worker.encode() in argv:
            return pid
    return None


def store_count(data_dir: Path, store: str, sql: str) -> int:
    path = data_dir / f"{store}.sqlite"
    if not path.exists():
        return 0
    try:
        with opened(path, timeout_s=1) as db:
            return int(db.execute(sql).fetchone()[0])
    except sqlite3.Error:
        return 0


def timeline_entries(data_dir: Path) -> int:
    return store_count(data_dir, "timeline", "SELECT count(*) FROM entry")


@dataclass
class UpStack:
    """`hubnet up` running on `data_dir` until `stop()` (Ctrl-C, as a terminal sends it)."""

    data_dir: Path
    args: tuple[str, ...] = ("--rate", "max")
    output: list[str] = field(default_factory=list)
    running: threading.Event = field(default_factory=threading.Event)

    def start(self) -> UpStack:
        env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
        env["HUBNET_DATA_DIR"] = str(self.data_dir)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "up", *self.args],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()
        return self

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if "hubnet is running" in line:
                self.running.set()

    @property
    def text(self) -> str:
        return "".join(self.output)

    def stop(self, timeout_s: float = 90.0) -> int:
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout_s)
        self._reader.join(10)
        return code
