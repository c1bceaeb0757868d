"""A worker is stalled when it holds messages and commits nothing for the set time, never when idle."""

from __future__ import annotations

from prometheus_client import REGISTRY

from services.streams.progress import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def stalled_gauge(worker: str) -> float | None:
    return REGISTRY.get_sample_value("hubnet_worker_stalled", {"worker": worker})


def test_an_idle_worker_is_never_stalled_however_long_it_waits() -> None:
    clock = Clock()
    progress = Progress("idle-worker", clock=clock)
    clock.now += 3600
    assert progress.stalled_for() == 0.0
    assert progress.problem(120) is None
    assert stalled_gauge("idle-worker") == 0


def test_work_in_hand_with_nothing_committed_past_the_limit_is_a_stall_naming_the_last_error() -> None:
    clock = Clock()
    progress = Progress("held-worker", clock=clock)
    clock.now += 3600  # idle for an hour, then work arrives: stall time counts from its arrival
    progress.took(500)
    clock.now += 119
    assert progress.problem(120) is None
    progress.failed(TimeoutError("database is locked"))
    clock.now += 2
    problem = progress.problem(120)
    assert problem is not None
    assert "held-worker stalled: 500 messages in hand" in problem
    assert "nothing committed for 121 s" in problem
    assert "TimeoutError: database is locked" in problem
    assert stalled_gauge("held-worker") == 1


def test_a_committed_unit_ends_the_stall_and_counts_the_work() -> None:
    clock = Clock()
    progress = Progress("busy-worker", clock=clock)
    progress.took(10)
    clock.now += 500
    assert progress.problem(120) is not None
    progress.done(10)
    assert progress.problem(120) is None
    assert progress.done_total == 10
    assert progress.last_error is None
    progress.took(5)  # the next batch starts its own clock at the last commit
    clock.now += 60
    assert progress.stalled_for() == 60
