"""The durable publisher through the real embedded broker, including a broker outage, with its
outbox on both backends (`backend`: a SQLite file, a PostgreSQL schema), including two publishers
sharing one outbox, and one taking over from a leader that died."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from schemas.envelope import Entry, HubEvent, Identifier, resource_id
from schemas.event_types import EventType
from schemas.identifiers import NHS_NUMBER
from schemas.topics import Catalogue, TopicSpec
from services.core import kafka_clients, topics
from services.core.broker import EmbeddedBroker, free_port
from services.core.outbox import OUTBOX_HEADER, OutboundMessage, QueuedMessage
from services.core.publisher import DurablePublisher
from services.core.settings import Settings
from services.ingest.pipeline import event_message
from tests.databases import Backend
from tests.integration.kafka_helpers import read_all

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(backend: Backend, bootstrap: str) -> Settings:
    """The session broker, and the outbox on this test's backend."""
    return backend.settings(KAFKA_BOOTSTRAP_SERVERS=bootstrap, broker_profile="embedded")


def one_topic(admin_settings: Settings, bootstrap: str, name: str, partitions: int = 3) -> None:
    admin = kafka_clients.admin(admin_settings, bootstrap)
    spec = TopicSpec(
        name=name, partitions=partitions, retention_ms=-1, cleanup_policy="delete", key="k", purpose="t"
    )
    topics.apply(admin, Catalogue(topic=[spec]))
    admin.close()


def sample_event(n: int) -> HubEvent:
    patient = {"resourceType": "Patient", "id": resource_id("p", str(n)), "birthDate": "2020-01-01"}
    return HubEvent.create(
        event_type=EventType.PERSON_REGISTERED,
        source_partner="RQ8",
        source_system="pas",
        source_record_id=f"r{n}",
        record_version="1",
        occurred_at=datetime(2025, 1, 1, tzinfo=UTC),
        subjects=[Identifier(system=NHS_NUMBER, value="9434765919")],
        entries=[Entry.of(patient)],
    )


def test_an_envelope_round_trips_through_kafka_byte_identical(
    settings: Settings, bootstrap: str, unique: str
) -> None:
    topic = f"fh.events.{unique}"
    one_topic(settings, bootstrap, topic)
    event = sample_event(1)
    message = event_message(event)
    publisher = DurablePublisher(settings, bootstrap).start()
    publisher.publish([OutboundMessage(topic, message.key, message.value, message.headers)])
    assert publisher.flush(20)
    publisher.close()
    (record,) = read_all(settings, bootstrap, topic, expected=1)
    assert record.value == event.to_bytes()
    assert record.key == event.key
    *headers, (row_header, row) = record.headers
    assert headers == event.headers()
    assert row_header == OUTBOX_HEADER
    assert publisher.outbox.seq_of(row) is not None
    assert HubEvent.from_bytes(record.value) == event


def test_outbox_holds_events_while_the_broker_is_down_and_a_new_broker_gets_all_in_key_order(
    backend: Backend,
) -> None:
    port = free_port()
    first = EmbeddedBroker(port=port).start()
    settings = backend.settings(KAFKA_BOOTSTRAP_SERVERS=first.bootstrap)
    topic = "fh.events"
    one_topic(settings, first.bootstrap, topic)
    publisher = DurablePublisher(settings, first.bootstrap).start()
    keys = [b"a", b"b", b"c"]
    publisher.publish([OutboundMessage(topic, keys[i % 3], f"before-{i}".encode()) for i in range(30)])
    assert publisher.flush(20)
    first.stop()

    publisher.publish([OutboundMessage(topic, keys[i % 3], f"during-{i}".encode()) for i in range(300)])
    assert not publisher.flush(3), "nothing can be delivered while the broker is down"
    assert publisher.outbox.backlog() == 300

    with EmbeddedBroker(port=port) as second:  # memory-only: a new, empty broker on the same address
        one_topic(settings, second.bootstrap, topic)
        assert publisher.flush(60), f"{publisher.outbox.backlog()} events still in the outbox"
        publisher.close()
        records = read_all(settings, second.bootstrap, topic, expected=300)

    by_key: dict[bytes, list[int]] = defaultdict(list)
    for record in records:
        by_key[record.key].append(int(record.value.split(b"-")[1]))
    assert sum(len(v) for v in by_key.values()) >= 300
    for key, numbers in by_key.items():
        firsts = list(dict.fromkeys(numbers))  # at-least-once: a resend may repeat, never reorder
        assert sorted(set(numbers)) == [i for i in range(300) if keys[i % 3] == key]
        assert firsts == sorted(firsts), f"key {key!r} out of order"


def test_published_events_survive_a_publisher_that_dies_before_delivery(
    backend: Backend, settings: Settings, bootstrap: str, unique: str
) -> None:
    topic = f"fh.events.{unique}"
    one_topic(settings, bootstrap, topic)
    dead_settings = backend.settings(KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9")
    crashed = DurablePublisher(dead_settings, "127.0.0.1:9")  # never started: the process "died"
    crashed.publish([OutboundMessage(topic, b"k", f"m{i}".encode()) for i in range(10)])
    crashed.outbox.close()

    restarted = DurablePublisher(settings, bootstrap).start()
    assert restarted.flush(30)
    restarted.close()
    assert [r.value for r in read_all(settings, bootstrap, topic, expected=10)] == [
        f"m{i}".encode() for i in range(10)
    ]


def _dies_before_removing(publisher: DurablePublisher) -> None:
    """Stand-in for kill -9 between the broker's acknowledgement and the outbox removal: the relay
    thread ends there, leaving the acknowledged rows in the outbox. (Removing nothing, as
    `_reconcile` does at start when the broker holds none of the rows, is not that moment.)"""
    publisher.outbox.remove = lambda seqs: publisher._stop.set() if seqs else None  # type: ignore[method-assign]


def _wait_dead(publisher: DurablePublisher, *, close: bool = True) -> None:
    """Wait for the relay to end; with `close`, the process is gone (its connections closed)."""
    assert publisher._thread is not None
    publisher._thread.join(30)
    assert not publisher._thread.is_alive(), "the relay did not deliver"
    publisher._drop_producer()
    if close:
        publisher.outbox.close()


def test_a_relay_killed_after_the_acks_does_not_send_again_after_a_restart(
    settings: Settings, bootstrap: str, unique: str
) -> None:
    topic = f"fh.events.{unique}"
    one_topic(settings, bootstrap, topic)
    crashed = DurablePublisher(settings, bootstrap)
    crashed.publish([OutboundMessage(topic, b"k%d" % (i % 3), b"first-%d" % i) for i in range(40)])
    _dies_before_removing(crashed)
    crashed.start()
    _wait_dead(crashed)
    assert len(read_all(settings, bootstrap, topic, expected=40)) == 40, "the crashed relay delivered"

    restarted = DurablePublisher(settings, bootstrap)
    assert restarted.outbox.backlog() == 40, "the crashed relay left its delivered rows behind"
    restarted.publish([OutboundMessage(topic, b"k", b"second-%d" % i) for i in range(5)])
    restarted.start()
    assert restarted.flush(30)
    restarted.close()

    values = Counter(r.value for r in read_all(settings, bootstrap, topic, expected=45))
    sent = [b"first-%d" % i for i in range(40)] + [b"second-%d" % i for i in range(5)]
    assert sorted(values) == sorted(sent)
    assert set(values.values()) == {1}, "a message was sent twice"
    assert restarted.delivered == 5


def test_a_message_with_a_dedup_id_is_queued_once_even_after_delivery(
    settings: Settings, bootstrap: str, unique: str
) -> None:
    topic = f"fh.events.{unique}"
    one_topic(settings, bootstrap, topic)
    publisher = DurablePublisher(settings, bootstrap).start()
    message = OutboundMessage(topic, b"k", b"only-once", dedup_id=f"event-{unique}")
    assert publisher.publish([message, message]) == 1
    assert publisher.flush(20)
    assert publisher.publish([message]) == 0, "the caller's retry after a crash is absorbed"
    assert publisher.publish([replace(message, dedup_id=None)]) == 1, "no dedup id: always queued"
    assert publisher.flush(20)
    publisher.close()
    assert [r.value for r in read_all(settings, bootstrap, topic, expected=2)] == [b"only-once"] * 2


def _by_key(values: list[bytes]) -> dict[bytes, list[int]]:
    """`<key>-<n>` values per key, in the order the broker holds them."""
    found: dict[bytes, list[int]] = defaultdict(list)
    for value in values:
        key, _, n = value.rpartition(b"-")
        found[key].append(int(n))
    return found


def test_two_publishers_sharing_an_outbox_deliver_each_message_once_in_key_order(
    settings: Settings, bootstrap: str, unique: str
) -> None:
    topic = f"fh.events.{unique}"
    one_topic(settings, bootstrap, topic)
    publishers = [DurablePublisher(settings, bootstrap).start() for _ in range(2)]

    def publish(name: str, publisher: DurablePublisher) -> None:
        for batch in range(20):
            publisher.publish(
                [
                    OutboundMessage(
                        topic, b"%s%d" % (name.encode(), i % 3), b"%s%d-%d" % (name.encode(), i % 3, i)
                    )
                    for i in range(batch * 10, batch * 10 + 10)
                ]
            )

    threads = [threading.Thread(target=publish, args=(n, p)) for n, p in zip("ab", publishers, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(p.flush(60) for p in publishers), "each publisher's flush waits for the shared backlog"
    delivered = sorted(p.delivered for p in publishers)
    for publisher in publishers:
        publisher.close()

    values = [r.value for r in read_all(settings, bootstrap, topic, expected=400)]
    assert len(values) == 400, "a message was sent twice"
    assert len(set(values)) == 400, "a message was lost"
    assert delivered == [0, 400], "one relay leads and sends every process's rows"
    for key, numbers in _by_key(values).items():
        assert numbers == sorted(numbers), f"key {key!r} out of order"
        assert len(numbers) in (66, 67)


def test_a_relay_takes_over_from_a_leader_that_died_after_the_acks_and_sends_nothing_twice(
    settings: Settings, bootstrap: str, unique: str
) -> None:
    topic = f"fh.events.{unique}"
    one_topic(settings, bootstrap, topic)
    leader = DurablePublisher(settings, bootstrap)
    assert leader.outbox.lead()
    follower = DurablePublisher(settings, bootstrap).start()  # started before anything was sent
    leader.publish([OutboundMessage(topic, b"k%d" % (i % 3), b"k%d-%d" % (i % 3, i)) for i in range(40)])
    _dies_before_removing(leader)
    leader.start()
    _wait_dead(leader, close=False)  # the relay stopped; the process still holds its connection
    assert len(read_all(settings, bootstrap, topic, expected=40)) == 40, "the leader delivered"

    follower.publish(
        [OutboundMessage(topic, b"k%d" % (i % 3), b"k%d-%d" % (i % 3, i)) for i in range(40, 45)]
    )
    assert not follower.flush(2), "the leader's lock is held: the follower must not send"
    assert follower.outbox.backlog() == 45
    assert follower.delivered == 0

    leader.outbox.close()  # the leader's process dies: its connection, and so its lock, go
    assert follower.flush(30), f"{follower.outbox.backlog()} rows still waiting after the takeover"
    follower.close()

    values = [r.value for r in read_all(settings, bootstrap, topic, expected=45)]
    assert Counter(values) == Counter(b"k%d-%d" % (i % 3, i) for i in range(45)), "lost or sent twice"
    assert follower.delivered == 5, "the takeover reconciled the 40 the leader had delivered"
    for key, numbers in _by_key(values).items():
        assert numbers == sorted(numbers), f"key {key!r} out of order"


def test_inputs_published_one_by_one_leave_in_shared_batches(
    settings: Settings, bootstrap: str, unique: str
) -> None:
    """The relay lingers after a wake, so a burst of small publishes costs a few produce requests
    and removals rather than one each (issue #12), and still arrives whole and in order."""
    topic = f"fh.events.{unique}"
    one_topic(settings, bootstrap, topic)
    publisher = DurablePublisher(settings, bootstrap).start()
    sizes: list[int] = []
    deliver = publisher._deliver

    def counted(batch: list[QueuedMessage]) -> bool:
        sizes.append(len(batch))
        return deliver(batch)

    publisher._deliver = counted  # type: ignore[method-assign]
    for i in range(200):
        publisher.publish([OutboundMessage(topic, b"k", b"k-%d" % i)])
    assert publisher.flush(30)
    publisher.close()
    assert sum(sizes) == 200
    assert len(sizes) < 25, f"{len(sizes)} batches for 200 single-message inputs: the relay did not linger"
    values = [r.value for r in read_all(settings, bootstrap, topic, expected=200)]
    assert _by_key(values) == {b"k": list(range(200))}
