"""Benchmark of `cin-census`: 500 children (1,000 episodes) built from the synthetic sample.

Run: python tests/bench/bench_cin_census.py
"""

from __future__ import annotations

import re
from pathlib import Path

from bench_support import report

from connectors.social_care.connector import CinCensusConnector

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "cin-census" / "cin-census-2025.xml"
COPIES = 250


def batch() -> bytes:
    """The sample's children repeated under fresh LA child ids."""
    text = SAMPLE.read_text()
    start, end = text.index("<Child>"), text.rindex("</Children>")
    children = text[start:end]
    copies = [re.sub(r"<LAchildID>P-", f"<LAchildID>B{n:04d}-", children) for n in range(COPIES)]
    return (text[:start] + "".join(copies) + text[end:]).encode()


if __name__ == "__main__":
    report(CinCensusConnector(), batch())
