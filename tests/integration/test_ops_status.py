"""Stream health through the real (embedded) broker: exact consumer lag while a consumer is paused,
heartbeats and tombstones, stale partners after a simulated interval, and the whole status report.

The Tansu end-offset quirk: batched production leaves multi-record batches whose later records lie
past the end offset Tansu reports. The lag test runs both with one record per batch (linger 0, one
send per request) and with batches, so the correction in `services.ops.lag` is what makes it exact.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from kafka import TopicPartition
from kafka.admin import NewTopic
from kafka.structs import OffsetAndMetadata
from prometheus_client import REGISTRY

from connectors.base import SourceContext
from schemas.topics import HEARTBEATS, catalogue
from services.core import kafka_clients, topics
from services.core.publisher import DurablePublisher
from services.core.settings import Settings
from services.ingest.pipeline import Ingestor
from services.ops import heartbeat, lag, status
from services.ops.heartbeat import Beat, Heartbeat, Liveness, utc_now
from services.ops.lag import Trend
from services.ops.store import OpsStore

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
PER_PARTITION = 10
COMMITTED = {0: 3, 1: 7, 2: 10}


@pytest.fixture
def catalogue_topics(settings: Settings, bootstrap: str) -> None:
    admin = kafka_clients.admin(settings, bootstrap)
    topics.apply(admin, catalogue())
    admin.close()


def produce(
    settings: Settings, bootstrap: str, topic: str, partition: int, count: int, *, batched: bool
) -> None:
    producer = kafka_clients.producer(settings, bootstrap, linger_ms=50 if batched else 0)
    futures = [producer.send(topic, b"m", partition=partition) for _ in range(count)]
    if not batched:
        for future in futures:
            future.get(10)
    producer.flush(10)
    producer.close()


def consume_then_pause(settings: Settings, bootstrap: str, topic: str, group: str) -> object:
    """Read every partition to the end, commit only `COMMITTED` of each, then pause (still a member)."""
    consumer = kafka_clients.consumer(settings, bootstrap, topic, group_id=group)
    seen: dict[int, int] = {}
    deadline = time.monotonic() + 30
    while sum(seen.values()) < PER_PARTITION * len(COMMITTED) and time.monotonic() < deadline:
        for tp, records in consumer.poll(timeout_ms=500).items():
            seen[tp.partition] = seen.get(tp.partition, 0) + len(records)
    assert sum(seen.values()) == PER_PARTITION * len(COMMITTED)
    consumer.commit({TopicPartition(topic, p): OffsetAndMetadata(n, "", -1) for p, n in COMMITTED.items()})
    consumer.pause(*consumer.assignment())
    return consumer


@pytest.mark.parametrize("batched", [False, True], ids=["one-record-batches", "multi-record-batches"])
def test_lag_is_exactly_what_a_paused_consumer_left(
    settings: Settings, bootstrap: str, unique: str, batched: bool
) -> None:
    topic, group = f"lag-{unique}", f"g-{unique}"
    admin = kafka_clients.admin(settings, bootstrap)
    admin.create_topics([NewTopic(topic, len(COMMITTED), 1)])
    for partition in COMMITTED:
        produce(settings, bootstrap, topic, partition, PER_PARTITION, batched=batched)
    consumer = consume_then_pause(settings, bootstrap, topic, group)
    try:
        measured = lag.measure(settings, bootstrap, admin, exact_ends=lag.is_tansu(admin))
        [mine] = [g for g in measured if g.group == group]
        expected = {p: PER_PARTITION - n for p, n in COMMITTED.items()}
        assert {p.partition: p.lag for p in mine.partitions} == expected
        assert {p.partition: p.end for p in mine.partitions} == dict.fromkeys(COMMITTED, PER_PARTITION)
        assert mine.total == 10
        for partition, left in expected.items():
            labels = {"group": group, "topic": topic, "partition": str(partition)}
            assert REGISTRY.get_sample_value("hubnet_consumer_lag", labels) == left

        produce(
            settings, bootstrap, topic, 0, 5, batched=batched
        )  # more arrives while the consumer is paused
        again = lag.measure(settings, bootstrap, admin, exact_ends=lag.is_tansu(admin))
        assert next(g for g in again if g.group == group).total == 15
        assert all(p.lag >= 0 for g in again for p in g.partitions)
    finally:
        consumer.close()  # type: ignore[attr-defined]
        admin.close()


def test_status_shows_lag_rising_then_falling(
    settings: Settings, bootstrap: str, unique: str, catalogue_topics: None
) -> None:
    topic, group = f"trend-{unique}", f"t-{unique}"
    admin = kafka_clients.admin(settings, bootstrap)
    admin.create_topics([NewTopic(topic, len(COMMITTED), 1)])
    admin.close()
    for partition in COMMITTED:
        produce(settings, bootstrap, topic, partition, PER_PARTITION, batched=True)
    consumer = consume_then_pause(settings, bootstrap, topic, group)
    try:
        trends = []
        for extra in (0, 4, 0):
            produce(settings, bootstrap, topic, 0, extra, batched=True)
            report = status.collect(settings)
            mine = next(g for g in report.lag if g.group == group)
            trends.append((mine.total, mine.trend))
        assert trends == [(10, Trend.NEW), (14, Trend.RISING), (14, Trend.RISING)]
    finally:
        consumer.close(autocommit=False)  # type: ignore[attr-defined]
    # The paused member may have been evicted by now (it stopped polling); the group is empty, so
    # the catch-up is committed the way an operator would move a group on: through the admin API.
    admin = kafka_clients.admin(settings, bootstrap)
    try:
        admin.alter_group_offsets(
            group, {TopicPartition(topic, 0): OffsetAndMetadata(PER_PARTITION + 4, "", -1)}
        )
    finally:
        admin.close()
    mine = next(g for g in status.collect(settings).lag if g.group == group)
    assert (mine.total, mine.trend) == (3, Trend.FALLING)


def test_heartbeats_show_up_then_silent_and_a_clean_stop_leaves_nothing(
    settings: Settings, bootstrap: str, unique: str, catalogue_topics: None
) -> None:
    service = f"svc-{unique}"
    beating = Heartbeat(settings, bootstrap, service, interval_s=0.2, instance="i-1")
    beating.start()
    try:
        deadline = time.monotonic() + 20
        mine: list[Beat] = []
        while not mine and time.monotonic() < deadline:
            mine = [b for b in heartbeat.latest_beats(settings, bootstrap) if b.service == service]
        [beat] = mine
        assert (beat.instance, beat.ready, beat.interval_s) == ("i-1", True, 0.2)
        [state] = heartbeat.judge(mine, beat.last_beat_at + timedelta(seconds=0.5))
        assert state.liveness is Liveness.UP
        [state] = heartbeat.judge(mine, beat.last_beat_at + timedelta(seconds=0.7))
        assert state.liveness is Liveness.SILENT  # three intervals without a beat on a simulated clock
    finally:
        beating.stop()
    assert not [b for b in heartbeat.latest_beats(settings, bootstrap) if b.service == service]
    assert HEARTBEATS in catalogue().names()


def test_a_stale_partner_is_flagged_after_its_expected_interval(
    settings: Settings, bootstrap: str, unique: str, catalogue_topics: None
) -> None:
    quiet, broken, never = f"quiet-{unique}", f"broken-{unique}", f"never-{unique}"
    sample = REPO / "samples" / "hv-csv" / "hv-reviews.csv"
    publisher = DurablePublisher(settings, bootstrap).start()
    ingestor = Ingestor(publisher)
    assert ingestor.ingest("hv-csv", sample.read_bytes(), SourceContext(partner=quiet)).accepted
    rejected = ingestor.ingest(
        "hv-csv", b"not,a,health,visit,file\n1,2,3,4,5\n", SourceContext(partner=broken)
    )
    assert rejected.rejected
    assert publisher.flush(20)
    publisher.close()
    now = utc_now()
    store = OpsStore.in_data_dir(settings.data_dir)
    for partner in (quiet, broken, never):
        store.expect(partner, timedelta(hours=1), now)
    store.close()

    def rows(at_hours: float) -> dict[str, bool]:
        report = status.collect(settings, now=now + timedelta(hours=at_hours))
        return {p.partner: p.stale for p in report.partners if p.partner in (quiet, broken, never)}

    assert rows(0.5) == {quiet: False, broken: False, never: False}
    later = status.collect(settings, now=now + timedelta(hours=2))
    assert {p.partner: p.stale for p in later.partners if unique in p.partner} == {
        quiet: True, broken: True, never: True,
    }  # fmt: skip
    assert f"partner {quiet} silent for longer than expected" in later.attention
    assert not later.healthy
    seen = {p.partner: p.last_input_at for p in later.partners}
    assert seen[never] is None
    quiet_at = seen[quiet]
    assert quiet_at is not None
    assert abs((quiet_at - now).total_seconds()) < 60
    open_rows = [d for d in later.dead_letters if d.partner == broken]
    assert open_rows
    assert open_rows[0].connector == "hv-csv"
    assert REGISTRY.get_sample_value("hubnet_dead_letters_open", {"partner": broken}) == sum(
        d.count for d in open_rows
    )


def test_the_activity_scan_reads_only_what_arrived_since_the_last_one(
    settings: Settings, bootstrap: str, unique: str, catalogue_topics: None
) -> None:
    from services.ops import partners

    store = OpsStore.in_data_dir(settings.data_dir)
    partners.scan(settings, bootstrap, store, exact_ends=True)
    positions = store.scan_positions("fh.events")
    assert positions  # where the first scan stopped, per partition
    sample = REPO / "samples" / "hv-csv" / "hv-reviews.csv"
    publisher = DurablePublisher(settings, bootstrap).start()
    result = Ingestor(publisher).ingest(
        "hv-csv", sample.read_bytes(), SourceContext(partner=f"late-{unique}")
    )
    assert publisher.flush(20)
    publisher.close()
    last = partners.scan(settings, bootstrap, store, exact_ends=True)
    assert f"late-{unique}" in last
    moved = store.scan_positions("fh.events")
    assert sum(moved.values()) - sum(positions.values()) >= len(result.accepted)
    store.close()
