"""A local SQLite outbox: what `publish()` accepted survives a crash and a broker outage.

Rows are kept in arrival order (an autoincrement sequence) and removed only after the broker
acknowledged them, so delivery is at-least-once and in order per key. SQLite in WAL mode with
`synchronous=FULL`: a committed row survives a process crash and a power cut.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    key BLOB,
    value BLOB NOT NULL,
    headers BLOB NOT NULL,
    queued_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)
"""


@dataclass(frozen=True)
class OutboundMessage:
    """A message for Kafka exactly as it will be produced."""

    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True)
class QueuedMessage:
    seq: int
    message: OutboundMessage


class Outbox:
    """Thread-safe: the caller's thread appends, the relay thread reads and removes."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    def put_many(self, messages: Iterable[OutboundMessage]) -> int:
        """Append in one transaction: all of them are durable when this returns, or none."""
        rows = [
            (m.topic, m.key, m.value, orjson.dumps([[k, v.decode("latin-1")] for k, v in m.headers]))
            for m in messages
        ]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO outbox (topic, key, value, headers) VALUES (?, ?, ?, ?)", rows
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return len(rows)

    def peek(self, limit: int) -> list[QueuedMessage]:
        """The oldest messages, in the order they were accepted."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, topic, key, value, headers FROM outbox ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [
            QueuedMessage(
                seq,
                OutboundMessage(
                    topic, key, value, tuple((k, v.encode("latin-1")) for k, v in orjson.loads(headers))
                ),
            )
            for seq, topic, key, value, headers in rows
        ]

    def remove(self, seqs: Sequence[int]) -> None:
        if not seqs:
            return
        with self._lock:
            self._db.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])

    def backlog(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT count(*) FROM outbox").fetchone()
        return int(count)

    def oldest_queued_at(self) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT queued_at FROM outbox ORDER BY seq LIMIT 1").fetchone()
        return str(row[0]) if row else None

    def close(self) -> None:
        with self._lock:
            self._db.close()
