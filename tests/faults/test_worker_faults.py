"""Faults in the stream workers: `hubnet worker identity` and `hubnet worker timeline` as real processes.

A county is replayed onto fh.events (twice: duplicate deliveries), a poison message is put on each
worker's input, and each worker (identity, timeline, referrals) is killed -9 mid-batch and
restarted; the timeline worker is then paused (SIGSTOP) while more traffic arrives, so its lag
shows, and resumed until the lag is gone.
Reconciliation at the end:
- identity: every fh.events id is on fh.linked or dead-lettered by the identity worker, always with
  the same person and families (a redelivery repeats an answer, never changes it);
- timeline: the store applied exactly the fh.linked ids, and its entries equal a clean rebuild of
  fh.linked into an empty store (kill -9 left nothing half-applied and nothing twice);
- each poison message is one dead letter (after de-duplication by id) of each worker that read it,
  and every worker is still running (no crash loop). fh.referrals is not reconciled here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.dead_letter import DeadLetter
from schemas.envelope import HubEvent
from schemas.linked import IDENTITY_PARTNER, LinkedEvent
from schemas.topics import DLQ, EVENTS, LINKED
from services.core import kafka_clients
from services.core.settings import Settings
from services.core.supervisor import Child
from services.core.topic_reader import read_to_end
from services.ops import lag
from services.timeline.store import TimelineStore
from services.timeline.worker import default_areas, rebuild
from tests.faults.harness import (
    FaultBroker,
    Processes,
    generate_county,
    hubnet_argv,
    pause,
    resume,
    wait_until,
)
from tests.sqlite_files import opened

pytestmark = pytest.mark.faults
POISON = {EVENTS: b"{not a hub event", LINKED: b"<not a linked event/>"}
TIMELINE_GROUP = "hubnet-timeline"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[Settings, FaultBroker, Processes, Path]]:
    settings = Settings(data_dir=tmp_path)
    broker = FaultBroker(settings).start()
    processes = Processes(tmp_path)
    county = generate_county(tmp_path / "county", families=30, seed=23)
    try:
        yield settings, broker, processes, county
    finally:
        processes.stop()
        broker.stop()


def _replay(processes: Processes, county: Path, name: str, bootstrap: str | None = None) -> None:
    """With `bootstrap`, a second gateway replays (its own data dir: its own ledger and outbox), so
    every input reaches the workers again, as duplicate deliveries; one gateway's ledger would
    recognise them and publish nothing."""
    argv = hubnet_argv("replay", str(county), "--rate", "max")
    extra = {} if bootstrap is None else {
        "HUBNET_DATA_DIR": str(processes.data_dir / name), "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "HUBNET_BROKER_PROFILE": "embedded",
    }  # fmt: skip
    run = processes.supervisor.start(name, argv, extra)
    assert run.process is not None
    assert run.process.wait(120) == 0, run.tail()


def _poison(settings: Settings, bootstrap: str) -> None:
    producer = kafka_clients.producer(settings, bootstrap)
    for topic, value in POISON.items():
        producer.send(topic, key=b"poison", value=value, headers=[("source_partner", b"fault-test")])
    producer.flush()
    producer.close()


def _event_ids(settings: Settings, bootstrap: str) -> set[str]:
    return {
        HubEvent.from_bytes(r.value).event_id
        for r in read_to_end(settings, bootstrap, EVENTS)
        if r.value != POISON[EVENTS]
    }


Answer = tuple[str, str, tuple[str, ...]]
"""(source partner, hub person, hub families) of one fh.linked message."""


def _linked(settings: Settings, bootstrap: str) -> dict[str, set[Answer]]:
    """Event id -> every answer fh.linked carries for it."""
    answers: dict[str, set[Answer]] = defaultdict(set)
    for record in read_to_end(settings, bootstrap, LINKED):
        if record.value != POISON[LINKED]:
            linked = LinkedEvent.from_bytes(record.value)
            answer = (linked.event.source_partner, linked.person_id, linked.family_ids)
            answers[linked.event.event_id].add(answer)
    return answers


def _letters(settings: Settings, bootstrap: str, worker: str) -> list[DeadLetter]:
    letters = [DeadLetter.from_bytes(r.value) for r in read_to_end(settings, bootstrap, DLQ)]
    return [d for d in letters if d.connector == f"worker:{worker}"]


def _applied(store: Path) -> set[str]:
    if not store.exists():
        return set()
    with opened(store) as db:
        return {row[0] for row in db.execute("SELECT event_id FROM applied")}


def _entries(store: Path) -> set[tuple[str, str, str]]:
    with opened(store) as db:
        rows = db.execute("SELECT event_id, source_record_id, record_version FROM entry").fetchall()
    return {(str(a), str(b), str(c)) for a, b, c in rows}


def _groups(settings: Settings, bootstrap: str) -> list[lag.GroupLag]:
    """Every group's lag, with the end offsets read exactly: the embedded broker reports a
    partition's end as its last batch's base offset + 1, and the identity worker produces batches
    (services/ops/lag.py)."""
    admin = kafka_clients.admin(settings, bootstrap)
    try:
        return lag.measure(settings, bootstrap, admin, exact_ends=True)
    finally:
        admin.close()


def _lag(settings: Settings, bootstrap: str) -> int:
    """What the timeline group has still to read of fh.linked."""
    groups = _groups(settings, bootstrap)
    return sum(p.lag for g in groups if g.group == TIMELINE_GROUP for p in g.partitions if p.topic == LINKED)


def _timeline_positioned(settings: Settings, bootstrap: str) -> bool:
    """The timeline group has committed a position on every fh.linked partition that holds
    messages: lag is measured from committed positions, so a worker killed before its first
    commit and paused before its successor's would show none, however far behind it is."""
    groups = _groups(settings, bootstrap)
    linked = [(g.group, p) for g in groups for p in g.partitions if p.topic == LINKED]
    held = {p.partition for _, p in linked if p.end > 0}
    return bool(held) and held <= {p.partition for group, p in linked if group == TIMELINE_GROUP}


def _state(settings: Settings, bootstrap: str, identity: Child) -> str:
    """For a failure message: every group's committed/end offsets, and the identity worker's log."""
    offsets = [
        f"{g.group} {p.topic}[{p.partition}] {p.committed}/{p.end}"
        for g in _groups(settings, bootstrap)
        for p in g.partitions
    ]
    return "\n".join([*offsets, "identity worker log:", identity.tail(30)])


def test_workers_killed_mid_batch_poisoned_and_paused_end_reconciled(
    env: tuple[Settings, FaultBroker, Processes, Path],
) -> None:
    settings, broker, processes, county = env
    bootstrap, store = broker.bootstrap, settings.data_dir / "timeline.sqlite"
    identity = processes.start("identity", "worker", "identity")
    timeline = processes.start("timeline", "worker", "timeline")
    referrals = processes.start("referrals", "worker", "referrals")
    feed = processes.start("replay-1", "replay", str(county), "--rate", "100/s")  # arrives while they work
    _poison(settings, bootstrap)
    wait_until(lambda: len(_linked(settings, bootstrap)) >= 10, 90, "identity under way")
    processes.kill9(identity)
    linked_at_kill = len(_linked(settings, bootstrap))
    identity = processes.restart(identity)
    wait_until(lambda: len(_applied(store)) >= 10, 90, "timeline under way")
    processes.kill9(timeline)
    applied_at_kill = len(_applied(store))
    timeline = processes.restart(timeline)
    processes.kill9(referrals)
    referrals = processes.restart(referrals)
    assert feed.process is not None
    assert feed.process.wait(120) == 0, feed.tail()
    _replay(processes, county, "replay-2", bootstrap)  # duplicate deliveries of every input
    events = _event_ids(settings, bootstrap)
    assert linked_at_kill < len(events), "identity had finished before it was killed"
    assert applied_at_kill < len(events), "the timeline had finished before it was killed"

    wait_until(lambda: _linked(settings, bootstrap).keys() >= events, 180, "every event linked")
    wait_until(
        lambda: _timeline_positioned(settings, bootstrap), 120, "the restarted timeline worker's commits",
        explain=lambda: _state(settings, bootstrap, identity),
    )  # fmt: skip
    pause(timeline)
    try:
        _replay(processes, county, "replay-3", bootstrap)  # more traffic while the timeline worker is frozen
        wait_until(
            lambda: _lag(settings, bootstrap) > 0, 60, "timeline lag to show",
            explain=lambda: _state(settings, bootstrap, identity),
        )  # fmt: skip
        print(f"timeline lag while paused: {_lag(settings, bootstrap)}")
    finally:
        resume(timeline)
    linked = _linked(settings, bootstrap)
    wait_until(lambda: _applied(store) >= linked.keys(), 180, "the timeline to catch up")
    wait_until(lambda: _lag(settings, bootstrap) == 0, 60, "timeline lag back to 0")

    identity_letters = _letters(settings, bootstrap, "identity")
    timeline_letters = _letters(settings, bootstrap, "timeline")
    # a worker killed between dead-lettering and its offset commit dead-letters again: same id
    assert list({d.dead_letter_id: d.original for d in identity_letters}.values()) == [POISON[EVENTS]]
    assert list({d.dead_letter_id: d.original for d in timeline_letters}.values()) == [POISON[LINKED]]
    wait_until(lambda: bool(_letters(settings, bootstrap, "referrals")), 60, "the referrals dead letter")
    referral_letters = _letters(settings, bootstrap, "referrals")
    assert list({d.dead_letter_id: d.original for d in referral_letters}.values()) == [POISON[LINKED]]
    crashed = [c.name for c in (identity, timeline, referrals) if not c.running]
    assert not crashed, f"workers stopped on their own (crash loop?): {crashed}"
    assert events <= linked.keys(), f"{len(events - linked.keys())} events never linked"
    notices = linked.keys() - events
    assert {a[0] for i in notices for a in linked[i]} <= {IDENTITY_PARTNER}, "linked ids from nowhere"
    changed = {i: answers for i, answers in linked.items() if len(answers) > 1}
    assert not changed, f"{len(changed)} events were linked to different people on redelivery"
    assert _applied(store) == linked.keys(), "the timeline applied other ids than fh.linked carries"

    clean = TimelineStore.open(settings.data_dir / "rebuilt.sqlite")
    records = (r for r in read_to_end(settings, bootstrap, LINKED) if r.value != POISON[LINKED])
    rebuild(clean, records, default_areas(settings))
    clean.close()
    assert _entries(store) == _entries(settings.data_dir / "rebuilt.sqlite")
    print(
        f"killed: identity at {linked_at_kill} linked, timeline at {applied_at_kill} applied; "
        f"events {len(events)}, linked {len(linked)} (notices {len(notices)}), "
        f"timeline entries {len(_entries(store))}, poison dead letters "
        f"{len(identity_letters)} identity + {len(timeline_letters)} timeline (1 + 1 after de-duplication)"
    )
