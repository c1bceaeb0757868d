"""When each event became visible in the timeline store, as the API would see it.

A thread polls the store's `applied` table (the event ids the timeline worker committed, in
commit order: a single writer, rowids only grow) through its own read-only connection, every few
milliseconds, and notes the first time each event id appeared. That is "visible in the timeline
store": the API reads the same committed rows.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

POLL_S = 0.005


class Visibility(threading.Thread):
    """Start it, then read `seen` (event id -> perf_counter time first seen) at any moment."""

    def __init__(self, store: Path) -> None:
        super().__init__(name="hubnet-bench-visibility", daemon=True)
        self._store = store
        self._halt = threading.Event()
        self._lock = threading.Lock()
        self._seen: dict[str, float] = {}

    def run(self) -> None:
        while not self._store.exists() and not self._halt.wait(POLL_S):
            pass
        reader = sqlite3.connect(f"file:{self._store}?mode=ro", uri=True, timeout=5)
        last = 0
        try:
            while not self._halt.wait(POLL_S):
                try:
                    rows = reader.execute(
                        "SELECT rowid, event_id FROM applied WHERE rowid > ? ORDER BY rowid", (last,)
                    ).fetchall()
                except sqlite3.OperationalError:  # the worker has not created its tables yet
                    continue
                now = time.perf_counter()
                with self._lock:
                    for rowid, event_id in rows:
                        self._seen.setdefault(event_id, now)
                        last = rowid
        finally:
            reader.close()

    def seen_at(self, event_id: str) -> float | None:
        with self._lock:
            return self._seen.get(event_id)

    def count(self, event_ids: set[str]) -> int:
        with self._lock:
            return sum(1 for event_id in event_ids if event_id in self._seen)

    def last_seen(self, event_ids: set[str]) -> float:
        with self._lock:
            return max((self._seen[e] for e in event_ids if e in self._seen), default=0.0)

    def wait_for(self, event_ids: set[str], timeout_s: float) -> bool:
        """Block until every id is visible; False when the timeout came first."""
        deadline = time.monotonic() + timeout_s
        pending = set(event_ids)
        while True:
            with self._lock:
                pending = {event_id for event_id in pending if event_id not in self._seen}
            if not pending:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    def stop(self) -> None:
        self._halt.set()
        self.join(5)
