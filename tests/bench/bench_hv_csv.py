"""Benchmark of the `hv-csv` connector: 2,000 rows built from the sample's rows.

Run: python tests/bench/bench_hv_csv.py
"""

from __future__ import annotations

from pathlib import Path

from bench_support import report

from connectors.hv_csv.connector import HvCsvConnector

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "hv-csv" / "hv-reviews.csv"
ROWS = 2000


def batch() -> bytes:
    """The sample's rows repeated under fresh record ids (same people: figures per person repeat)."""
    header, *rows = SAMPLE.read_text().splitlines(keepends=True)
    body = [rows[n % len(rows)].replace("HV-0001", f"HV-{n:05d}-", 1) for n in range(ROWS)]
    return (header + "".join(body)).encode()


if __name__ == "__main__":
    report(HvCsvConnector(), batch())
