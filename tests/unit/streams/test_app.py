"""What every stream worker's faust app is made with, for its CPU per message (issue #12): polls
capped to a batch, faust's Monitor without per-message statistics, the start-up heap frozen and
the youngest generation collected less often."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import faust
import pytest

from services.core import heap
from services.core.settings import WORKER_MAX_POLL_RECORDS, Settings
from services.streams import app as streams_app
from services.streams.app import LeanMonitor, create_app


def _app(tmp_path: Path) -> faust.App:
    settings = Settings(KAFKA_BOOTSTRAP_SERVERS="h:1", data_dir=tmp_path, broker_profile="embedded")
    return create_app("t", settings, "h:1")


def test_one_poll_returns_at_most_a_batch_so_a_worker_behind_polls_within_the_interval(
    tmp_path: Path,
) -> None:
    assert _app(tmp_path).conf.broker_max_poll_records == WORKER_MAX_POLL_RECORDS
    kafka = create_app("t", Settings(KAFKA_BOOTSTRAP_SERVERS="h:1", data_dir=tmp_path), "h:1")
    assert kafka.conf.broker_max_poll_records == WORKER_MAX_POLL_RECORDS


def test_the_monitor_keeps_what_the_stall_check_reads_and_no_statistics_per_message(tmp_path: Path) -> None:
    monitor = _app(tmp_path).monitor
    assert isinstance(monitor, LeanMonitor)
    tp, stream = object(), object()
    assert monitor.on_stream_event_in(tp, 7, stream, object()) is None
    monitor.on_message_in(tp, 7, object())
    monitor.on_stream_event_out(tp, 7, stream, object(), None)
    monitor.on_message_out(tp, 7, object())
    assert tp in monitor.stream_inbound_time  # faust's verify_event_path reads it
    assert monitor.events_total == 0
    assert monitor.messages_received_total == 0


def test_run_worker_freezes_the_start_up_heap_and_collects_young_objects_less_often(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, int]] = []

    def execute(self: Any) -> None:
        seen.append((gc.get_freeze_count(), gc.get_threshold()[0]))

    monkeypatch.setattr(streams_app._Worker, "execute_from_commandline", execute)
    threshold = gc.get_threshold()
    try:
        streams_app.run_worker(_app(tmp_path))
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
    assert len(seen) == 1
    frozen, young = seen[0]
    assert frozen > 0
    assert young == heap.YOUNG_GC_THRESHOLD


class _RetriableError(Exception):
    retriable = True


def test_a_dead_letter_send_that_fails_transiently_is_retried_until_the_broker_takes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A failed fh.dlq send must not escape the agent (it would restart and may skip the offset)."""
    import asyncio

    attempts: list[bytes] = []

    async def flaky_send(topic: Any, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        attempts.append(value)
        if len(attempts) < 3:
            raise _RetriableError("leader not available")

    monkeypatch.setattr(streams_app, "send_and_wait", flaky_send)
    monkeypatch.setattr(streams_app, "retry_transient", _fast_retry(streams_app.retry_transient))
    asyncio.run(
        streams_app.dead_letter(object(), "dlq-test", b"{poison", {"source_partner": b"p"}, ValueError("bad"))
    )
    assert len(attempts) == 3
    assert len(set(attempts)) == 1  # the same letter each time


def _fast_retry(retry: Any) -> Any:
    async def fast(worker: str, work: Any, **options: Any) -> Any:
        return await retry(worker, work, first_delay=0.001, max_delay=0.001, **options)

    return fast
