from __future__ import annotations

import pytest

from schemas.errors import ConfigurationError
from services.ingest.pacing import Pacer, parse_rate


@pytest.mark.parametrize(
    ("text", "rate"), [("500/s", 500.0), ("500", 500.0), ("30000/min", 500.0), ("max", None)]
)
def test_rates_are_read_in_the_forms_people_write(text: str, rate: float | None) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["fast", "-5/s", "0", "5/h"])
def test_a_bad_rate_says_what_is_expected(text: str) -> None:
    with pytest.raises(ConfigurationError, match="500/s"):
        parse_rate(text)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += seconds


def test_pacer_holds_the_long_run_rate() -> None:
    clock = FakeClock()
    pacer = Pacer(100.0, clock=clock, sleep=clock.sleep)
    for _ in range(1000):
        pacer.wait()
    assert clock.now == pytest.approx(9.99, abs=0.02)


def test_pacer_catches_up_at_most_one_second_after_a_stall() -> None:
    clock = FakeClock()
    pacer = Pacer(10.0, clock=clock, sleep=clock.sleep)
    pacer.wait()
    clock.now += 30.0  # the broker stalled for 30 s
    unslept = 0
    while True:
        before = clock.slept
        pacer.wait()
        if clock.slept > before:
            break
        unslept += 1
    assert 9 <= unslept <= 11, "a burst of about one second's worth (10 items), not 30 seconds' worth"
