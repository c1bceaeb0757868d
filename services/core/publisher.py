"""The durable publisher every connector transport uses: outbox first, Kafka second.

Delivery guarantee: nothing lost, in order per key, and no repeats from a crash. The commit order:
1. `publish()` writes the messages to the outbox (services/core/outbox.py) in one transaction and
   returns;
2. the relay thread produces the oldest outbox rows (acks=all, idempotent, one request in flight),
   each with a header naming its outbox row, in batches: it lingers `LINGER_S` for rows to gather;
3. only rows the broker acknowledged are deleted from the outbox.
After a crash between 2 and 3, the restarted relay first reads the broker's records since the
oldest waiting row was queued and removes the rows found there (`_reconcile`), so they are not sent
again. One case is left: a produce request still in flight from the killed process that the broker
appends after the new relay has looked; consumers stay idempotent on the event id for it.

The outbox is shared by every process publishing through it (the processes on one data
directory share its SQLite file; on PostgreSQL every process shares the schema), and only the relay
holding its relay lock (`Outbox.lead()`) sends, in seq order, so per-key order holds across
processes and no row is sent by two relays; the others try for the lock every `LEAD_RETRY_S`. A
relay that takes over (the leader's process died or closed its outbox) reconciles first, as a
restarted one does, so the rows the old leader delivered but had not removed are not sent again.
`flush()` waits for the shared backlog, so it works in any process: the leader empties it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import structlog
from kafka import TopicPartition

from services.core import kafka_clients, metrics
from services.core.outbox import OUTBOX_HEADER, OutboundMessage, Outbox, QueuedMessage
from services.core.settings import Settings
from services.core.topic_reader import read_range

log = structlog.get_logger(__name__)
BATCH = 1000
MAX_BACKOFF_S = 5.0
CLOCK_MARGIN_MS = 60_000
"""Read the broker from this long before the oldest waiting row was queued: record timestamps are
the producer's clock, so this absorbs a clock step between queueing and sending."""
PRUNE_EVERY_S = 600.0
LEAD_RETRY_S = 1.0
"""How often a relay that does not lead tries for the lock: the longest a takeover waits."""
LINGER_S = 0.02
"""How long the relay lets rows gather after a wake or a batch that was not full, before it sends
again: a produce request, a flush and a removal transaction cost about the same for one row as for
hundreds, so under load they are shared by every input of the interval (at most 20 ms more
latency; measured in docs/proof.md "Ingest stage")."""
GAUGE_EVERY_S = 1.0
"""How often the relay counts its backlog for the gauge while batches are full: a count scans the
table, which is then large (after a batch that was not full it is small, and counted every time)."""


class Publisher(Protocol):
    """What transports need: hand over messages; durability is the publisher's job."""

    def publish(self, messages: Iterable[OutboundMessage]) -> int: ...


class DurablePublisher:
    """Outbox plus a relay thread. Start it, publish, and `close()` to flush before exit."""

    def __init__(self, settings: Settings, bootstrap: str, outbox_path: Path | None = None) -> None:
        self._settings = settings
        self._bootstrap = bootstrap
        self.outbox = Outbox.at(settings, outbox_path)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._producer: Any = None
        self._gauge_at = 0.0
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
        reconciled = False
        pruned_at = 0.0
        while not self._stop.is_set():
            if not self.outbox.lead():  # another process's relay sends the shared outbox
                self._stop.wait(LEAD_RETRY_S)
                continue
            if time.monotonic() - pruned_at > PRUNE_EVERY_S:
                self.outbox.prune_delivered()
                pruned_at = time.monotonic()
            if not reconciled:
                reconciled = self._reconcile()
                if not reconciled:
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF_S)
                    continue
            batch = self.outbox.peek(BATCH)
            if not batch:
                if self._wake.wait(0.5):
                    self._stop.wait(LINGER_S)
                self._wake.clear()
                continue
            if self._deliver(batch):
                backoff = 0.1
                if len(batch) < BATCH:
                    self._stop.wait(LINGER_S)
            else:
                self._drop_producer()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)

    def _reconcile(self) -> bool:
        """Remove waiting rows an earlier relay delivered but had not removed when it stopped.

        Runs once per start, once this relay leads, before anything is sent, and only when rows
        are waiting. False when the broker could not be read (the relay retries
        with backoff, sending nothing meanwhile)."""
        oldest = self.outbox.oldest_queued_at()
        if oldest is None:
            return True
        since_ms = int(_parse_utc(oldest) * 1000) - CLOCK_MARGIN_MS
        try:
            found = self._delivered_since(self.outbox.pending_topics(), since_ms)
        except Exception as error:  # broker unreachable: try again later
            log.warning("outbox.reconcile_failed", error_type=type(error).__name__)
            return False
        self.outbox.remove(sorted(found))
        if found:
            log.info("outbox.reconciled", already_delivered=len(found), backlog=self.outbox.backlog())
        return True

    def _delivered_since(self, topics: list[str], since_ms: int) -> set[int]:
        consumer = kafka_clients.consumer(self._settings, self._bootstrap, group_id=None)
        try:
            partitions = [
                TopicPartition(topic, p)
                for topic in topics
                for p in sorted(consumer.partitions_for_topic(topic) or [])
            ]
            if not partitions:
                return set()
            starts = consumer.offsets_for_times(dict.fromkeys(partitions, since_ms))
            start = {tp: found.offset for tp, found in starts.items() if found is not None}
            return {
                seq
                for record in read_range(consumer, start)
                for name, value in record.headers or ()
                if name == OUTBOX_HEADER and (seq := self.outbox.seq_of(value)) is not None
            }
        finally:
            consumer.close()

    def _deliver(self, batch: list[QueuedMessage]) -> bool:
        """Send a batch; delete what the broker acknowledged. False when anything failed."""
        try:
            producer = self._producer or self._connect()
            sent = [(q, _send(producer, q.message, self.outbox.row_header(q.seq))) for q in batch]
            producer.flush(timeout=30)
        except Exception as error:  # any broker failure: keep the rows, retry with backoff
            log.warning("outbox.relay_failed", error_type=type(error).__name__, backlog=len(batch))
            return False
        done = [q for q, future in sent if future.succeeded()]
        self.outbox.remove([q.seq for q in done])
        self.delivered += len(done)
        for topic, count in Counter(q.message.topic for q in done).items():
            metrics.MESSAGES_DELIVERED.labels(topic).inc(count)
        if len(batch) < BATCH or time.monotonic() - self._gauge_at > GAUGE_EVERY_S:
            metrics.OUTBOX_BACKLOG.set(self.outbox.backlog())
            self._gauge_at = time.monotonic()
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


def _send(producer: Any, message: OutboundMessage, row: tuple[str, bytes]) -> Any:
    return producer.send(message.topic, key=message.key, value=message.value, headers=[*message.headers, row])


def _parse_utc(stamp: str) -> float:
    """Seconds since the epoch of the outbox's `queued_at` (UTC, `...Z`)."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
