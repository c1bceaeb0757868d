"""How the embedded broker's CPU per message grows with what it holds (docs/proof.md).

A private embedded broker; a producer sends rounds of messages to one topic in produce batches of
`--batch` messages (flushed one by one, as the durable publisher's relay sends), while a consumer
reads along; after each round it prints the broker's CPU time per message and how much the topic
holds by then. With `--no-consumer` nothing reads. A script, not a timed test.

Run: python tests/bench/bench_broker_growth.py [--partitions 12] [--batch 40] [--rounds 6]
"""

from __future__ import annotations

import argparse
import os
import threading
import time

from kafka import KafkaConsumer

from services.bench.procstat import tree_cpu_s
from services.bench.raw_broker import create_bench_topics
from services.core import kafka_clients
from services.core.broker import EmbeddedBroker, free_port
from services.core.settings import Settings

TOPIC = "bench.growth"


def _read_along(bootstrap: str, stop: threading.Event) -> None:
    consumer = KafkaConsumer(
        TOPIC, bootstrap_servers=bootstrap, auto_offset_reset="earliest", fetch_max_wait_ms=50
    )
    while not stop.is_set():
        consumer.poll(timeout_ms=100)
    consumer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partitions", type=int, default=12)
    parser.add_argument("--batch", type=int, default=40, help="messages per flush")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--per-round", type=int, default=5000)
    parser.add_argument("--size", type=int, default=2500, help="bytes per message")
    parser.add_argument("--no-consumer", action="store_true")
    args = parser.parse_args()
    settings = Settings(broker_profile="embedded")
    stop = threading.Event()
    with EmbeddedBroker(port=free_port()) as broker:
        assert broker.process is not None
        admin = kafka_clients.admin(settings, broker.bootstrap)
        create_bench_topics(admin, args.partitions, TOPIC)
        admin.close()
        if not args.no_consumer:
            threading.Thread(target=_read_along, args=(broker.bootstrap, stop), daemon=True).start()
        producer = kafka_clients.producer(settings, broker.bootstrap)
        payload = os.urandom(args.size // 2).hex().encode()[: args.size]
        sent = 0
        try:
            for round_number in range(1, args.rounds + 1):
                before = tree_cpu_s(broker.process.pid)
                for _ in range(args.per_round):
                    producer.send(TOPIC, key=str(sent).encode(), value=payload)
                    sent += 1
                    if sent % args.batch == 0:
                        producer.flush()
                        time.sleep(0.005)  # as a relay between batches; lets the consumer fetch
                producer.flush()
                time.sleep(1.0)  # the consumer catches up; its fetches are charged to this round
                used = tree_cpu_s(broker.process.pid) - before
                print(
                    f"round {round_number}: the topic holds {sent:,} messages; "
                    f"broker CPU {used / args.per_round * 1e6:,.0f} µs per message",
                    flush=True,
                )
        finally:
            stop.set()
            producer.close()


if __name__ == "__main__":
    main()
