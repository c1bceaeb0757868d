"""Benchmark of the store layer on SQLite and PostgreSQL: the timeline store's `apply` (one
linked event: person, entry, record, family rows) in group commits of 100, as the worker does.

Prints CPU time of this process per event (the store's own Python and driver work, what hubnet
pays whatever the server) and wall time per event (includes the database: SQLite in-process,
PostgreSQL a local server round trip per statement). Repeat and report the range: the machine
is shared.

Run: python tests/bench/bench_stores.py [--events 3000] [--rounds 3] [--postgres URL]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from services.timeline.projector import project
from services.timeline.store import TimelineStore
from tests.unit.timeline.events import AREA_OF, linked

GROUP = 100


def events(count: int) -> list[tuple[str, list[object]]]:
    made = []
    for n in range(count):
        event = linked(person=f"p{n % 500}", record=f"r{n}", occurred=f"2024-0{1 + n % 9}-01T10:00:00")
        made.append((event.event.event_id, list(project(event, AREA_OF))))
    return made


def run(store: TimelineStore, batch: list[tuple[str, list[object]]]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    for n, (event_id, changes) in enumerate(batch, 1):
        store.apply(event_id, changes, commit=False)  # type: ignore[arg-type]
        if n % GROUP == 0:
            store.flush()
    store.flush()
    return (time.process_time() - cpu) / len(batch) * 1e6, (time.perf_counter() - wall) / len(batch) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    batch = events(args.events)
    backends = ["sqlite", "postgresql"] if args.postgres else ["sqlite"]
    for backend in backends:
        figures = []
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as folder:
                if backend == "sqlite":
                    store = TimelineStore.open(Path(folder) / "timeline.sqlite")
                else:
                    from services.stores.connect import connect_postgresql

                    schema = f"bench_{uuid.uuid4().hex[:10]}"
                    store = TimelineStore(connect_postgresql(args.postgres, schema))
                figures.append(run(store, batch))
                if backend == "postgresql":
                    store._db.execute(f"DROP SCHEMA {schema} CASCADE")
                    store._db.commit()
                store.close()
        cpu = [f[0] for f in figures]
        wall = [f[1] for f in figures]
        print(
            f"{backend:10} timeline apply, {args.events} events, groups of {GROUP}: "
            f"CPU {min(cpu):.0f}-{max(cpu):.0f} us/event, wall {min(wall):.0f}-{max(wall):.0f} us/event"
        )


if __name__ == "__main__":
    main()
