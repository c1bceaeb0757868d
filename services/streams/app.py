"""Every hubnet stream worker starts the same way: `create_app`, `guarded_agent`, `run_worker`.

- Topics are raw bytes (the FHIR Bundle JSON); workers parse with the schemas/ models, so faust's
  codecs and auto-created topics never decide a wire format (`hubnet topics apply` creates topics).
- Group timing comes from `Settings.faust_options`, including the rebalance timeout: Tansu's group
  join waits for it, and faust's default (60 s) would stall every start on the embedded broker. On
  the embedded broker the `tansu://` transport (transport.py) also shortens the fetch wait.
- Tables and faust's own files live under `<data dir>/streams/<worker>`; the web server is off.
- `guarded_agent` wraps a handler so that any exception dead-letters the message on `fh.dlq` with
  its original bytes and the agent moves on: an agent that raises would restart and, with manual
  acks, may skip an offset (faust-streaming issue #315). A transient error (a locked store, a
  retriable broker error: retry.py) is not the message's fault: the handler is retried with
  backoff until it succeeds, and only then does the agent move on. The dead-letter send is
  retried the same way. Both agents report what they hold and finish to progress.py, which is
  how a worker stuck in such a retry shows as *stalled* rather than healthy.
- `guarded_batch_agent` does the same for a batch of messages at a time (`Stream.take_events`):
  faust acks the batch's events, and so may commit their offsets, only after the handler has
  returned, i.e. after the store commit and the produce acknowledgements it awaits.
- CPU per message (issue #12, docs/timeline.md "Worker: delivery and CPU per event"): workers produce through
  `produce` (faust's producer, without `Topic.send`'s per-message wrapping), faust's Monitor keeps
  no per-message statistics (`LeanMonitor`), and `run_worker` freezes the start-up heap and
  collects young objects less often, so the garbage collector walks far fewer objects.
- Produce batches of up to 512 KiB per partition (`PRODUCER_BATCH_BYTES`): faust's default, 16 KiB,
  holds about five linked events of ~3 KB, so a batch of 500 became ~100 produce batches, and the
  embedded broker's CPU per event grows with the number of batches it holds (docs/proof.md,
  "The embedded broker's cost grows with what it holds").
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from time import monotonic
from typing import Any

import faust
import structlog
from faust.sensors import Monitor

from schemas.dead_letter import DeadLetter
from schemas.envelope import new_trace_id
from schemas.topics import DLQ
from services.core import heap
from services.core.settings import Settings
from services.streams.progress import fresh_progress, progress_of
from services.streams.retry import retry_transient

log = structlog.get_logger(__name__)
Handler = Callable[[bytes, dict[str, bytes]], Awaitable[None]]
"""A worker's work on one message: value bytes and Kafka headers in; raises on a poison message."""
Message = tuple[bytes, dict[str, bytes]]
"""One consumed message: value bytes and Kafka headers."""
BatchHandler = Callable[[list[Message]], Awaitable[list[Exception | None]]]
"""A worker's work on a batch: per message, None when done or the error that makes it poison;
raises only on a transient error, which retries the whole batch."""
PRODUCER_BATCH_BYTES = 512 * 1024
"""Largest produce batch per partition: a worker's batch of 500 events to one of 12 partitions fits."""


def create_app(
    worker: str, settings: Settings, bootstrap: str, group: str | None = None, **overrides: Any
) -> faust.App:
    """The faust app of one worker; the consumer group is `hubnet-<worker>` unless `group` says."""
    datadir = settings.data_dir / "streams" / worker
    datadir.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {
        **settings.faust_options(bootstrap),
        "datadir": str(datadir),
        "web_enabled": False,
        "topic_allow_declare": False,
        "topic_disable_leader": True,
        "producer_acks": -1,
        "producer_max_batch_size": PRODUCER_BATCH_BYTES,
        "consumer_auto_offset_reset": "earliest",
        "stream_wait_empty": False,
        "Monitor": LeanMonitor,
    }
    if settings.embedded:  # the embedded broker holds fetches for the full wait: see transport.py
        options["broker"] = options["broker"].replace("kafka://", "tansu://")
    options.update(overrides)
    return faust.App(group or f"hubnet-{worker}", **options)


def raw_topic(app: faust.App, name: str) -> Any:
    """A topic of bytes keys and values (no faust codec)."""
    return app.topic(name, key_serializer="raw", value_serializer="raw")


async def produce(topic: Any, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> Awaitable[Any]:
    """Hand one message to faust's producer; returns the future of the broker's acknowledgement.

    `Topic.send` wraps every message in a FutureMessage, runs codecs and sensors on it and
    schedules a callback task: for bytes already encoded that cost about as much CPU as producing
    (profile of the identity worker). The producer, and so the partitioner and acks, are the same.
    """
    producer = await topic.app.maybe_start_producer()
    pending: Awaitable[Any] = await producer.send(
        topic.get_topic_name(), key, value, partition=None, timestamp=None, headers=headers
    )
    return pending


async def send_and_wait(topic: Any, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None:
    """Produce and wait for the broker's acknowledgement, so the offset is committed only after."""
    await (await produce(topic, key, value, headers))


def guarded_agent(app: faust.App, source: str, worker: str, handler: Handler, dlq_topic: str = DLQ) -> None:
    """Run `handler` on every message of `source`; a transient failure retries it, any other
    failure dead-letters the message; the agent never crashes."""
    dlq = raw_topic(app, dlq_topic)

    progress = fresh_progress(worker)

    async def agent(stream: Any) -> None:
        async for event in stream.events():
            value: bytes = event.value or b""
            headers = _headers(event.headers)
            progress.took(1)
            try:
                await retry_transient(worker, partial(handler, value, headers), on_retry=progress.failed)
            except Exception as error:  # poison message: keep it, say why, move on
                await dead_letter(dlq, worker, value, headers, error)
            progress.done(1)

    _register(app, source, worker, agent)


def guarded_batch_agent(
    app: faust.App,
    source: str,
    worker: str,
    handler: BatchHandler,
    dlq_topic: str = DLQ,
    *,
    size: int,
    within_s: float,
) -> None:
    """Run `handler` on batches of up to `size` messages of `source` (a batch closes after
    `within_s` seconds); messages it reports as failed are dead-lettered, a transient failure
    retries the batch, and the batch's offsets are acknowledged only after all that."""
    dlq = raw_topic(app, dlq_topic)

    progress = fresh_progress(worker)

    async def agent(stream: Any) -> None:
        async for events in stream.take_events(size, within_s):
            batch = [(event.value or b"", _headers(event.headers)) for event in events]
            progress.took(len(batch))
            try:
                failures = await retry_transient(worker, partial(handler, batch), on_retry=progress.failed)
            except Exception as error:  # a failure of the batch as a whole: none of it is done
                failures = [error] * len(batch)
            for (value, headers), failure in zip(batch, failures, strict=True):
                if failure is not None:
                    await dead_letter(dlq, worker, value, headers, failure)
            progress.done(len(batch))

    _register(app, source, worker, agent)


async def dead_letter(
    dlq: Any, worker: str, value: bytes, headers: dict[str, bytes], error: Exception
) -> None:
    """Keep a poison message on fh.dlq with its original bytes and why (the error type only:
    messages of errors may quote personal data). The send is retried like every other produce: a
    dead letter that escaped here would crash the agent, which may then skip the offset."""
    log.warning("stream.dead_lettered", worker=worker, error_type=type(error).__name__)
    letter = DeadLetter.create(
        connector=f"worker:{worker}",
        partner=headers.get("source_partner", b"unknown").decode(errors="replace"),
        reason=f"the {worker} worker could not process this event ({type(error).__name__}); "
        "it is kept and can be replayed once fixed",
        original=value,
        trace_id=headers.get("trace_id", new_trace_id().encode()).decode(errors="replace"),
    )
    await retry_transient(
        worker, partial(send_and_wait, dlq, letter.key, letter.to_bytes(), letter.headers()),
        on_retry=progress_of(worker).failed,
    )  # fmt: skip


def _register(app: faust.App, source: str, worker: str, agent: Callable[[Any], Awaitable[None]]) -> None:
    progress_of(worker).lag = partial(consumer_lag, app)
    agent.__name__ = f"{worker}_agent"
    agent.__qualname__ = agent.__name__
    app.agent(raw_topic(app, source), name=f"hubnet.{worker}")(agent)


def consumer_lag(app: faust.App) -> int | None:
    """Messages between the worker's committed positions and the partition ends its consumer last
    fetched (faust's monitor keeps both); None before the first fetch."""
    monitor = app.monitor
    ends = dict(getattr(monitor, "tp_end_offsets", None) or {})
    if not ends:
        return None
    committed = dict(getattr(monitor, "tp_committed_offsets", None) or {})
    return int(sum(max(0, end - committed.get(tp, 0)) for tp, end in ends.items()))


class LeanMonitor(Monitor):
    """faust's Monitor without its per-message statistics (counters, timings per message and
    stream): hubnet exports its own metrics (services/core/metrics.py) and never reads faust's,
    yet faust calls these hooks for every message. It keeps the stream's inbound time, which
    faust's stalled-stream check (`verify_event_path`) reads, and everything per partition or
    per commit (end offsets, committed offsets)."""

    def on_message_in(self, tp: Any, offset: int, message: Any) -> None:
        return None

    def on_stream_event_in(self, tp: Any, offset: int, stream: Any, event: Any) -> dict[str, Any] | None:
        self.stream_inbound_time[tp] = monotonic()
        return None

    def on_stream_event_out(
        self, tp: Any, offset: int, stream: Any, event: Any, state: dict[str, Any] | None = None
    ) -> None:
        return None

    def on_message_out(self, tp: Any, offset: int, message: Any) -> None:
        return None


class _Worker(faust.Worker):
    """faust's Worker, keeping the logging hubnet configured (services/core/logging.py).

    faust (through mode) replaces the root logger's handlers with its own colour handler, which does
    not redact personal data, and, for its terminal spinner, lowers the root level to DEBUG: every
    debug call in aiokafka and faust then built a log record (~5% of a worker's CPU) only to drop it.
    """

    def __init__(self, app: faust.App, loglevel: str) -> None:
        root = logging.getLogger()
        self._hubnet_handlers = list(root.handlers)
        self._hubnet_level = root.level
        super().__init__(app, loglevel=loglevel, redirect_stdouts=False)

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        self.spinner = None
        logger.handlers = self._hubnet_handlers
        logger.setLevel(self._hubnet_level)


def run_worker(app: faust.App, loglevel: str = "warning") -> None:
    """Block running the app until SIGINT/SIGTERM (faust's Worker owns the event loop).

    The heap is settled first (services/core/heap.py: a batch of parsed events lives until it is
    committed, and default collection walked it again and again)."""
    heap.settle()
    _Worker(app, loglevel=loglevel).execute_from_commandline()


def _headers(raw: Any) -> dict[str, bytes]:
    """Kafka headers as a dict, whether the client gives a mapping or a list of pairs."""
    pairs = raw.items() if hasattr(raw, "items") else (raw or [])
    return {str(k): bytes(v or b"") for k, v in pairs}
