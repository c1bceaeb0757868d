"""Benchmark of the `nems` connector: one STU3 event message (5 resources) converted repeatedly.

Each message is STU3-validated, rewritten as R4 and R4B-validated, so a message costs about
five resources' worth of validation twice over. A NEMS feed is one message per delivery.

Run: python tests/bench/bench_nems.py
"""

from __future__ import annotations

import time
from pathlib import Path

from connectors.base import SourceContext
from connectors.nems.connector import NemsConnector

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "nems" / "vaccination-new.xml"
MESSAGES = 300


def main() -> None:
    connector = NemsConnector()
    data = SAMPLE.read_bytes()
    ctx = SourceContext(partner="bench")
    list(connector.convert(data, ctx))  # warm the model caches
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(MESSAGES):
            list(connector.convert(data, ctx))
        best = min(best, time.perf_counter() - start)
    per = best / MESSAGES
    print(
        f"nems: {MESSAGES} messages in {best * 1000:.0f} ms: {1 / per:,.0f} messages/s, "
        f"{per * 1e6:,.0f} µs per message, {per / 5 * 1e6:,.0f} µs per resource"
    )


if __name__ == "__main__":
    main()
