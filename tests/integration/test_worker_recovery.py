"""A worker whose store is locked by another process recovers once the lock is gone (issue #21).

Another connection takes the store's write lock, writes and holds it longer than the worker's
busy timeout, then commits. The worker's unit of work fails with `database is locked`; it must
roll the whole unit back and redo it on a fresh transaction. Retrying inside the old transaction
kept a SQLite snapshot older than the other writer's commit, which fails with `database is
locked` for ever (SQLITE_BUSY_SNAPSHOT): the timeline worker stalled that way in `make run`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka.admin import NewTopic
from prometheus_client import REGISTRY

from schemas.envelope import HubEvent
from services.core import kafka_clients
from services.core.broker import free_port
from services.core.settings import Settings
from services.core.topic_reader import read_to_end
from services.ops.presence import Presence
from services.referrals.request import referral_id_for
from services.referrals.sla import ManualClock
from services.referrals.worker import build as referrals_build
from services.timeline.worker import build
from tests.integration.kafka_helpers import read_all
from tests.unit.referrals.networks import demo_network
from tests.unit.referrals.support import CLACTON, NOW, referral
from tests.unit.timeline.events import NHS, linked

pytestmark = pytest.mark.integration
LOCK_HELD_S = 2.0


def _retries(worker: str) -> float:
    return REGISTRY.get_sample_value("hubnet_transient_retries_total", {"worker": worker}) or 0.0


def _health(port: int, path: str) -> tuple[int, dict[str, Any]]:
    answer = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5.0)
    return answer.status_code, answer.json()


def test_timeline_worker_redoes_its_unit_after_another_process_held_and_wrote_the_store(
    tmp_path: Path, bootstrap: str, unique: str
) -> None:
    """While the lock is held past the stall limit the worker says it is stalled (`/healthz` and
    `/readyz` 503 naming it, a stalled heartbeat); once the lock is gone it recovers by itself."""
    port = free_port()
    settings = Settings(
        data_dir=tmp_path,
        consumer_max_poll_interval_s=5.0,
        sqlite_busy_timeout_s=0.2,
        worker_stall_after_s=1.0,
        health_port=port,
    )
    source, dlq = f"t.linked.{unique}", f"t.dlq.{unique}"
    admin = kafka_clients.admin(settings, bootstrap)
    admin.create_topics([NewTopic(source, 1, 1), NewTopic(dlq, 1, 1)])
    admin.close()
    events = [
        linked(record=f"r{n}", nhs=NHS[n % 2], occurred=f"2024-03-{n + 1:02d}T00:00:00") for n in range(6)
    ]
    app, store = build(settings, bootstrap, source=source, dlq=dlq, group=f"t-timeline-{unique}")
    other = sqlite3.connect(tmp_path / "timeline.sqlite", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process (an API, a CLI) takes the write lock and writes
    other.execute("INSERT INTO applied (event_id) VALUES ('written-by-another-process')")
    producer = kafka_clients.producer(settings, bootstrap)
    for item in events:
        producer.send(source, key=item.key, value=item.to_bytes(), headers=item.headers())
    producer.flush()
    producer.close()
    retries_before = _retries("timeline")

    presence = Presence(settings, bootstrap, "timeline", worker="timeline")
    seen: dict[str, Any] = {}

    async def run() -> int:
        await app.start()
        presence.start()
        try:
            deadline = time.monotonic() + 60
            while _retries("timeline") == retries_before and time.monotonic() < deadline:
                await asyncio.sleep(0.1)  # the worker has met the lock
            await asyncio.sleep(LOCK_HELD_S)  # longer than the stall limit
            seen["healthz"] = await asyncio.to_thread(_health, port, "/healthz")
            seen["readyz"] = await asyncio.to_thread(_health, port, "/readyz")
            seen["beat"] = presence._beat.beat()
            other.execute("COMMIT")  # the other writer's commit leaves any old snapshot stale
            while store.count_entries() < len(events) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)  # a doubled or late entry would show by now
            seen["healthz_after"] = await asyncio.to_thread(_health, port, "/healthz")
            seen["beat_after"] = presence._beat.beat()
            return store.count_entries()
        finally:
            presence.stop()
            await app.stop()

    count = asyncio.run(run())
    other.close()
    code, body = seen["healthz"]
    assert code == 503
    assert body["status"] == "stalled"
    assert "worker timeline stalled" in body["problems"][0]
    assert "database is locked" in body["problems"][0]
    code, body = seen["readyz"]
    assert code == 503
    assert any("worker timeline stalled" in problem for problem in body["problems"])
    assert seen["beat"].stalled
    assert REGISTRY.get_sample_value("hubnet_worker_stalled", {"worker": "timeline"}) is not None
    assert seen["healthz_after"][0] == 200
    assert not seen["beat_after"].stalled
    assert _retries("timeline") > retries_before, "the worker never met the lock: the test proves nothing"
    assert count == len(events), f"{count} of {len(events)} events reached the timeline after the lock"
    assert not list(read_to_end(settings, bootstrap, dlq)), "sound events were dead-lettered"
    store.close()


def test_referral_worker_redoes_its_unit_after_another_process_held_and_wrote_the_store(
    tmp_path: Path, bootstrap: str, unique: str
) -> None:
    """The referral worker's store (the inbox API writes it too) held and written by another
    connection past the busy timeout: each referral is routed once the lock is gone, none twice."""
    settings = Settings(data_dir=tmp_path, consumer_max_poll_interval_s=5.0, sqlite_busy_timeout_s=0.2)
    source, sink, dlq = f"t.linked.{unique}", f"t.referrals.{unique}", f"t.dlq.{unique}"
    admin = kafka_clients.admin(settings, bootstrap)
    admin.create_topics([NewTopic(source, 1, 1), NewTopic(sink, 1, 1), NewTopic(dlq, 1, 1)])
    admin.close()
    requests = [
        referral(f"lock{n}", "early-help-referral", serial=n + 1, family=f"f-lock{n}", postcode=CLACTON)
        for n in range(3)
    ]
    app, service = referrals_build(
        settings, bootstrap, demo_network(), clock=ManualClock(NOW), source=source, sink=sink, dlq=dlq,
        group=f"t-referrals-{unique}",
    )  # fmt: skip
    other = sqlite3.connect(tmp_path / "referrals.sqlite", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE lock_probe (x)")  # a write: its commit leaves old snapshots stale
    producer = kafka_clients.producer(settings, bootstrap)
    for item in requests:
        producer.send(source, key=item.key, value=item.to_bytes(), headers=item.headers())
    producer.flush()
    producer.close()
    retries_before = _retries("referrals")

    async def run() -> list[Any]:
        await app.start()
        try:
            deadline = time.monotonic() + 60
            while _retries("referrals") == retries_before and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            await asyncio.sleep(LOCK_HELD_S)
            other.execute("COMMIT")
            routed = await asyncio.to_thread(read_all, settings, bootstrap, sink, len(requests), 60.0)
            await asyncio.sleep(1.0)  # a doubled Task would show by now
            return await asyncio.to_thread(read_all, settings, bootstrap, sink, len(requests), 5.0) or routed
        finally:
            await app.stop()

    records = asyncio.run(run())
    other.close()
    service.store.close()
    assert _retries("referrals") > retries_before, "the worker never met the lock: the test proves nothing"
    routed = {record.key for record in records}
    assert routed == {referral_id_for(r.event.event_id).encode() for r in requests}
    assert len({HubEvent.from_bytes(r.value).event_id for r in records}) == len(records), "a Task was doubled"
    assert not list(read_to_end(settings, bootstrap, dlq)), "sound events were dead-lettered"
