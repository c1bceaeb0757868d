"""Benchmark of `hubnet generate`: families, records and files a second for a county.

Run: python tests/bench/bench_synthetic.py [FAMILIES]   (default 2,000; the issue's target is
10,000 families in under a minute). A script, not a timed test.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from services.synthetic.county import Options, generate


def main(families: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        manifest = generate(Options(families=families, seed=1), Path(folder) / "county")
        took = time.perf_counter() - start
    counts = manifest["counts"]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"synthetic county: {families} families -> {counts['records']} records in {counts['files']} files "
        f"in {took:.1f} s: {families / took:,.0f} families/s, {counts['records'] / took:,.0f} records/s, "
        f"{took / counts['records'] * 1e6:,.1f} µs per record, peak memory {peak_mb:,.0f} MB"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
