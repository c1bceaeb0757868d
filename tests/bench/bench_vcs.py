"""Benchmark of `vcs-json` and `vcs-csv`: 2,000 activity records built from the synthetic samples.

Run: python tests/bench/bench_vcs.py
"""

from __future__ import annotations

from pathlib import Path

import orjson
from bench_support import report

from connectors.vcs.connector import VcsCsvConnector, VcsJsonConnector

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
RECORDS = 2000


def csv_batch() -> bytes:
    """The sample's rows repeated under fresh record ids."""
    header, *rows = (SAMPLES / "vcs-csv" / "activity.csv").read_text().splitlines(keepends=True)
    body = [f"B-{n:05d}" + rows[n % len(rows)][rows[n % len(rows)].index(",") :] for n in range(RECORDS)]
    return (header + "".join(body)).encode()


def json_batch() -> bytes:
    """The sample's objects repeated, as one array, under fresh record ids."""
    items = orjson.loads((SAMPLES / "vcs-json" / "activity.json").read_bytes())
    return orjson.dumps([{**items[n % len(items)], "record_id": f"B-{n:05d}"} for n in range(RECORDS)])


if __name__ == "__main__":
    report(VcsJsonConnector(), json_batch())
    report(VcsCsvConnector(), csv_batch())
