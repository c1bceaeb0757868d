"""The durable outbox: what `publish()` accepted survives a crash and a broker outage.

Where it lives follows the stores (services/stores/connect.py): a SQLite file in the data
directory by default (WAL, `synchronous=FULL`: a committed row survives a process crash and a power
cut), shared by every process started on that directory (`hubnet serve`, `hubnet watch`,
`hubnet listen`... all open `outbox.sqlite`), or, when `HUBNET_DATABASE_URL` is set, a PostgreSQL
schema (`hubnet_outbox`; the file name `timeline-outbox.sqlite` becomes `hubnet_timeline_outbox`)
that every process publishing through it shares: gateway pods, listeners, replays. Its tables are
versioned migrations (`MIGRATIONS`, listed in services/stores/catalogue.py for `hubnet migrate`)
applied when it opens.

Rows are kept in arrival order (a sequence that never reuses a number) and removed only after the
broker acknowledged them, so delivery is in order per key and nothing is lost.

Two crash windows could still put a message on the broker twice; both are closed here:
- the relay is killed after the broker acknowledged rows but before it removed them: each message
  carries an `OUTBOX_HEADER` naming this outbox and the row, so the next relay finds the rows
  that did land (`reconcile`) and removes them before sending anything;
- a caller queued a message, then crashed before recording that it had (the gateway keeps its
  idempotency store in another database): a message with a `dedup_id` is queued at most once
  while it waits and for `DEDUP_RETENTION_S` after delivery, so the caller's retry is absorbed.

Sharing: exactly one relay sends, the one whose process holds the outbox's relay lock
(`lead()`): on PostgreSQL a session-level advisory lock, which the server releases when that
process's connection ends; on SQLite an exclusive `flock` on `<file>.relay.lock`, which the kernel
releases when the process exits or is killed. Another relay then takes over. Two relays on one
outbox would each send the rows neither had removed yet. The outbox id naming rows on the broker
is a property of the table (`outbox_identity`), so whichever relay leads recognises every
process's rows. Writers take turns: on SQLite each write transaction is `BEGIN IMMEDIATE`; on
PostgreSQL queueing holds a shared, removal an exclusive transaction-scoped lock. Either way a
dedup id found not delivered cannot be delivered and removed before the queueing transaction
commits.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from services.core.settings import Settings
from services.stores.connect import Dialect, connect, connect_sqlite, dialect_of, redacted_url, schema_name
from services.stores.migrations import Migration, Migrator, lock_key
from services.streams.sqlstore import to_format_style

OUTBOX_HEADER = "hubnet-outbox"
DEDUP_RETENTION_S = 24 * 3600.0
"""How long a delivered `dedup_id` still absorbs a repeat: long enough for a crashed caller to be
restarted and retry (a partner resend, a file drop re-run), short enough to keep the table small."""
DEFAULT_FILE = "outbox.sqlite"
STORE = "outbox"
_REMOVE_CHUNK = 500

MIGRATIONS = (
    Migration(
        1,
        "outbox rows, delivered dedup ids, outbox identity",
        """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    key BLOB,
    value BLOB NOT NULL,
    headers BLOB NOT NULL,
    queued_at TEXT NOT NULL,
    dedup_id TEXT
);
CREATE TABLE IF NOT EXISTS delivered (dedup_id TEXT PRIMARY KEY, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS outbox_identity (id TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS outbox_dedup ON outbox (dedup_id) WHERE dedup_id IS NOT NULL
""",
    ),
)
"""Version 1 is the schema the SQLite outbox had before migrations, so existing files are adopted
as they are (`AUTOINCREMENT`: a seq is never reused, or a broker record of a removed row could
name a new one; on PostgreSQL an identity column). `queued_at` is written by `put_many`."""


def store_of(path: Path) -> str:
    """The store (PostgreSQL schema suffix) of an outbox file name: `timeline-outbox.sqlite` ->
    `timeline_outbox`, so callers name their outbox once, as a file, for both backends."""
    return path.name.removesuffix(".sqlite").replace("-", "_").replace(".", "_")


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


@dataclass
class _Waiting:
    """One caller's batch of rows waiting for a group commit, and what became of it."""

    rows: list[tuple[Any, ...]]
    done: bool = False
    queued: int = 0
    error: BaseException | None = None


@dataclass(frozen=True)
class QueuedMessage:
    seq: int
    message: OutboundMessage


class Outbox:
    """Thread-safe: the caller's thread appends, the relay thread reads and removes.

    The connection runs in autocommit (each read is its own transaction, so no connection sits
    idle in one); writes run in `_transaction()`."""

    def __init__(self, connection: Any, where: str, relay_lock: Path | None = None) -> None:
        self._db = connection
        self.where = where
        """The file, or the PostgreSQL server (password hidden) and schema: for messages."""
        self._postgres = dialect_of(connection) is Dialect.POSTGRESQL
        self._lock = threading.Lock()
        self._committer = threading.Lock()
        """Held by the thread committing for everyone waiting (`put_many`)."""
        self._waiting_lock = threading.Lock()
        self._waiting: list[_Waiting] = []
        migrator = Migrator(connection)
        migrator.apply(MIGRATIONS)
        schema = migrator.schema()
        self._write_key = lock_key(f"hubnet.write.{schema}")
        self._relay_key = lock_key(f"hubnet.outbox-relay.{schema}")
        self._relay_lock = relay_lock
        """SQLite: the file whose `flock` is the relay lock."""
        self._relay_lock_fd: int | None = None
        self._leading = False
        self.outbox_id = self._identity()

    @classmethod
    def open(cls, path: Path) -> Outbox:
        """A SQLite outbox file, made or upgraded as needed."""
        connection = connect_sqlite(path, synchronous="FULL")
        connection.isolation_level = None
        _adopt_legacy_file(connection)
        return cls(connection, str(path), relay_lock=path.with_name(path.name + ".relay.lock"))

    @classmethod
    def at(cls, settings: Settings, path: Path | None = None) -> Outbox:
        """The outbox where the settings put it: the SQLite file `path` (default
        `<data dir>/outbox.sqlite`), or, with `HUBNET_DATABASE_URL`, the PostgreSQL schema named
        after that file (`store_of`) shared by every process. Every publisher opens it here."""
        path = path or settings.data_dir / DEFAULT_FILE
        if not settings.database_url:
            return cls.open(path)
        store = store_of(path)
        connection = connect(settings, store)
        connection.autocommit = True
        schema = schema_name(store, settings.database_schema_prefix)
        return cls(connection, f"{redacted_url(settings.database_url)} schema {schema}")

    def _run(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._db.execute(to_format_style(sql) if self._postgres else sql, tuple(params))

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        """Run one statement per row; rows changed in all."""
        if not self._postgres:
            return int(self._db.executemany(sql, rows).rowcount)
        with self._db.cursor() as cursor:
            cursor.executemany(to_format_style(sql), rows)
            return int(cursor.rowcount)

    @contextmanager
    def _transaction(self, *, exclusive: bool) -> Iterator[None]:
        """One write transaction. SQLite: `BEGIN IMMEDIATE` (one writer at a time). PostgreSQL:
        the outbox's write lock, shared for queueing (publishers append side by side) and
        exclusive for removal and the identity, so removal never interleaves with a dedup check."""
        with self._lock:
            if self._postgres:
                self._db.execute("BEGIN")
                take = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
                self._run(f"SELECT {take}(?)", (self._write_key,))
            else:
                self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _identity(self) -> str:
        """A random id fixed for this outbox's life (file or shared table), so its rows are
        recognisable on the broker whichever process sent them."""
        with self._transaction(exclusive=True):
            row = self._run("SELECT id FROM outbox_identity").fetchone()
            if row is None:
                row = (uuid.uuid4().hex,)
                self._run("INSERT INTO outbox_identity (id) VALUES (?)", row)
        return str(row[0])

    def lead(self) -> bool:
        """Whether this outbox's relay is the one that sends: once it holds the relay lock, kept
        until `close()` or the process dies. Cheap to call again while another process leads:
        one query (PostgreSQL) or one failed `flock` (SQLite)."""
        if not self._leading:
            with self._lock:
                if self._postgres:
                    taken = self._run("SELECT pg_try_advisory_lock(?)", (self._relay_key,)).fetchone()
                    self._leading = bool(taken[0])
                else:
                    self._leading = self._lock_file()
        return self._leading

    def _lock_file(self) -> bool:
        """Take the SQLite relay lock if no other outbox (in any process) holds it. `flock`
        belongs to this open file, so a second `Outbox` on the same file, even in this process,
        is refused too, and the kernel releases it with the process, however that ends."""
        assert self._relay_lock is not None, "a SQLite outbox is opened with its relay lock file"
        fd = os.open(self._relay_lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._relay_lock_fd = fd
        return True

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
        are not queued again. Callers on several threads share commits (group commit): whoever
        commits takes every batch waiting at that moment into its transaction, each batch still
        all or nothing, so a commit's cost (on SQLite with `synchronous=FULL`, most of a small
        batch's) is paid once for all of them."""
        queued_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        rows = [
            (
                m.topic, m.key, m.value,
                orjson.dumps([[k, v.decode("latin-1")] for k, v in m.headers]), queued_at, m.dedup_id,
            )
            for m in messages
        ]  # fmt: skip
        mine = _Waiting(rows)
        with self._waiting_lock:
            self._waiting.append(mine)
        with self._committer:
            if not mine.done:  # no commit took it while this thread waited: commit what waits
                with self._waiting_lock:
                    group, self._waiting = self._waiting, []
                self._commit(group)
        if mine.error is not None:
            raise mine.error
        return mine.queued

    def _commit(self, group: list[_Waiting]) -> None:
        """Queue every waiting batch in one transaction; if that fails, each in its own, so one
        caller's failure is never another's. Every batch of the group ends `done`, queued or
        with the error its caller raises."""
        try:
            with self._transaction(exclusive=False):
                counts = [self._queue(waiting.rows) for waiting in group]
        except Exception as error:
            if len(group) > 1:
                for waiting in group:
                    self._commit([waiting])
                return
            counts, group[0].error = [0], error
        except BaseException as error:  # interrupted while committing for the others: none is queued
            for waiting in group:
                waiting.error, waiting.done = error, True
            raise
        for waiting, count in zip(group, counts, strict=True):
            waiting.queued, waiting.done = count, True

    def _queue(self, rows: list[tuple[Any, ...]]) -> int:
        fresh = [row for row in rows if row[5] is None or not self._was_delivered(row[5])]
        if not fresh:
            return 0
        return self._many(
            "INSERT INTO outbox (topic, key, value, headers, queued_at, dedup_id) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            fresh,
        )

    def _was_delivered(self, dedup_id: str) -> bool:
        found = self._run(
            "SELECT 1 FROM delivered WHERE dedup_id = ? AND at >= ?",
            (dedup_id, time.time() - DEDUP_RETENTION_S),
        ).fetchone()
        return found is not None

    def peek(self, limit: int) -> list[QueuedMessage]:
        """The oldest messages, in the order they were accepted."""
        with self._lock:
            rows = self._run(
                "SELECT seq, topic, key, value, headers, dedup_id FROM outbox ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [
            QueuedMessage(
                seq,
                OutboundMessage(
                    topic, None if key is None else bytes(key), bytes(value),
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
        with self._transaction(exclusive=True):
            for start in range(0, len(seqs), _REMOVE_CHUNK):
                chunk = tuple(seqs[start : start + _REMOVE_CHUNK])
                marks = ", ".join("?" * len(chunk))
                self._run(
                    "INSERT INTO delivered (dedup_id, at) SELECT dedup_id, ? FROM outbox "  # noqa: S608
                    f"WHERE seq IN ({marks}) AND dedup_id IS NOT NULL "
                    "ON CONFLICT (dedup_id) DO UPDATE SET at = excluded.at",
                    (now, *chunk),
                )
                self._run(f"DELETE FROM outbox WHERE seq IN ({marks})", chunk)  # noqa: S608

    def prune_delivered(self) -> int:
        """Drop dedup ids older than the retention; the relay calls it now and then."""
        with self._transaction(exclusive=True):
            return int(
                self._run("DELETE FROM delivered WHERE at < ?", (time.time() - DEDUP_RETENTION_S,)).rowcount
            )

    def pending_topics(self) -> list[str]:
        with self._lock:
            return [
                row[0] for row in self._run("SELECT DISTINCT topic FROM outbox ORDER BY topic").fetchall()
            ]

    def backlog(self) -> int:
        with self._lock:
            (count,) = self._run("SELECT count(*) FROM outbox").fetchone()
        return int(count)

    def oldest_queued_at(self) -> str | None:
        with self._lock:
            row = self._run("SELECT queued_at FROM outbox ORDER BY seq LIMIT 1").fetchone()
        return str(row[0]) if row else None

    def close(self) -> None:
        """Close the connection and give up the relay lock, so another process's relay leads."""
        with self._lock:
            self._db.close()
            if self._relay_lock_fd is not None:
                os.close(self._relay_lock_fd)  # closing the file releases its flock
                self._relay_lock_fd, self._leading = None, False


def _adopt_legacy_file(connection: Any) -> None:
    """An outbox file written by a hubnet before dedup ids has no `dedup_id` column, which
    migration 1 indexes: add it first (the other tables and the index come with migration 1)."""
    columns = {row[1] for row in connection.execute("PRAGMA table_info(outbox)")}
    if columns and "dedup_id" not in columns:
        connection.execute("ALTER TABLE outbox ADD COLUMN dedup_id TEXT")
