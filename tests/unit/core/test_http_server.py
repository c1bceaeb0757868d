"""A served API stopped by SIGTERM (how `hubnet up` and Kubernetes stop it) returns the normal way:
its clean-up runs and its stores are closed, so no row stays only in a `-wal` file. A real process,
a real uvicorn server, a real signal (services/core/http_server.py)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.stores.test_store_close import REPO, notes_in_copy

SERVED = """
import sys
from services.core.http_server import serve
from tests.stores.test_store_close import NoteStore

store = NoteStore.open(sys.argv[1])
store.add("one", "a note")

async def app(scope, receive, send):
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

try:
    serve(app, host="127.0.0.1", port=int(sys.argv[2]), log_config=None, lifespan="off")
finally:
    store.close()
    print("cleaned up", flush=True)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[str], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server ended before it listened"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listened on {port} within {timeout_s} s")


def test_sigterm_stops_the_server_through_its_clean_up_and_leaves_no_log_behind(tmp_path: Path) -> None:
    path, port = tmp_path / "notes.sqlite", _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", SERVED, str(path), str(port)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _wait_listening(port, process)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 0, f"ended by the signal instead of returning: {process.returncode} {err}"
    assert "cleaned up" in out
    assert not (tmp_path / "notes.sqlite-wal").exists()
    assert notes_in_copy(path, tmp_path / "copy") == 1
