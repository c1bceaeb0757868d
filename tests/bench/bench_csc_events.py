"""Benchmark of `csc-events`: 2,000 case event rows built from the synthetic sample's rows.

Run: python tests/bench/bench_csc_events.py
"""

from __future__ import annotations

from pathlib import Path

from bench_support import report

from connectors.social_care.connector import CscEventsConnector

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "csc-events" / "case-events.csv"
ROWS = 2000


def batch() -> bytes:
    """The sample's rows repeated under fresh record ids (same children, so events repeat per child)."""
    header, *rows = SAMPLE.read_text().splitlines(keepends=True)
    body = [rows[n % len(rows)].replace("EV-", f"B{n:05d}-", 1) for n in range(ROWS)]
    return (header + "".join(body)).encode()


if __name__ == "__main__":
    report(CscEventsConnector(), batch())
