"""A local SQLite outbox: what `publish()` accepted survives a crash and a broker outage.

Rows are kept in arrival order (an autoincrement sequence) and removed only after the broker
acknowledged them, so delivery is in order per key and nothing is lost. SQLite in WAL mode with
`synchronous=FULL`: a committed row survives a process crash and a power cut.

Two crash windows could still put a message on the broker twice; both are closed here:
- the relay is killed after the broker acknowledged rows but before it removed them: each message
  carries an `OUTBOX_HEADER` naming this outbox and the row, so a restarted relay finds the rows
  that did land (`reconcile`) and removes them before sending anything;
- a caller queued a message, then crashed before recording that it had (the gateway keeps its
  idempotency store in another database): a message with a `dedup_id` is queued at most once
  while it waits and for `DEDUP_RETENTION_S` after delivery, so the caller's retry is absorbed.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

OUTBOX_HEADER = "hubnet-outbox"
DEDUP_RETENTION_S = 24 * 3600.0
"""How long a delivered `dedup_id` still absorbs a repeat: long enough for a crashed caller to be
restarted and retry (a partner resend, a file drop re-run), short enough to keep the table small."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    key BLOB,
    value BLOB NOT NULL,
    headers BLOB NOT NULL,
    queued_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    dedup_id TEXT
);
CREATE TABLE IF NOT EXISTS delivered (dedup_id TEXT PRIMARY KEY, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS outbox_identity (id TEXT NOT NULL);
"""


@dataclass(frozen=True)
class OutboundMessage:
    """A message for Kafka exactly as it will be produced.

    `dedup_id`, when set, makes queueing idempotent: a second message with the same id is ignored
    while the first waits or was delivered recently (see `DEDUP_RETENTION_S`)."""

    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()
    dedup_id: str | None = None


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
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(outbox)")}
        if "dedup_id" not in columns:  # an outbox written by an earlier hubnet
            self._db.execute("ALTER TABLE outbox ADD COLUMN dedup_id TEXT")
        self._db.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS outbox_dedup ON outbox (dedup_id) WHERE dedup_id IS NOT NULL"
        )
        self.outbox_id = self._identity()

    def _identity(self) -> str:
        """A random id fixed for this outbox file's life, so its rows are recognisable on the broker."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            row = self._db.execute("SELECT id FROM outbox_identity").fetchone()
            if row is None:
                row = (uuid.uuid4().hex,)
                self._db.execute("INSERT INTO outbox_identity (id) VALUES (?)", row)
            self._db.execute("COMMIT")
        return str(row[0])

    def row_header(self, seq: int) -> tuple[str, bytes]:
        """The header that names a row on the broker."""
        return OUTBOX_HEADER, f"{self.outbox_id}:{seq}".encode()

    def seq_of(self, header_value: bytes) -> int | None:
        """The row a broker record came from, if it came from this outbox."""
        outbox_id, _, seq = header_value.decode("ascii", "replace").partition(":")
        return int(seq) if outbox_id == self.outbox_id and seq.isdigit() else None

    def put_many(self, messages: Iterable[OutboundMessage]) -> int:
        """Append in one transaction: all of them are durable when this returns, or none.

        Returns how many were queued: messages whose `dedup_id` is waiting or recently delivered
        are not queued again."""
        rows = [
            (
                m.topic, m.key, m.value,
                orjson.dumps([[k, v.decode("latin-1")] for k, v in m.headers]), m.dedup_id,
            )
            for m in messages
        ]  # fmt: skip
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                before = self._db.total_changes
                self._db.executemany(
                    "INSERT INTO outbox (topic, key, value, headers, dedup_id) SELECT ?, ?, ?, ?, ? "
                    "WHERE true ON CONFLICT DO NOTHING",
                    [row for row in rows if row[4] is None or not self._was_delivered(row[4])],
                )
                queued = self._db.total_changes - before
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return queued

    def _was_delivered(self, dedup_id: str) -> bool:
        found = self._db.execute(
            "SELECT 1 FROM delivered WHERE dedup_id = ? AND at >= ?",
            (dedup_id, time.time() - DEDUP_RETENTION_S),
        ).fetchone()
        return found is not None

    def peek(self, limit: int) -> list[QueuedMessage]:
        """The oldest messages, in the order they were accepted."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, topic, key, value, headers, dedup_id FROM outbox ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [
            QueuedMessage(
                seq,
                OutboundMessage(
                    topic, key, value,
                    tuple((k, v.encode("latin-1")) for k, v in orjson.loads(headers)), dedup_id,
                ),
            )
            for seq, topic, key, value, headers, dedup_id in rows
        ]  # fmt: skip

    def remove(self, seqs: Sequence[int]) -> None:
        """Forget delivered rows, remembering their dedup ids for `DEDUP_RETENTION_S`."""
        if not seqs:
            return
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO delivered (dedup_id, at) SELECT dedup_id, ? FROM outbox "
                    "WHERE seq = ? AND dedup_id IS NOT NULL "
                    "ON CONFLICT (dedup_id) DO UPDATE SET at = excluded.at",
                    [(now, seq) for seq in seqs],
                )
                self._db.executemany("DELETE FROM outbox WHERE seq = ?", [(seq,) for seq in seqs])
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def prune_delivered(self) -> int:
        """Drop dedup ids older than the retention; the relay calls it now and then."""
        with self._lock:
            return self._db.execute(
                "DELETE FROM delivered WHERE at < ?", (time.time() - DEDUP_RETENTION_S,)
            ).rowcount

    def pending_topics(self) -> list[str]:
        with self._lock:
            return [row[0] for row in self._db.execute("SELECT DISTINCT topic FROM outbox ORDER BY topic")]

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
