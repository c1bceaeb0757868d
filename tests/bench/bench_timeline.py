"""Benchmark of the family timeline: page p95 with 5,000 events in a family, search p95 over
1,000,000 persons, and latency from publish on fh.linked to visible in the store the API reads.

1. Page: the busy family of tests/bench/busy_family.py (two carers, a school-age child and a baby,
   5,000 entries over five years, some restricted, resources as the connectors write them), read
   through `TimelineAccess` as the API does (policy, consent, audit write to an on-disk audit
   store included): first pages and pages deep in the cursor, with and without filters. Target
   p95 < 100 ms. Then the family summary (access + services/timeline/summary.py), and the whole
   family page as staff get it: uvicorn on loopback, signed in, previous visit, summary, first
   page, template, timed inside the app (server-side) and at the client. Each p95 < 100 ms.
2. Search: 1,000,000 synthetic persons bulk-loaded into the store's tables, then searches by NHS
   number, family name + date of birth and postcode through `TimelineAccess` (area filter and
   audit included). Target p95 < 100 ms.
3. Latency: `hubnet worker timeline` as its own process (as deployed) on the embedded broker;
   linked events published on fh.linked at 1,000/s; each event's time from send to first seen
   by a separate reader connection. Target p99 < 1 s. (Before, the worker ran in the benchmark's
   own process, sharing one interpreter lock with the producer and the reader, and saturated
   between 600 and 1,000 events/s.)
   (fh.linked onwards: identity resolution before it has its own benchmark, bench_identity.py.)

Run: python tests/bench/bench_timeline.py [--page-only] [--persons 1000000] [--events 5000]
     [--rate 1000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import random
import re
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from schemas.identifiers import NHS_NUMBER, nhs_check_digit
from schemas.linked import LinkedEvent
from schemas.topics import LINKED, catalogue
from services.bench.measure import percentile
from services.bench.pipeline import worker_supervisor
from services.bench.visibility import Visibility
from services.core import heap, kafka_clients, topics
from services.core.broker import EmbeddedBroker, free_port
from services.core.settings import Settings
from services.stack.processes import hubnet
from services.timeline.access import PageRequest, SearchQuery, TimelineAccess
from services.timeline.audit import AuditTrail
from services.timeline.audit_store import AuditStore
from services.timeline.model import Filters
from services.timeline.policy import Role
from services.timeline.store import TimelineStore
from services.timeline.summary import KEY_WORKER_DAYS, summarise, summary_reads
from services.timeline.users import Principal, UserStore
from services.web.app import create_app
from tests.bench.busy_family import FAMILY, busy_family
from tests.e2e.serving import served
from tests.unit.timeline.events import TENDRING, feed, linked

WHO = Principal("bench", "Bench", Role.HEALTH_VISITOR, (TENDRING,))
PAGE_REQUESTS = 200
SURNAMES = ["jones", "smith", "taylor", "brown", "williams", "wilson", "johnson", "davies", "patel", "khan"]


def _report(name: str, samples: list[float], target_ms: float | None = None) -> None:
    p50, p95, p99 = (percentile(samples, p) * 1000 for p in (50, 95, 99))
    verdict = "" if target_ms is None else (" (target met)" if p95 < target_ms else " (TARGET MISSED)")
    print(f"{name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms over {len(samples)}{verdict}")


def family_page(folder: Path, events: int) -> None:
    store = TimelineStore.open(folder / "page.sqlite")
    rng = random.Random(1)
    began = time.perf_counter()
    feed(store, *busy_family(events, datetime.now(UTC).date()))
    print(f"projected {events} events in {time.perf_counter() - began:.1f} s")
    access = TimelineAccess(store, AuditTrail(AuditStore.open(folder / "audit.sqlite")))
    samples: list[float] = []
    cursors: list[str | None] = [None]
    for round_ in range(200):
        filters = Filters(domains=frozenset({"health"})) if round_ % 4 == 3 else Filters()
        cursor = cursors[rng.randrange(len(cursors))]
        t0 = time.perf_counter()
        view = access.family_timeline(WHO, FAMILY, PageRequest(filters, cursor, 50))
        samples.append(time.perf_counter() - t0)
        if view.next_cursor and len(cursors) < 60:
            cursors.append(view.next_cursor)
    _report(f"family timeline page (50 of {events} entries, policy + audit)", samples, 100)
    summary_and_page(store, access, events)
    store.close()


def summary_and_page(store: TimelineStore, access: TimelineAccess, events: int) -> None:
    """The family summary over all the family's entries (access + pure summary), then the whole
    family page as staff get it from `hubnet serve api`: uvicorn on loopback, signed in, previous
    visit from the audit trail, family read, summary, first timeline page and template render.
    The page is timed inside the app (first byte of the request in to the last byte of the
    response out) and, for comparison, at the client."""
    family = store.family(FAMILY)
    assert family is not None
    today = datetime.now(UTC).date()
    since = datetime.now(UTC) - timedelta(days=KEY_WORKER_DAYS)  # as the page asks
    wanted = summary_reads(since)
    samples: list[float] = []
    for _ in range(100):
        t0 = time.perf_counter()
        summarise(family, access.family_facts(WHO, FAMILY, wanted), today)
        samples.append(time.perf_counter() - t0)
    _report(f"family summary ({events} entries, policy + audit)", samples, 100)
    users = UserStore.open(":memory:")
    users.add("bench-hv", "bench password", Role.HEALTH_VISITOR, [TENDRING])
    app = ServerTimed(create_app(store, users, access.audit, b"b" * 32))
    heap.settle()  # as `hubnet serve api` does once its app is built
    with served(app) as url, httpx.Client(base_url=url) as client:
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/sign-in").text)
        assert token is not None
        form = {"username": "bench-hv", "password": "bench password", "csrf": token.group(1), "next": "/"}
        client.post("/sign-in", data=form, follow_redirects=False)
        at_client = []
        for _ in range(PAGE_REQUESTS):
            t0 = time.perf_counter()
            page = client.get(f"/families/{FAMILY}")
            at_client.append(time.perf_counter() - t0)
            assert page.status_code == 200
            assert "hub-summary" in page.text
    label = f"family page with summary ({events} entries, uvicorn"
    _report(f"{label}, server-side)", app.samples[-PAGE_REQUESTS:], 100)
    _report(f"{label}, server-side CPU time)", app.cpu[-PAGE_REQUESTS:], None)
    _report(f"{label}, at the client)", at_client, None)
    users.close()


class ServerTimed:
    """An ASGI wrapper keeping each HTTP request's time inside the app, as the server spends it,
    and the process's CPU time meanwhile (requests come one at a time; the client, waiting on
    its socket, adds little): on a machine shared with other work the wall time mostly measures
    the others, the CPU time much less so."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.samples: list[float] = []
        self.cpu: list[float] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began, cpu = time.perf_counter(), time.process_time()

        async def timed_send(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.samples.append(time.perf_counter() - began)
                self.cpu.append(time.process_time() - cpu)

        await self.app(scope, receive, timed_send)


def _surname(n: int) -> str:
    """Ten common names, each in 997 letter-coded variants (search folds digits away)."""
    code = n % 997
    return f"{SURNAMES[n % len(SURNAMES)]}{chr(97 + code // 26 % 26)}{chr(97 + code % 26)}"


def _birth(n: int) -> str:
    return f"{2000 + n % 25}-{1 + n % 12:02d}-{1 + n % 28:02d}"


def _postcode(n: int) -> str:
    """About 20 people per postcode at a million persons, as in a dense street."""
    return f"CO{15 + n % 3} {n % 10}{'ABDEFGHJLN'[(n // 10) % 10]}{'PQRSTUWXYZ'[(n // 100) % 10]}"


def search(folder: Path, persons: int) -> None:
    path = folder / "search.sqlite"
    TimelineStore.open(path).close()
    rng = random.Random(2)
    db = sqlite3.connect(path)
    began = time.perf_counter()
    nhs_numbers: list[str] = []
    chunk = 50_000
    for base in range(0, persons, chunk):
        people, idents, members, families = [], [], [], []
        for n in range(base, min(base + chunk, persons)):
            first_nine = f"9{n:08d}"
            check = nhs_check_digit(first_nine)
            nhs = f"{first_nine}{check}" if check is not None else ""
            family_key = _surname(n)
            birth = _birth(n)
            postcode = _postcode(n)
            people.append((f"p{n}", None, f"Person {n}", family_key, "given", birth, "", postcode, "", ""))
            if nhs:
                idents.append((f"{NHS_NUMBER}|{nhs}", f"p{n}"))
                if len(nhs_numbers) < 2000 and rng.random() < 0.01:
                    nhs_numbers.append(nhs)
            members.append((f"f{n // 3}", f"p{n}"))
            if n % 3 == 0:
                families.append((f"f{n // 3}", postcode, TENDRING, ""))
        db.executemany("INSERT INTO person VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", people)
        db.executemany("INSERT INTO ident VALUES (?, ?)", idents)
        db.executemany("INSERT INTO member VALUES (?, ?)", members)
        db.executemany("INSERT INTO family VALUES (?, ?, ?, ?)", families)
        db.commit()
    db.close()
    print(f"loaded {persons:,} persons in {time.perf_counter() - began:.1f} s")
    store = TimelineStore.open(path)
    access = TimelineAccess(store, AuditTrail(AuditStore.open(":memory:")))
    picks = [rng.randrange(persons) for _ in range(300)]
    queries = {
        "nhs number": [SearchQuery(nhs_number=n) for n in nhs_numbers[:300]],
        "name + birth date": [SearchQuery(family_name=_surname(k), birth_date=_birth(k)) for k in picks],
        "postcode": [SearchQuery(postcode=_postcode(k)) for k in picks],
    }
    for kind, batch in queries.items():
        samples, found = [], 0
        for query in batch:
            t0 = time.perf_counter()
            found += len(access.search(WHO, query))
            samples.append(time.perf_counter() - t0)
        _report(
            f"search by {kind} over {persons:,} persons ({found / len(batch):.1f} found each)", samples, 100
        )
    store.close()


def latency(folder: Path, rate: int, seconds: float) -> None:
    """`hubnet worker timeline` as its own process, as deployed; this process publishes linked
    events at `rate` and watches the worker's store with its own read-only connection."""
    with EmbeddedBroker(port=free_port()) as broker:
        settings = Settings(
            data_dir=folder, KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap, broker_profile="embedded"
        )
        admin = kafka_clients.admin(settings, broker.bootstrap)
        try:
            topics.apply(admin, catalogue())
        finally:
            admin.close()
        supervisor = worker_supervisor(broker, folder)
        visibility = Visibility(folder / "timeline.sqlite")
        producer = kafka_clients.producer(settings, broker.bootstrap, linger_ms=0)
        try:
            supervisor.start("timeline", hubnet("worker", "timeline"))
            visibility.start()
            warm = [linked(person="warm", families=("warm",), record=f"w{n}") for n in range(20)]
            _publish(producer, warm, rate=100)
            if not visibility.wait_for({item.event.event_id for item in warm}, 120):
                raise RuntimeError(f"the timeline worker did not start:\n{supervisor.children[0].tail()}")
            events = [
                linked(person=f"p{n % 500}", families=(f"f{n % 500}",), record=f"r{n}")
                for n in range(int(rate * seconds))
            ]
            sent = _publish(producer, events, rate)
            visibility.wait_for(set(sent), 60)
        finally:
            producer.close()
            visibility.stop()
            supervisor.stop()
        delays = [seen - at for e, at in sent.items() if (seen := visibility.seen_at(e)) is not None]
        print(f"published {len(events)} linked events at {rate}/s; visible: {len(delays)}")
        _report("publish on fh.linked -> visible to the API", delays, None)
        p99 = percentile(delays, 99)
        print("target p99 < 1 s:", "met" if p99 < 1 and len(delays) == len(events) else "MISSED")


def _publish(producer: Any, events: list[LinkedEvent], rate: float) -> dict[str, float]:
    """Send each event at its slot (`rate` per second), as the identity worker would; event id ->
    when it was sent."""
    sent: dict[str, float] = {}
    began = time.perf_counter()
    for n, item in enumerate(events):
        pause = began + n / rate - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        sent[item.event.event_id] = time.perf_counter()
        producer.send(LINKED, key=item.key, value=item.to_bytes(), headers=item.headers())
    producer.flush()
    return sent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--page-only", action="store_true", help="only the family page figures")
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        family_page(folder, args.events)
        if args.page_only:
            return
        search(folder, args.persons)
        latency(folder, args.rate, args.seconds)


if __name__ == "__main__":
    main()
