"""The whole pipeline on this machine: partner-native files -> connectors -> durable publisher ->
fh.events -> identity worker -> fh.linked -> timeline worker -> timeline store.

A generated county (cached under `<data dir>/bench/`) is the partner traffic. The identity and
timeline workers run as real `hubnet worker` processes under the Supervisor, against a private
embedded broker, exactly as `hubnet up` starts them; this process plays the partners: it runs the
connectors and the durable publisher (outbox + relay), as `hubnet replay` does.

Phases, on one stream of county records (split by position, so no event id is sent twice):
1. warm-up: a few hundred records, until visible (workers joined their groups, imports done);
2. throughput: the next records as fast as the connectors go (for at most `throughput_s`), from
   FEEDERS threads (each partner's records in one thread, in order, one input per `ingest`);
   events/s = events visible in the store / time from the first send to the last one visible;
   CPU per event per stage from each process's CPU time over the phase (/proc, procstat.py);
3. latency: the next records at a fixed offered load in events/s, from the same FEEDERS threads
   sharing one pacer (the load the partners offer together), each event timed from the moment
   its record was handed to the connector (received) to the moment its id was committed in the
   timeline store (visibility.py). Events already sent in an earlier phase are left out.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from connectors.base import SourceContext
from schemas.topics import catalogue
from services.bench.measure import Figure, percentile
from services.bench.procstat import tree_cpu_s
from services.bench.visibility import Visibility
from services.core import heap, kafka_clients, topics
from services.core.broker import EmbeddedBroker
from services.core.publisher import DurablePublisher
from services.core.settings import Settings
from services.core.supervisor import Supervisor
from services.ingest.pacing import Pacer
from services.ingest.pipeline import Ingestor
from services.stack.demo_traffic import DEMO_END, DEMO_START
from services.stack.processes import hubnet
from services.synthetic.county import Options
from services.synthetic.county import generate as generate_county
from services.synthetic.replay import Delivery, deliveries

log = structlog.get_logger(__name__)
WORKERS = ("identity", "timeline")
CHUNK = 100
"""Records fed between two looks at the clock in the throughput phase."""
FEEDERS = 4
"""Partners sending at once, as the gateway and the listeners serve several: while one input
waits for its outbox commit to reach the disk, another is converted, and inputs waiting together
share a commit (the outbox's group commit). The latency phase's load is theirs together: one
feeder alone could not offer 1,000 events/s (it converted ~260 records/s while waiting on disk)."""
Say = Callable[[str], None]


@dataclass(frozen=True)
class PipelineOptions:
    families: int = 600
    seed: int = 2024
    rate: float = 1000.0
    """Offered load of the latency phase, events per second."""
    seconds: float = 20.0
    """Length of the latency phase."""
    throughput_s: float = 45.0
    """The throughput phase stops feeding after this long (or when the county runs out)."""
    warmup_records: int = 300


@dataclass
class Latency:
    offered_per_s: float
    sent: int
    visible: int
    achieved_per_s: float
    p50_s: float
    p95_s: float
    p99_s: float


@dataclass
class PipelineResult:
    county: Path
    records: int
    events: int
    visible: int
    wall_s: float
    feed_s: float
    mean_event_bytes: float
    stages: list[Figure] = field(default_factory=list)
    latency: Latency | None = None

    @property
    def events_per_s(self) -> float:
        return self.visible / self.wall_s if self.wall_s else 0.0


def cached_county(data_dir: Path, families: int, seed: int, say: Say) -> Path:
    """The county for `families` and `seed`, generated once (into a temporary folder, renamed
    when complete, so an interrupted run never leaves half a county behind)."""
    folder = data_dir / "bench" / f"county-{families}f-seed{seed}"
    if (folder / "manifest.json").is_file():
        return folder
    partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    say(f"generating a county of {families} families (cached in {folder})")
    generate_county(Options(families=families, seed=seed, start=DEMO_START, end=DEMO_END), partial)
    partial.rename(folder)
    return folder


@dataclass
class BenchStack:
    """What the benchmark runs on: broker, the two workers, and this process as the partners."""

    broker: EmbeddedBroker
    supervisor: Supervisor
    ingestor: Ingestor
    publisher: DurablePublisher
    visibility: Visibility

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of every stage (this process: connectors, outbox and relay)."""
        by_stage = {"ingest": time.process_time()}
        by_stage |= {c.name: tree_cpu_s(c.process.pid) for c in self.supervisor.children if c.process}
        assert self.broker.process is not None
        by_stage["broker"] = tree_cpu_s(self.broker.process.pid)
        return by_stage

    def failed(self) -> str | None:
        for child in self.supervisor.failed():
            return f"the {child.name} worker stopped; its last lines:\n{child.tail()}"
        return None


def worker_supervisor(broker: EmbeddedBroker, run_dir: Path) -> Supervisor:
    """A supervisor whose `hubnet worker` children use this broker and `run_dir` only (never the
    caller's own KAFKA_/HUBNET_ settings), logging warnings only, as the benchmark itself does."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "HUBNET_"))}
    env |= {
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "HUBNET_BROKER_PROFILE": "embedded",
        "HUBNET_DATA_DIR": str(run_dir),
        "HUBNET_LOG_FORMAT": "json",
        "HUBNET_LOG_LEVEL": "WARNING",
    }
    return Supervisor(env=env, log_dir=run_dir / "logs")


@contextmanager
def bench_stack(broker: EmbeddedBroker, run_dir: Path) -> Iterator[BenchStack]:
    admin = kafka_clients.admin(Settings(data_dir=run_dir), broker.bootstrap)
    try:
        topics.apply(admin, catalogue())
    finally:
        admin.close()
    supervisor = worker_supervisor(broker, run_dir)
    settings = Settings(data_dir=run_dir, KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap, broker_profile="embedded")
    publisher = DurablePublisher(settings, broker.bootstrap)
    visibility = Visibility(run_dir / "timeline.sqlite")
    try:
        for worker in WORKERS:
            supervisor.start(worker, hubnet("worker", worker))
        publisher.start()
        visibility.start()
        heap.settle()  # the ingest side stands in for `hubnet replay`, which settles its heap too
        yield BenchStack(broker, supervisor, Ingestor(publisher), publisher, visibility)
    finally:
        visibility.stop()
        publisher.close(timeout_s=5)
        supervisor.stop()


def run_pipeline(
    broker: EmbeddedBroker, data_dir: Path, options: PipelineOptions, say: Say
) -> PipelineResult:
    """Warm-up, throughput and latency phases on a fresh run folder; see the module docstring."""
    county = cached_county(data_dir, options.families, options.seed, say)
    say("splitting the county into partner records")
    records = list(deliveries(county))
    run_dir = data_dir / "bench" / f"run-{os.getpid()}"
    shutil.rmtree(run_dir, ignore_errors=True)
    latency_records = int(options.rate * options.seconds)  # an upper bound: records carry >= 1 event
    warm, rest = records[: options.warmup_records], records[options.warmup_records :]
    if len(rest) < 2 * latency_records:
        raise ValueError(f"a county of {options.families} families is too small for this run: add families")
    throughput, paced = rest[:-latency_records], rest[-latency_records:]
    with bench_stack(broker, run_dir) as stack:
        say(f"warming up: {len(warm)} records through identity and the timeline")
        sizes: list[int] = []
        warmed = feed_records(stack, warm, sizes)
        wait_visible(stack, set(warmed), 180)
        say(f"throughput: {len(throughput):,} records as fast as the connectors go")
        result, ids = _throughput(stack, county, throughput, options.throughput_s)
        result.mean_event_bytes = sum(sizes) / max(1, len(sizes))
        say(f"latency: {options.rate:,.0f} events/s offered for {options.seconds:.0f} s")
        result.latency = _latency(stack, paced, options, already=set(warmed) | ids)
    shutil.rmtree(run_dir, ignore_errors=True)
    return result


def feed_records(
    stack: BenchStack, batch: Sequence[Delivery], sizes: list[int] | None = None
) -> dict[str, float]:
    """Every record through its connector into the outbox; event id -> when its record was handed
    over (received). `sizes` collects each event's size on the wire, for the raw pipe to match."""
    sent: dict[str, float] = {}
    for delivery in batch:
        received = time.perf_counter()
        ctx = SourceContext(partner=delivery.partner, source_name=delivery.path)
        for event in stack.ingestor.ingest(delivery.fmt, delivery.data, ctx).accepted:
            sent.setdefault(event.event_id, received)
            if sizes is not None:
                sizes.append(len(event.to_bytes()))
    return sent


def wait_visible(stack: BenchStack, ids: set[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not stack.visibility.wait_for(ids, 1.0):
        if problem := stack.failed():
            raise RuntimeError(problem)
        if time.monotonic() > deadline:
            seen = stack.visibility.count(ids)
            log.warning("bench.not_visible", expected=len(ids), visible=seen)
            return


def _throughput(
    stack: BenchStack, county: Path, batch: Sequence[Delivery], limit_s: float
) -> tuple[PipelineResult, set[str]]:
    before = stack.cpu()
    began = time.perf_counter()
    lanes = _lanes(batch)
    sent: dict[str, float] = {}
    records = [0] * FEEDERS

    def feed(lane: int) -> None:
        for start in range(0, len(lanes[lane]), CHUNK):
            if time.perf_counter() - began > limit_s:
                return
            chunk = lanes[lane][start : start + CHUNK]
            sent.update(feed_records(stack, chunk))
            records[lane] += len(chunk)

    _side_by_side(feed)
    fed = time.perf_counter()
    ids = set(sent)
    wait_visible(stack, ids, 120 + len(ids) / 200)
    after = stack.cpu()
    visible = stack.visibility.count(ids)
    wall = (stack.visibility.last_seen(ids) or time.perf_counter()) - began
    result = PipelineResult(
        county=county,
        records=sum(records),
        events=len(ids),
        visible=visible,
        wall_s=wall,
        feed_s=fed - began,
        mean_event_bytes=0.0,
    )
    result.stages = [
        Figure(f"pipeline CPU: {stage}", visible, wall, after[stage] - before[stage], unit="event")
        for stage in before
    ]
    return result, ids


def _latency(
    stack: BenchStack, batch: Sequence[Delivery], options: PipelineOptions, already: set[str]
) -> Latency:
    """Records at `options.rate` events/s from FEEDERS threads sharing one pacer: each record
    waits for its slot, then the slots of the further events it turned out to hold are counted."""
    lanes = _lanes(batch)
    pace = Pacer(options.rate, clock=time.perf_counter)
    sent: dict[str, float] = {}
    emitted = [0] * FEEDERS
    began = time.perf_counter()

    def feed(lane: int) -> None:
        for delivery in lanes[lane]:
            if time.perf_counter() - began >= options.seconds:
                return
            pace.wait()
            fresh = feed_records(stack, [delivery])
            pace.add(len(fresh) - 1)
            emitted[lane] += len(fresh)
            for event_id, at in fresh.items():
                if event_id not in already:
                    sent.setdefault(event_id, at)

    _side_by_side(feed)
    offered = time.perf_counter() - began
    wait_visible(stack, set(sent), 60)
    delays = [seen - at for e, at in sent.items() if (seen := stack.visibility.seen_at(e)) is not None]
    return Latency(
        offered_per_s=options.rate,
        sent=len(sent),
        visible=len(delays),
        achieved_per_s=sum(emitted) / offered if offered else 0.0,
        p50_s=percentile(delays, 50),
        p95_s=percentile(delays, 95),
        p99_s=percentile(delays, 99),
    )


def _lanes(batch: Sequence[Delivery]) -> list[list[Delivery]]:
    """FEEDERS lanes; one partner's records stay in one lane, in order, as a partner sends them."""
    lanes: list[list[Delivery]] = [[] for _ in range(FEEDERS)]
    for delivery in batch:
        lanes[zlib.crc32(delivery.partner.encode()) % FEEDERS].append(delivery)
    return lanes


def _side_by_side(feed: Callable[[int], None]) -> None:
    """Run `feed(lane)` for every lane on a thread of its own, and wait for all of them."""
    feeders = [
        threading.Thread(target=feed, args=(lane,), name=f"bench-feed-{lane}") for lane in range(FEEDERS)
    ]
    for thread in feeders:
        thread.start()
    for thread in feeders:
        thread.join()
