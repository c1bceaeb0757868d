"""Benchmark of `ssda903`: 2,000 episode rows and 2,000 missing rows from the synthetic samples.

Run: python tests/bench/bench_ssda903.py
"""

from __future__ import annotations

from pathlib import Path

from bench_support import report

from connectors.social_care.connector import Ssda903Connector

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "ssda903"
ROWS = 2000


def batch(name: str) -> bytes:
    """A sample table's rows repeated under fresh CHILD ids."""
    header, *rows = (SAMPLES / name).read_text().splitlines(keepends=True)
    body = [rows[n % len(rows)].replace("P-", f"B{n:05d}-", 1) for n in range(ROWS)]
    return (header + "".join(body)).encode()


if __name__ == "__main__":
    report(Ssda903Connector(), batch("episodes.csv"))
    report(Ssda903Connector(), batch("missing.csv"))
