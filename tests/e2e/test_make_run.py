"""`hubnet up` as `make run` starts it: a real process tree, the embedded broker, every service,
demo traffic flowing through connectors, identity and the timeline, and a clean Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e
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


def timeline_entries(data_dir: Path) -> int:
    path = data_dir / "timeline.sqlite"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as db:
            return int(db.execute("SELECT count(*) FROM entry").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_up_runs_the_whole_product_and_stops_cleanly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    env["HUBNET_DATA_DIR"] = str(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "up", "--rate", "max"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    running = threading.Event()

    def drain() -> None:  # keep reading, or the stack blocks writing its logs to a full pipe
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if "hubnet is running" in line:
                running.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        running.wait(240)
        text = "".join(output)
        assert "hubnet is running" in text, text
        assert "dead-lettered" in text, "the sample feeds went through their connectors"
        ui = re.search(r"hub staff web UI\s+(http://127\.0\.0\.1:\d+)/", text)
        assert ui, text
        assert httpx.get(f"{ui[1]}/healthz", timeout=5).status_code == 200
        assert "Sign in" in httpx.get(f"{ui[1]}/", timeout=5, follow_redirects=True).text

        deadline = time.monotonic() + 120
        while timeline_entries(tmp_path) < 50 and time.monotonic() < deadline:
            time.sleep(1)
        assert timeline_entries(tmp_path) >= 50, "demo traffic reached the timeline through identity"
        assert processes_using(tmp_path), "the services run as child processes"
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal sends
        code = process.wait(90)
    reader.join(10)
    assert code == 0, "".join(output[-20:])
    assert "stopping" in "".join(output)
    time.sleep(0.5)
    assert processes_using(tmp_path) == [], "no process is left behind"
    assert not (tmp_path / "broker.json").exists()
