"""The pipeline benchmark's feeders: partners side by side, each in order, offering one load together."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from services.bench.pipeline import FEEDERS, _lanes
from services.ingest.pacing import Pacer
from services.synthetic.replay import Delivery


class StoppedClock:
    """Time stands still; every sleep asked for is noted (so each is the slot's distance)."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return 0.0

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.asked.append(seconds)


def test_feeders_sharing_a_pacer_take_each_slot_once() -> None:
    clock = StoppedClock()
    pacer = Pacer(100.0, clock=clock, sleep=clock.sleep)

    def feed() -> None:
        for _ in range(25):
            pacer.wait()

    threads = [threading.Thread(target=feed) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    slots = sorted(round(s * 100) for s in clock.asked)
    assert slots == list(range(1, 100)), (
        "100 items at 100/s from four feeders: one slot each (the first is now)"
    )


def test_items_added_after_the_fact_move_the_next_slot_on() -> None:
    clock = StoppedClock()
    pacer = Pacer(10.0, clock=clock, sleep=clock.sleep)
    pacer.wait()
    pacer.add(3)  # that record held four events
    pacer.wait()
    assert clock.asked == [pytest.approx(0.4)]


def test_each_partner_stays_in_one_lane_in_order() -> None:
    at = datetime(2025, 1, 1, tzinfo=UTC)
    batch = [Delivery(f"P{i % 7}", "hl7v2", b"%d" % i, at, "f") for i in range(70)]
    lanes = _lanes(batch)
    assert len(lanes) == FEEDERS
    assert sorted(d.data for lane in lanes for d in lane) == sorted(d.data for d in batch)
    for lane in lanes:
        for partner in {d.partner for d in lane}:
            assert [d for d in lane if d.partner == partner] == [d for d in batch if d.partner == partner]
        assert all(
            d.partner not in {e.partner for e in other} for other in lanes if other is not lane for d in lane
        )
