from __future__ import annotations

import contextlib
import threading
from pathlib import Path

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
