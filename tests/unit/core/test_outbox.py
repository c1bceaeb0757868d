"""The outbox on both backends (`backend`: a SQLite file, a PostgreSQL schema), the relay lock that
lets processes share one, and what only SQLite has: the legacy file, the lock file."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from services.core.outbox import OutboundMessage, Outbox, store_of
from services.stores.connect import connect
from services.stores.migrations import Migrator
from tests.databases import Backend


def message(i: int, key: bytes = b"k") -> OutboundMessage:
    return OutboundMessage(
        "fh.events", key, f"v{i}".encode(), (("event_id", f"e{i}".encode()), ("bin", b"\xff\x00"))
    )


def opened(backend: Backend, name: str = "o.sqlite") -> Outbox:
    """An outbox as a publisher opens it: `name` is its file, or on PostgreSQL its schema."""
    box = Outbox.at(backend.settings(), backend.tmp_path / name)
    backend.opened.append(box)
    return box


def test_messages_come_back_in_order_with_binary_headers(backend: Backend) -> None:
    box = opened(backend)
    box.put_many([message(i) for i in range(5)] + [OutboundMessage("fh.events", None, b"no key")])
    assert [q.message for q in box.peek(10)] == [message(i) for i in range(5)] + [
        OutboundMessage("fh.events", None, b"no key")
    ]


def test_a_reopened_outbox_still_holds_what_was_not_removed(backend: Backend) -> None:
    box = opened(backend)
    box.put_many([message(i) for i in range(3)])
    box.remove([box.peek(1)[0].seq])
    box.close()
    reopened = opened(backend)
    assert [q.message.value for q in reopened.peek(10)] == [b"v1", b"v2"]
    assert reopened.backlog() == 2
    assert reopened.oldest_queued_at() is not None
    assert reopened.pending_topics() == ["fh.events"]


def test_a_failed_batch_leaves_nothing_behind(backend: Backend) -> None:
    box = opened(backend)

    def bad() -> object:
        yield message(1)
        raise RuntimeError("caller failed mid-batch")

    with contextlib.suppress(RuntimeError):
        box.put_many(bad())  # type: ignore[arg-type]
    assert box.backlog() == 0


def test_concurrent_writers_lose_nothing(backend: Backend) -> None:
    box = opened(backend)
    threads = [
        threading.Thread(target=lambda n=n: box.put_many([message(n * 100 + i) for i in range(50)]))
        for n in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert box.backlog() == 200


def _counting_commits(box: Outbox) -> list[bool]:
    """Record each write transaction of `box` (its `exclusive` flag) once it has committed."""
    commits: list[bool] = []
    transaction = box._transaction

    @contextlib.contextmanager
    def counted(*, exclusive: bool) -> Iterator[None]:
        with transaction(exclusive=exclusive):
            yield
        commits.append(exclusive)

    box._transaction = counted  # type: ignore[method-assign]
    return commits


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the callers did not get there"
        time.sleep(0.005)


def test_callers_waiting_for_a_commit_share_the_next_one_and_each_returns_once_durable(
    backend: Backend,
) -> None:
    box = opened(backend)
    reader = opened(backend)  # another connection: it sees committed rows only
    commits = _counting_commits(box)
    durable: dict[int, bool] = {}

    def put(i: int) -> None:
        box.put_many([message(i), message(i + 100)])
        durable[i] = {message(i), message(i + 100)} <= {q.message for q in reader.peek(100)}

    box._lock.acquire()  # the first caller's commit waits here, so the others queue behind it
    first = threading.Thread(target=put, args=(0,))
    first.start()
    _until(lambda: box._committer.locked() and not box._waiting)
    others = [threading.Thread(target=put, args=(i,)) for i in range(1, 5)]
    for thread in others:
        thread.start()
    _until(lambda: len(box._waiting) == 4)
    assert not durable, "nothing may return before its commit"
    box._lock.release()
    for thread in [first, *others]:
        thread.join(10)
    assert durable == dict.fromkeys(range(5), True)
    assert commits == [False, False], "the four callers that waited shared one commit"
    assert box.backlog() == 10


def test_a_caller_whose_batch_fails_in_a_shared_commit_does_not_fail_the_others(backend: Backend) -> None:
    box = opened(backend)
    box._lock.acquire()
    outcomes: dict[str, object] = {}

    def put(name: str, batch: list[OutboundMessage]) -> None:
        try:
            outcomes[name] = box.put_many(batch)
        except Exception as error:  # the bad caller's own error comes back to it
            outcomes[name] = type(error).__name__

    first = threading.Thread(target=put, args=("first", [message(0)]))
    first.start()
    _until(lambda: box._committer.locked() and not box._waiting)
    bad = OutboundMessage("fh.events", b"k", object())  # type: ignore[arg-type]
    callers = [
        threading.Thread(target=put, args=("good", [message(1)])),
        threading.Thread(target=put, args=("bad", [message(2), bad])),
    ]
    for thread in callers:
        thread.start()
    _until(lambda: len(box._waiting) == 2)
    box._lock.release()
    for thread in [first, *callers]:
        thread.join(10)
    assert outcomes["first"] == 1
    assert outcomes["good"] == 1
    assert isinstance(outcomes["bad"], str)
    assert [q.message.value for q in box.peek(10)] == [b"v0", b"v1"], "the bad batch left nothing"


def test_a_dedup_id_is_queued_once_while_waiting_and_after_removal(backend: Backend) -> None:
    box = opened(backend)
    first = OutboundMessage("fh.events", b"k", b"v", dedup_id="e1")
    assert box.put_many([first, first, message(2)]) == 2
    assert box.put_many([first]) == 0, "still waiting"
    box.remove([q.seq for q in box.peek(10)])
    assert box.put_many([first]) == 0, "delivered within the retention"
    assert box.put_many([message(2)]) == 1, "messages without an id are always queued"


def test_a_delivered_dedup_id_is_forgotten_after_the_retention(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = opened(backend)
    box.put_many([OutboundMessage("fh.events", b"k", b"v", dedup_id="e1")])
    box.remove([q.seq for q in box.peek(1)])
    monkeypatch.setattr("services.core.outbox.DEDUP_RETENTION_S", -1.0)
    assert box.prune_delivered() == 1
    assert box.put_many([OutboundMessage("fh.events", b"k", b"v", dedup_id="e1")]) == 1


def test_a_removed_seq_is_never_given_to_a_new_row(backend: Backend) -> None:
    """A broker record names its row by seq: a reused seq would let `reconcile` remove a new row
    that was never sent."""
    box = opened(backend)
    box.put_many([message(i) for i in range(3)])
    last = box.peek(3)[-1].seq
    box.remove([q.seq for q in box.peek(3)])
    box.close()
    reopened = opened(backend)
    reopened.put_many([message(9)])
    assert reopened.peek(1)[0].seq > last


def test_rows_are_named_on_the_broker_by_a_header_only_their_own_outbox_reads(backend: Backend) -> None:
    box = opened(backend, "a.sqlite")
    other = opened(backend, "b.sqlite")
    name, value = box.row_header(42)
    assert name == "hubnet-outbox"
    assert box.seq_of(value) == 42
    assert other.seq_of(value) is None
    assert opened(backend, "a.sqlite").outbox_id == box.outbox_id, "the id survives a restart"


def test_outbox_file_names_map_to_store_names() -> None:
    assert store_of(Path("/data/outbox.sqlite")) == "outbox"
    assert store_of(Path("timeline-outbox.sqlite")) == "timeline_outbox"


def test_an_outbox_file_from_before_dedup_ids_and_migrations_is_adopted(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    legacy = sqlite3.connect(path)
    legacy.executescript(
        """
        CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, key BLOB,
            value BLOB NOT NULL, headers BLOB NOT NULL,
            queued_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        );
        INSERT INTO outbox (topic, key, value, headers) VALUES ('fh.events', x'6b', x'7631', x'5b5d');
        """
    )
    legacy.close()
    box = Outbox.open(path)
    assert [(q.message.key, q.message.value) for q in box.peek(10)] == [(b"k", b"v1")]
    first = OutboundMessage("fh.events", b"k", b"v2", dedup_id="e2")
    assert box.put_many([first, first]) == 1, "dedup ids work on the adopted file"
    assert Migrator(box._db).applied() == [1]


def test_hubnet_migrate_finds_the_outbox_where_publishers_open_it(backend: Backend) -> None:
    settings = backend.settings()
    Outbox.at(settings).close()
    connection = connect(settings, "outbox")
    backend.opened.append(connection)
    assert Migrator(connection).applied() == [1]


def test_processes_share_one_outbox_and_one_relay_leads_at_a_time(backend: Backend) -> None:
    first, second = opened(backend), opened(backend)
    assert first.outbox_id == second.outbox_id, "rows are named alike whichever process sends"
    first.put_many([message(1)])
    second.put_many([message(2)])
    assert [q.message.value for q in first.peek(10)] == [b"v1", b"v2"]
    assert first.lead()
    assert not second.lead(), "two relays would send every row twice"
    assert first.lead(), "the leader keeps the lock"
    first.close()  # its process died: the server releases the lock once it sees the connection end
    deadline = time.monotonic() + 10
    while not second.lead() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert second.lead(), "the lock was not released with the leader's connection"


def test_a_sqlite_relay_lock_is_released_when_its_process_is_killed(tmp_path: Path) -> None:
    """`hubnet serve` and `hubnet watch` on one data directory share `outbox.sqlite`: if the one
    leading is killed, the other must take over, or the rows wait for ever."""
    path = tmp_path / "outbox.sqlite"
    box = Outbox.open(path)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_THE_LEAD, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "leading"
        assert not box.lead(), "another process leads this file"
    finally:
        holder.kill()
        holder.wait(10)
    assert box.lead(), "the kernel released the killed process's lock"
    box.close()


_HOLD_THE_LEAD = """
import sys, time
from pathlib import Path
from services.core.outbox import Outbox
box = Outbox.open(Path(sys.argv[1]))
assert box.lead()
print("leading", flush=True)
time.sleep(60)
"""
