"""Pace a stream of work at a steady rate, for replays and load generators."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

from schemas.errors import ConfigurationError


def parse_rate(text: str) -> float | None:
    """'500/s', '500', '30000/min' or 'max' (None: as fast as possible)."""
    if text.strip().lower() in {"max", "unlimited"}:
        return None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:/\s*(s|sec|second|m|min|minute))?\s*", text.lower())
    if not match or float(match[1]) <= 0:
        raise ConfigurationError(f"rate '{text}' is not like '500/s', '30000/min' or 'max'")
    per_second = float(match[1])
    return per_second / 60 if match[2] in {"m", "min", "minute"} else per_second


class Pacer:
    """Call `wait()` before each item; sleeps so the long-run rate stays at `per_second`.

    Thread-safe: feeders on several threads sharing one pacer keep the rate together (each
    `wait()` takes the next slot), as partners sending side by side add up to one load."""

    def __init__(
        self,
        per_second: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 1 / per_second if per_second else 0.0
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = clock()

    def wait(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = self._clock()
            slot = self._next
            self._next = max(self._next, now - 1.0) + self._interval  # catch up at most one second of lag
        if slot > now:
            self._sleep(slot - now)

    def add(self, items: int) -> None:
        """Count `items` more (fewer, when negative) against the rate than the `wait()`s did: an
        item that turned out to be several events, when the rate is in events."""
        with self._lock:
            self._next += items * self._interval
