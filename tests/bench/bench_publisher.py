"""Benchmark of the ingest stage alone: county records through the connectors and the durable
publisher (outbox + relay) onto a private embedded broker, with no workers behind it, so the
figures do not move with the stream workers' speed (issue #12).

Each round feeds the next records of a generated county (split by position: no event is sent
twice) from FEEDERS threads (each partner's records in one thread, in order, one input per
`Ingestor.ingest` call, as `hubnet bench` does) and waits until the relay has delivered them.
It prints, per round, events/s and process CPU per event, split by thread: the feeders
(connectors + `put_many`), the relay (peek, send, remove) and kafka-python's network thread
(batching, gzip, CRC); and, first, conversion alone on the same records (the floor the publisher
adds to). CPU time is the figure that counts on this shared machine; wall figures are noisy.

Run: python tests/bench/bench_publisher.py [--families 600] [--records 4000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from connectors import registry
from connectors.base import SourceContext
from schemas.topics import catalogue
from services.bench.pipeline import FEEDERS, _lanes, cached_county
from services.core import kafka_clients, topics
from services.core.broker import EmbeddedBroker, free_port
from services.core.logging import configure_logging
from services.core.publisher import DurablePublisher
from services.core.settings import Settings
from services.ingest.pipeline import Ingestor, route
from services.synthetic.replay import Delivery, deliveries

_TICKS = os.sysconf("SC_CLK_TCK")
RELAY = "hubnet-outbox-relay"
NETWORK = "hubnet-producer-network-thread"


def thread_cpu_s() -> dict[str, float]:
    """CPU seconds of each live thread of this process, by thread name (/proc/self/task)."""
    found: dict[str, float] = {}
    for thread in threading.enumerate():
        try:
            text = Path(f"/proc/self/task/{thread.native_id}/stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        found[thread.name] = (int(fields[11]) + int(fields[12])) / _TICKS
    return found


def convert_only(records: list[Delivery]) -> tuple[int, float]:
    """Events and CPU seconds of conversion and routing alone (no outbox, no broker)."""
    events, start = 0, time.process_time()
    for delivery in records:
        ctx = SourceContext(partner=delivery.partner, source_name=delivery.path)
        connector = registry.get(delivery.fmt)
        events += len(route(list(connector.convert(delivery.data, ctx)), connector.name, ctx)[1])
    return events, time.process_time() - start


def one_round(ingestor: Ingestor, publisher: DurablePublisher, records: list[Delivery]) -> str:
    lanes = _lanes(records)
    counts = [0] * FEEDERS
    feeding = [0.0] * FEEDERS

    def feed(lane: int) -> None:
        start = time.thread_time()
        for delivery in lanes[lane]:
            ctx = SourceContext(partner=delivery.partner, source_name=delivery.path)
            counts[lane] += len(ingestor.ingest(delivery.fmt, delivery.data, ctx).outcomes)
        feeding[lane] = time.thread_time() - start

    threads = [threading.Thread(target=feed, args=(n,)) for n in range(FEEDERS)]
    before, cpu, wall = thread_cpu_s(), time.process_time(), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if not publisher.flush(120):
        raise SystemExit("the relay did not deliver the round within 120 s")
    after, cpu, wall = thread_cpu_s(), time.process_time() - cpu, time.perf_counter() - wall
    events = sum(counts)

    def per_event(seconds: float) -> str:
        return f"{seconds / events * 1e6:,.0f}"

    relay, network = (after.get(name, 0.0) - before.get(name, 0.0) for name in (RELAY, NETWORK))
    return (
        f"{events:,} events in {wall:.2f} s = {events / wall:,.0f}/s; CPU {per_event(cpu)} µs/event: "
        f"feeders {per_event(sum(feeding))}, relay {per_event(relay)}, "
        f"producer network thread {per_event(network)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=600)
    parser.add_argument("--records", type=int, default=4000, help="records per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    run = Path(tempfile.mkdtemp(prefix="bench-publisher-"))
    settings = Settings(data_dir=run, broker_profile="embedded")
    configure_logging(settings.model_copy(update={"log_level": "WARNING"}))
    county = cached_county(Path(".hubnet").resolve(), args.families, 2024, print)
    records = list(deliveries(county))
    needed = args.records * (args.rounds + 2)
    if len(records) < needed:
        raise SystemExit(f"the county has {len(records):,} records; {needed:,} needed: add families")
    events, cpu = convert_only(records[: args.records])
    print(f"conversion alone: {events:,} events, {cpu / events * 1e6:,.0f} µs/event")
    with EmbeddedBroker(port=free_port()) as broker:
        admin = kafka_clients.admin(settings, broker.bootstrap)
        topics.apply(admin, catalogue())
        admin.close()
        publisher = DurablePublisher(settings, broker.bootstrap).start()
        ingestor = Ingestor(publisher)
        try:
            one_round(ingestor, publisher, records[args.records : 2 * args.records])  # warm-up
            for n in range(args.rounds):
                figures = one_round(
                    ingestor, publisher, records[(n + 2) * args.records : (n + 3) * args.records]
                )
                print(f"round {n + 1}, {FEEDERS} feeders: {figures}")
        finally:
            publisher.close()


if __name__ == "__main__":
    main()
