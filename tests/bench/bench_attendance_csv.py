"""Benchmark of the `attendance-csv` connector: 2,000 rows built from the synthetic sample's rows.

Run: python tests/bench/bench_attendance_csv.py
"""

from __future__ import annotations

from pathlib import Path

from bench_support import report

from connectors.education.connector import AttendanceCsvConnector

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "attendance-csv" / "attendance-return.csv"
ROWS = 2000


def batch() -> bytes:
    """The sample's rows repeated under fresh record ids (same pupils: figures per pupil repeat)."""
    header, *rows = SAMPLE.read_text().splitlines(keepends=True)
    body = [rows[n % len(rows)].replace("ATT-2024A-", f"ATT-{n:05d}-", 1) for n in range(ROWS)]
    return (header + "".join(body)).encode()


if __name__ == "__main__":
    report(AttendanceCsvConnector(), batch())
