"""The durable publisher every connector transport uses: outbox first, Kafka second.

Delivery guarantee: at-least-once, in order per key. The commit order is:
1. `publish()` writes the messages to the SQLite outbox in one transaction and returns;
2. the relay thread produces the oldest outbox rows (acks=all, idempotent, one request in flight);
3. only rows the broker acknowledged are deleted from the outbox.
A crash between 2 and 3 resends a few messages; consumers are idempotent on the event id.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import structlog

from services.core import kafka_clients, metrics
from services.core.outbox import OutboundMessage, Outbox, QueuedMessage
from services.core.settings import Settings

log = structlog.get_logger(__name__)
BATCH = 1000
MAX_BACKOFF_S = 5.0


class Publisher(Protocol):
    """What transports need: hand over messages; durability is the publisher's job."""

    def publish(self, messages: Iterable[OutboundMessage]) -> int: ...


class DurablePublisher:
    """Outbox plus a relay thread. Start it, publish, and `close()` to flush before exit."""

    def __init__(self, settings: Settings, bootstrap: str, outbox_path: Path | None = None) -> None:
        self._settings = settings
        self._bootstrap = bootstrap
        self.outbox = Outbox(outbox_path or settings.data_dir / "outbox.sqlite")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._producer: Any = None
        self.delivered = 0

    def start(self) -> DurablePublisher:
        self._thread = threading.Thread(target=self._relay, name="hubnet-outbox-relay", daemon=True)
        self._thread.start()
        return self

    def publish(self, messages: Iterable[OutboundMessage]) -> int:
        """Durable when this returns; delivery to Kafka follows in the background."""
        count = self.outbox.put_many(messages)
        self._wake.set()
        return count

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Wait until the outbox is empty; False if the broker did not take everything in time."""
        deadline = time.monotonic() + timeout_s
        while self.outbox.backlog():
            if time.monotonic() > deadline:
                return False
            self._wake.set()
            time.sleep(0.02)
        return True

    def close(self, timeout_s: float = 10.0) -> None:
        """Deliver what can be delivered within the timeout; the rest stays in the outbox."""
        self.flush(timeout_s)
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout_s)
        self._drop_producer()
        self.outbox.close()

    def _relay(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            batch = self.outbox.peek(BATCH)
            if not batch:
                self._wake.wait(0.5)
                self._wake.clear()
                continue
            if self._deliver(batch):
                backoff = 0.1
            else:
                self._drop_producer()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)

    def _deliver(self, batch: list[QueuedMessage]) -> bool:
        """Send a batch; delete what the broker acknowledged. False when anything failed."""
        try:
            producer = self._producer or self._connect()
            sent = [(q, _send(producer, q.message)) for q in batch]
            producer.flush(timeout=30)
        except Exception as error:  # any broker failure: keep the rows, retry with backoff
            log.warning("outbox.relay_failed", error_type=type(error).__name__, backlog=len(batch))
            return False
        done = [q for q, future in sent if future.succeeded()]
        self.outbox.remove([q.seq for q in done])
        self.delivered += len(done)
        for topic, count in Counter(q.message.topic for q in done).items():
            metrics.MESSAGES_DELIVERED.labels(topic).inc(count)
        metrics.OUTBOX_BACKLOG.set(self.outbox.backlog())
        return len(done) == len(batch)

    def _connect(self) -> Any:
        self._producer = kafka_clients.producer(self._settings, self._bootstrap, max_block_ms=5000)
        return self._producer

    def _drop_producer(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=1)
            except Exception as error:  # closing a producer to a dead broker may itself fail
                log.debug("outbox.close_failed", error_type=type(error).__name__)
            self._producer = None


def _send(producer: Any, message: OutboundMessage) -> Any:
    return producer.send(message.topic, key=message.key, value=message.value, headers=list(message.headers))
