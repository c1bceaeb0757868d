"""`hubnet up` heals: each stream worker killed with SIGKILL while demo traffic flows comes back by
itself (issue #21), and nothing is lost or doubled: every event on fh.events reaches the timeline
store once, or a worker dead-lettered it with a reason."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from schemas.dead_letter import DeadLetter
from schemas.envelope import HubEvent
from schemas.topics import DLQ, EVENTS
from services.core.settings import Settings
from services.core.topic_reader import read_to_end
from tests.e2e.up_stack import UpStack, store_count, timeline_entries, worker_pid
from tests.sqlite_files import opened

pytestmark = pytest.mark.e2e
WORKERS = ("identity", "timeline", "referrals")


def _replaced(data_dir: Path, worker: str, victim: int) -> bool:
    return worker_pid(data_dir, worker) not in (None, victim)


def _applied(data_dir: Path) -> set[str]:
    with opened(data_dir / "timeline.sqlite") as db:
        return {row[0] for row in db.execute("SELECT event_id FROM applied")}


def _wait(condition: Callable[[], bool], timeout_s: float, what: str, stack: UpStack) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert condition(), f"{what} within {timeout_s:.0f} s; hubnet up said:\n{stack.text[-3000:]}"


def _outstanding(settings: Settings, bootstrap: str, data_dir: Path) -> tuple[int, set[str]]:
    """(events on fh.events, those neither applied to the timeline nor dead-lettered by identity)."""
    events = {HubEvent.from_bytes(r.value).event_id for r in read_to_end(settings, bootstrap, EVENTS)}
    refused = set()
    for record in read_to_end(settings, bootstrap, DLQ):
        letter = DeadLetter.from_bytes(record.value)
        if letter.connector == "worker:identity":
            refused.add(HubEvent.from_bytes(letter.original).event_id)
    return len(events), events - _applied(data_dir) - refused


def test_every_worker_killed_under_up_comes_back_and_nothing_is_lost_or_doubled(tmp_path: Path) -> None:
    stack = UpStack(tmp_path).start()
    try:
        stack.running.wait(240)
        assert "hubnet is running" in stack.text, stack.text
        _wait(lambda: timeline_entries(tmp_path) >= 20, 120, "demo traffic reached the timeline", stack)
        for worker in WORKERS:
            victim = worker_pid(tmp_path, worker)
            assert victim is not None, f"no {worker} worker running"
            os.kill(victim, signal.SIGKILL)
            _wait(partial(_replaced, tmp_path, worker, victim), 60, f"the {worker} worker restarted", stack)
            said = f"{worker} restarted (exited with status -9"
            _wait(lambda s=said: s in stack.text, 10, f"hubnet up saying '{said}'", stack)

        broker = json.loads((tmp_path / "broker.json").read_text())
        settings = Settings(data_dir=tmp_path, KAFKA_BOOTSTRAP_SERVERS=broker["bootstrap"])

        def settled() -> bool:
            total, missing = _outstanding(settings, broker["bootstrap"], tmp_path)
            return total > 0 and not missing

        _wait(settled, 240, "every event on fh.events reached the timeline store", stack)
        assert store_count(tmp_path, "timeline", "SELECT count(*) - count(DISTINCT event_id) FROM entry") == 0
    finally:
        code = stack.stop()
    assert code == 0, "".join(stack.output[-20:])
