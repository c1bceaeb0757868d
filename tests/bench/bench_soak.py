"""Soak: `make run`'s stack under steady partner traffic and staff reads for a long time (issue #21).

Starts `hubnet up --rate 0` (the whole stack, sample feeds, no demo replay) on a private data dir,
generates a county big enough for the run and replays it through the partner connectors at
`--rate`, while a staff client reads (search and family timelines over the API, as the demo
accounts). Every `--every` seconds it samples what has arrived and the processes' memory and CPU.
At the end it prints: events in (fh.events) / on the timeline / dead-lettered, stalls seen (a
worker's /healthz answering 503), restarts (`hubnet up`'s own lines), each process's RSS at the
start and the end, and the embedded broker's CPU per event in the first and the last interval
(Tansu's memory engine costs more per event as it fills: docs/proof.md).

Run: python tests/bench/bench_soak.py [--minutes 30] [--rate 50] [--every 60]
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx

from schemas.topics import DLQ, EVENTS
from services.bench.procstat import tree_cpu_s
from services.core.settings import Settings
from services.core.topic_reader import read_to_end
from tests.e2e.up_stack import REPO, UpStack, store_count, worker_pid
from tests.sqlite_files import opened

WORKERS = ("identity", "timeline", "referrals")
READERS = ("health-visitor", "social-worker", "hub-manager", "hub-practitioner")
DEMO_PASSWORD = "hubnet-demo-password"


def rss_mib(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@dataclass
class Sample:
    at_s: float
    applied: int
    broker_cpu_s: float
    rss: dict[str, float | None]


@dataclass(eq=False)  # a Thread must stay hashable
class StaffReads(threading.Thread):
    """A staff client reading persons and their timelines through the API as the demo roles do
    (each read is also an audit write), until stopped."""

    api: str
    data_dir: Path
    reads: int = 0
    errors: int = 0
    halt: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        super().__init__(name="soak-staff-reads", daemon=True)

    def run(self) -> None:
        rng = random.Random(7)
        with httpx.Client(base_url=self.api, timeout=10) as client:
            while not self.halt.wait(0.5):
                auth = base64.b64encode(f"{rng.choice(READERS)}:{DEMO_PASSWORD}".encode()).decode()
                for person in self._some_persons():
                    try:
                        client.get(
                            f"/v1/persons/{person}/timeline", headers={"authorization": f"Basic {auth}"}
                        )
                        self.reads += 1
                    except httpx.HTTPError:
                        self.errors += 1

    def _some_persons(self) -> list[str]:
        path = self.data_dir / "timeline.sqlite"
        try:
            with opened(path, timeout_s=1) as db:
                return [r[0] for r in db.execute("SELECT person_id FROM person ORDER BY random() LIMIT 2")]
        except sqlite3.Error:
            return []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=50.0, help="partner records per second")
    parser.add_argument("--every", type=float, default=60.0, help="seconds between samples")
    options = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="hubnet-soak-"))
    families = max(20, int(options.rate * options.minutes * 60 / 100))  # ~100 records a family
    county = data_dir / "soak-county"
    print(f"generating a county of {families} families for {options.minutes:.0f} min at {options.rate:.0f}/s")
    subprocess.run(
        [sys.executable, "-m", "services.cli", "generate", "--families", str(families), "--seed", "29",
         "--out", str(county)], cwd=REPO, check=True, capture_output=True,
    )  # fmt: skip
    stack = UpStack(data_dir, args=("--rate", "0")).start()
    stack.running.wait(300)
    api = re.search(r"hub staff web UI\s+(http://127\.0\.0\.1:\d+)/", stack.text)
    if not api:
        sys.exit(f"the stack did not start:\n{stack.text[-3000:]}")
    broker = json.loads((data_dir / "broker.json").read_text())
    env = {"HUBNET_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"}
    replay = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "replay", str(county), "--rate", f"{options.rate:g}/s"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    staff = StaffReads(api[1], data_dir)
    staff.start()
    stalls = 0
    samples: list[Sample] = []
    started = time.monotonic()
    try:
        while time.monotonic() - started < options.minutes * 60:
            samples.append(sample(data_dir, broker["pid"], started))
            stalls += stack.text.count("stalled (its /healthz answers 503)") - stalls
            last = samples[-1]
            print(f"{last.at_s / 60:5.1f} min: {last.applied} on the timeline, staff reads {staff.reads}")
            time.sleep(options.every)
        replay.terminate()
        replay.wait(30)
        drained(data_dir, samples[-1].applied)
        samples.append(sample(data_dir, broker["pid"], started))
    finally:
        staff.halt.set()
        if replay.poll() is None:
            replay.terminate()
            replay.wait(30)
        settings = Settings(data_dir=data_dir, KAFKA_BOOTSTRAP_SERVERS=broker["bootstrap"])
        events_in = sum(1 for _ in read_to_end(settings, broker["bootstrap"], EVENTS))
        dead = sum(1 for _ in read_to_end(settings, broker["bootstrap"], DLQ))
        restarts = stack.text.count(" restarted (")
        stack.stop()
    report(samples, Totals(events_in, dead, stalls, restarts), staff)


def sample(data_dir: Path, broker_pid: int, started: float) -> Sample:
    pids = {w: worker_pid(data_dir, w) for w in WORKERS} | {"broker": broker_pid}
    return Sample(
        at_s=time.monotonic() - started,
        applied=store_count(data_dir, "timeline", "SELECT count(*) FROM applied"),
        broker_cpu_s=tree_cpu_s(broker_pid),
        rss={name: rss_mib(pid) for name, pid in pids.items()},
    )


def drained(data_dir: Path, applied: int, quiet_s: float = 15.0) -> None:
    """Wait until the timeline has stopped growing for `quiet_s`: what was sent has arrived."""
    still_since = time.monotonic()
    while time.monotonic() - still_since < quiet_s:
        time.sleep(1.0)
        now = store_count(data_dir, "timeline", "SELECT count(*) FROM applied")
        if now != applied:
            applied, still_since = now, time.monotonic()


@dataclass
class Totals:
    events_in: int
    dead: int
    stalls: int
    restarts: int


def report(samples: list[Sample], totals: Totals, staff: StaffReads) -> None:
    first, last = samples[0], samples[-1]
    print(
        f"\nevents in (fh.events): {totals.events_in}; on the timeline: {last.applied}; "
        f"dead-lettered: {totals.dead}"
    )
    print(
        f"stalls seen: {totals.stalls}; restarts: {totals.restarts}; "
        f"staff reads: {staff.reads} ({staff.errors} failed)"
    )
    for name in first.rss:
        print(f"RSS {name:9}: start {first.rss[name] or 0:7.1f} MiB, end {last.rss[name] or 0:7.1f} MiB")
    per_event = [
        (b.broker_cpu_s - a.broker_cpu_s) * 1e6 / (b.applied - a.applied)
        for a, b in itertools.pairwise(samples)
        if b.applied > a.applied
    ]
    if per_event:
        print(f"broker CPU per event: first interval {per_event[0]:.0f} µs, last {per_event[-1]:.0f} µs")


if __name__ == "__main__":
    main()
