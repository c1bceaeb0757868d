"""Reading back what hubnet wrote, from the real broker."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from services.core.settings import Settings
from services.core.topic_reader import read_to_end


def read_until(
    settings: Settings,
    bootstrap: str,
    topic: str,
    condition: Callable[[list[Any]], bool],
    timeout_s: float = 30.0,
) -> list[Any]:
    """Every record of a topic, re-reading until `condition(records)` holds or the time is up."""
    deadline = time.monotonic() + timeout_s
    while True:
        records = list(read_to_end(settings, bootstrap, topic))
        if condition(records) or time.monotonic() > deadline:
            return records
        time.sleep(0.2)


def read_all(
    settings: Settings, bootstrap: str, topic: str, expected: int, timeout_s: float = 30.0
) -> list[Any]:
    """Every record of a topic, re-reading until at least `expected` are there (delivery is asynchronous)."""
    return read_until(settings, bootstrap, topic, lambda records: len(records) >= expected, timeout_s)
