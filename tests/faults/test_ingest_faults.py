"""Faults on the way in: a real `hubnet replay` process publishes a generated county through the
gateway's ingest step (connectors -> ledger -> durable outbox -> Kafka) while the broker or the
publisher is killed.

Each test ends with the reconciliation of tests/faults/reconcile.py: every record of the county is
exactly one of {event on fh.events, dead letter on fh.dlq}, with the ids `convert` gives offline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.topics import EVENTS
from services.core.publisher import DurablePublisher
from services.core.settings import Settings
from services.core.topic_reader import read_to_end
from services.synthetic.replay import Delivery, deliveries
from tests.faults.harness import FaultBroker, Processes, generate_county, pause, resume, wait_until
from tests.faults.reconcile import Ids, delivery_outcomes, expected_outcomes, observed, reconcile, wait_for
from tests.sqlite_files import opened

pytestmark = pytest.mark.faults
RATE = "30/s"
"""Slow enough that a fault lands mid-run: the county below takes about five seconds."""


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_county(tmp_path_factory.mktemp("faults") / "county", families=6, seed=11)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[Settings, FaultBroker, Processes]]:
    settings = Settings(data_dir=tmp_path)
    broker = FaultBroker(settings).start()
    processes = Processes(tmp_path)
    try:
        yield settings, broker, processes
    finally:
        processes.stop()
        broker.stop()


def _some_events(settings: Settings, bootstrap: str) -> bool:
    return any(True for _ in read_to_end(settings, bootstrap, EVENTS))


def _outbox_backlog(data_dir: Path) -> int:
    with opened(data_dir / "outbox.sqlite") as db:
        (count,) = db.execute("SELECT count(*) FROM outbox").fetchone()
    return int(count)


def test_broker_killed_mid_replay_outbox_holds_and_a_new_broker_gets_everything(
    county: Path, env: tuple[Settings, FaultBroker, Processes]
) -> None:
    settings, broker, processes = env
    expected = expected_outcomes(deliveries(county))
    replay = processes.start("replay", "replay", str(county), "--rate", RATE)
    wait_until(lambda: _some_events(settings, broker.bootstrap), 30, "the first events on fh.events")

    pause(replay)  # freeze the publisher only to read what the memory-only broker holds, then kill it
    before = observed(settings, broker.bootstrap)
    broker.kill()
    resume(replay)
    wait_until(lambda: _outbox_backlog(settings.data_dir) > 0, 20, "inputs held in the outbox")
    time.sleep(2)  # the replay goes on ingesting into the outbox while no broker answers
    held = _outbox_backlog(settings.data_dir)
    assert held > 0, "nothing waited in the outbox during the outage"

    broker.start()  # a new, empty broker on the same address
    assert replay.process is not None
    assert replay.process.wait(120) == 0, replay.tail()
    seen = wait_for(settings, broker.bootstrap, expected, earlier=before)
    print(f"held in the outbox during the outage: {held}")
    reconcile(expected, seen)


def _prefix(outcomes: list[Ids], seen: Ids) -> int | None:
    """The k for which `seen` is exactly the outcomes of the first k deliveries, if any."""
    so_far = Ids()
    for k, ids in enumerate([Ids(), *outcomes]):
        so_far.add(ids)
        if so_far.events.keys() == seen.events.keys() and so_far.dead.keys() == seen.dead.keys():
            return k
    return None


def test_publisher_killed_mid_flight_loses_nothing_and_a_restart_completes_it(
    county: Path, env: tuple[Settings, FaultBroker, Processes]
) -> None:
    settings, broker, processes = env
    sent: list[Delivery] = list(deliveries(county))
    outcomes = [delivery_outcomes(d) for d in sent]
    replay = processes.start("replay", "replay", str(county), "--rate", RATE)
    wait_until(lambda: _some_events(settings, broker.bootstrap), 30, "the first events on fh.events")
    time.sleep(1)
    processes.kill9(replay)

    # what the dead process accepted is in its outbox; the next publisher on the data dir sends it
    drained = DurablePublisher(settings, broker.bootstrap).start()
    assert drained.flush(30), "the outbox of the killed process could not be delivered"
    drained.close()
    after_kill = observed(settings, broker.bootstrap)
    k = _prefix(outcomes, after_kill)
    assert k is not None, "what reached Kafka is not whole inputs in order (an input was split by the kill)"
    assert 0 < k < len(sent), f"the kill did not land mid-run ({k} of {len(sent)} inputs)"

    again = processes.start("replay-again", "replay", str(county), "--rate", "max")
    assert again.process is not None
    assert again.process.wait(120) == 0, again.tail()
    expected = expected_outcomes(sent)
    print(f"inputs accepted before the kill: {k} of {len(sent)}")
    reconcile(expected, wait_for(settings, broker.bootstrap, expected))


def test_the_same_input_twice_gives_the_same_ids(
    county: Path, env: tuple[Settings, FaultBroker, Processes]
) -> None:
    settings, broker, processes = env
    expected = expected_outcomes(deliveries(county))
    for name in ("replay-1", "replay-2"):
        run = processes.start(name, "replay", str(county), "--rate", "max")
        assert run.process is not None
        assert run.process.wait(120) == 0, run.tail()
    seen = wait_for(settings, broker.bootstrap, expected)
    reconcile(expected, seen)  # the same ids: a second run that gave other ids would add unexpected ones
    repeated = [i for i, n in seen.events.items() if n > 1]
    assert not repeated, (
        f"{len(repeated)} events were published again: the gateway's ledger (the replay goes through it "
        "as each partner) must recognise the second run's records as duplicates"
    )
