from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import pytest

from services.core.outbox import OutboundMessage, Outbox


def message(i: int, key: bytes = b"k") -> OutboundMessage:
    return OutboundMessage(
        "fh.events", key, f"v{i}".encode(), (("event_id", f"e{i}".encode()), ("bin", b"\xff\x00"))
    )


def test_messages_come_back_in_order_with_binary_headers(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite")
    box.put_many([message(i) for i in range(5)])
    assert [q.message for q in box.peek(10)] == [message(i) for i in range(5)]


def test_a_reopened_outbox_still_holds_what_was_not_removed(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite"
    box = Outbox(path)
    box.put_many([message(i) for i in range(3)])
    box.remove([box.peek(1)[0].seq])
    box.close()
    reopened = Outbox(path)
    assert [q.message.value for q in reopened.peek(10)] == [b"v1", b"v2"]
    assert reopened.backlog() == 2


def test_a_failed_batch_leaves_nothing_behind(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite")

    def bad() -> object:
        yield message(1)
        raise RuntimeError("caller failed mid-batch")

    with contextlib.suppress(RuntimeError):
        box.put_many(bad())  # type: ignore[arg-type]
    assert box.backlog() == 0


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite")
    threads = [
        threading.Thread(target=lambda n=n: box.put_many([message(n * 100 + i) for i in range(50)]))
        for n in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert box.backlog() == 200


def test_a_dedup_id_is_queued_once_while_waiting_and_after_removal(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite")
    first = OutboundMessage("fh.events", b"k", b"v", dedup_id="e1")
    assert box.put_many([first, first, message(2)]) == 2
    assert box.put_many([first]) == 0, "still waiting"
    box.remove([q.seq for q in box.peek(10)])
    assert box.put_many([first]) == 0, "delivered within the retention"
    assert box.put_many([message(2)]) == 1, "messages without an id are always queued"


def test_a_delivered_dedup_id_is_forgotten_after_the_retention(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = Outbox(tmp_path / "o.sqlite")
    box.put_many([OutboundMessage("fh.events", b"k", b"v", dedup_id="e1")])
    box.remove([q.seq for q in box.peek(1)])
    monkeypatch.setattr("services.core.outbox.DEDUP_RETENTION_S", -1.0)
    assert box.prune_delivered() == 1
    assert box.put_many([OutboundMessage("fh.events", b"k", b"v", dedup_id="e1")]) == 1


def test_rows_are_named_on_the_broker_by_a_header_only_their_own_outbox_reads(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "a.sqlite")
    other = Outbox(tmp_path / "b.sqlite")
    name, value = box.row_header(42)
    assert name == "hubnet-outbox"
    assert box.seq_of(value) == 42
    assert other.seq_of(value) is None
    assert Outbox(tmp_path / "a.sqlite").outbox_id == box.outbox_id, "the id survives a restart"
