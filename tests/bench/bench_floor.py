"""The floor of the pipeline's CPU per event, with no identity, timeline or outbox work (issue #12).

The 5,000 events/s target on 2 cores leaves 400 µs of CPU per event for every stage together. This
measures the parts the design fixes (docs/proof.md, "The floor of the decided parts"):

1. conversion of the county's records (connectors: mapping and validation by the fhir.resources
   models, which the design asks for once, at the edge), CPU per event on one core;
2. kafka-python's producer (acks=all, idempotent, gzip: the durable publisher's settings), CPU per
   message of the producing process, sending the converted events in flushes of `--flush`;
3. a faust worker that does nothing but pass each message on (a `guarded_batch_agent` that
   produces every message unchanged to a second topic and awaits the acknowledgements, as the
   identity worker does, without parsing, resolving or a store): CPU per message of its process;
4. the embedded broker (Tansu): its CPU per event for the two hops (in, and passed on).

The pipeline runs two workers: identity, which consumes and produces like the pass-through, and
timeline, which consumes only. Counting the pass-through once, the floor per event is at least
conversion + producer + pass-through + broker; the timeline worker's consumption, the outbox and
every piece of hubnet's own work come on top. A script, not a timed test.

Run: python tests/bench/bench_floor.py [--events 20000] [--flush 40]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from connectors import registry
from connectors.base import Outcome, Rejection, SourceContext
from services.bench.pipeline import cached_county
from services.bench.procstat import tree_cpu_s
from services.bench.raw_broker import create_bench_topics
from services.core import heap, kafka_clients
from services.core.broker import EmbeddedBroker, free_port
from services.core.settings import Settings
from services.ingest.pipeline import event_message
from services.synthetic.replay import Delivery, deliveries

SOURCE, SINK = "bench.floor.in", "bench.floor.out"
PASSED = "passed-on"
PARTITIONS = 12
"""As fh.events and fh.linked in the catalogue."""


def _settings(data_dir: Path) -> Settings:
    return Settings(broker_profile="embedded", data_dir=data_dir, log_level="WARNING")


def run_pass_through(bootstrap: str, data_dir: Path) -> None:
    """The worker process: every message of SOURCE produced unchanged to SINK."""
    from services.streams.app import Message, create_app, guarded_batch_agent, produce, raw_topic, run_worker

    app = create_app("floor", _settings(data_dir), bootstrap, group="bench-floor")
    sink = raw_topic(app, SINK)
    passed = 0

    async def handle(batch: list[Message]) -> list[Exception | None]:
        nonlocal passed
        pending = [  # keys spread over the partitions, as the identity worker's family ids are
            await produce(sink, str(passed + n).encode(), value, list(headers.items()))
            for n, (value, headers) in enumerate(batch)
        ]
        for acknowledged in pending:
            await acknowledged
        passed += len(batch)
        (data_dir / PASSED).write_text(str(passed))
        return [None] * len(batch)

    guarded_batch_agent(app, SOURCE, "floor", handle, size=500, within_s=0.05)
    run_worker(app)


def _convert(delivery: Delivery) -> list[Outcome]:
    ctx = SourceContext(delivery.partner, source_name=delivery.path)
    return list(registry.get(delivery.fmt).convert(delivery.data, ctx))


def converted_events(families: int, events: int) -> tuple[list[bytes], float]:
    """The county's first `events` events as bytes, and conversion's CPU per event (warm, one core)."""
    county = cached_county(Path(".hubnet").resolve(), families, 2024, print)
    records = iter(deliveries(county))
    warm = [next(records) for _ in range(1500)]
    for delivery in warm:
        _convert(delivery)
    heap.settle()
    values: list[bytes] = []
    start = time.process_time()
    for delivery in records:
        for outcome in _convert(delivery):
            if not isinstance(outcome, Rejection):
                values.append(event_message(outcome).value)
        if len(values) >= events:
            break
    return values[:events], (time.process_time() - start) / len(values)


def _passed_on(data_dir: Path) -> int:
    """Messages the worker has passed on and seen acknowledged (it writes the count after each
    batch): the embedded broker's end offsets are not exact, and asking is broker work."""
    try:
        return int((data_dir / PASSED).read_text() or 0)
    except FileNotFoundError:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--flush", type=int, default=40, help="messages per producer flush (the relay's ~40)")
    parser.add_argument("--families", type=int, default=600)
    parser.add_argument("--worker", nargs=2, metavar=("BOOTSTRAP", "DATA_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_pass_through(args.worker[0], Path(args.worker[1]))
        return
    values, convert_s = converted_events(args.families, args.events)
    print(f"conversion: {convert_s * 1e6:,.0f} µs per event ({len(values):,} events, one core)", flush=True)
    data_dir = Path(tempfile.mkdtemp(prefix="hubnet-floor-"))
    settings = _settings(data_dir)
    with EmbeddedBroker(port=free_port()) as broker:
        assert broker.process is not None
        admin = kafka_clients.admin(settings, broker.bootstrap)
        create_bench_topics(admin, PARTITIONS, SOURCE, SINK)
        admin.close()
        worker = subprocess.Popen([sys.executable, __file__, "--worker", broker.bootstrap, str(data_dir)])
        try:
            producer = kafka_clients.producer(settings, broker.bootstrap)
            producer.send(SOURCE, key=b"warm", value=values[0]).get(30)
            while _passed_on(data_dir) < 1:  # the worker has joined its group and passed one on
                time.sleep(0.5)
            cpu = {"worker": tree_cpu_s(worker.pid), "broker": tree_cpu_s(broker.process.pid)}
            mine, began = time.process_time(), time.perf_counter()
            for number, value in enumerate(values, start=1):
                producer.send(SOURCE, key=str(number % 997).encode(), value=value)
                if number % args.flush == 0:
                    producer.flush()
            producer.flush()
            produced = time.process_time() - mine
            while _passed_on(data_dir) < len(values) + 1:
                time.sleep(0.2)
            took = time.perf_counter() - began
            used = {
                "worker": tree_cpu_s(worker.pid) - cpu["worker"],
                "broker": tree_cpu_s(broker.process.pid) - cpu["broker"],
            }
            producer.close()
        finally:
            worker.terminate()
            worker.wait(30)
            shutil.rmtree(data_dir, ignore_errors=True)
    n = len(values)
    floor = convert_s + produced / n + used["worker"] / n + used["broker"] / n
    print(
        f"kafka-python producer: {produced / n * 1e6:,.0f} µs per message (flushes of {args.flush})\n"
        f"faust pass-through worker: {used['worker'] / n * 1e6:,.0f} µs per message\n"
        f"broker, two hops: {used['broker'] / n * 1e6:,.0f} µs per event\n"
        f"({n:,} events of {sum(map(len, values)) / n:,.0f} bytes passed on in {took:.1f} s)\n"
        f"floor per event: conversion + producer + pass-through + broker = {floor * 1e6:,.0f} µs; "
        f"2 cores give at most {2 / floor:,.0f} events/s (target 5,000: 400 µs)",
        flush=True,
    )


if __name__ == "__main__":
    main()
