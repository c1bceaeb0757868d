"""Benchmark of `hubnet status` collection on the embedded broker: how long the first run takes on
a topic full of events (the stale-partner scan reads `fh.events` from the beginning) and how long
each later run takes (the scan reads only what arrived since).

Run: python tests/bench/bench_ops_status.py [EVENTS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from schemas.topics import EVENTS, catalogue
from services.core import kafka_clients, topics
from services.core.broker import EmbeddedBroker, free_port
from services.core.settings import Settings
from services.ops.status import collect

EVENT = b"x" * 600  # the size the design measures with; the scan reads headers only


def fill(settings: Settings, bootstrap: str, events: int) -> None:
    producer = kafka_clients.producer(settings, bootstrap)
    for n in range(events):
        headers = [("source_partner", f"p{n % 50}".encode()), ("ingested_at", b"2025-06-02T09:00:00Z")]
        producer.send(EVENTS, key=str(n).encode(), value=EVENT, headers=headers)
    producer.flush(120)
    producer.close()


def main(events: int) -> None:
    with EmbeddedBroker(port=free_port()) as broker, tempfile.TemporaryDirectory() as folder:
        settings = Settings(KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap, data_dir=Path(folder))
        admin = kafka_clients.admin(settings, broker.bootstrap)
        topics.apply(admin, catalogue())
        admin.close()
        fill(settings, broker.bootstrap, events)
        for run in ("first", "second", "third"):
            started = time.perf_counter()
            report = collect(settings)
            took = time.perf_counter() - started
            print(f"{run} run: {took:.2f} s ({len(report.partners)} partners)")
            if run == "first":
                rate = events / took
                print(f"  first-run scan: {rate:,.0f} events/s, {1e6 / rate:.0f} µs per event")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
