"""Benchmark of the ORUK directory import (`load_directory`): a 1,000-service API page built from
the synthetic sample, each service with its organisation and location, through catalogue checks
and FHIR validation of every resource.

Run: python tests/bench/bench_oruk.py
"""

from __future__ import annotations

import time
from pathlib import Path

import orjson

from connectors.oruk.importer import load_directory

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "oruk" / "directory.json"
SERVICES = 1000
ROUNDS = 3


def page() -> bytes:
    """The sample's services repeated under fresh ids (organisation and location shared)."""
    body = orjson.loads(SAMPLE.read_bytes())
    items = body["contents"]
    body["contents"] = [{**items[n % len(items)], "id": f"svc-{n:05d}"} for n in range(SERVICES)]
    return orjson.dumps(body)


def main() -> None:
    data = page()
    best = float("inf")
    resources = 0
    for _ in range(ROUNDS):
        start = time.perf_counter()
        result = load_directory(data)
        best = min(best, time.perf_counter() - start)
        if result.rejections:
            raise SystemExit(f"{len(result.rejections)} records rejected: the benchmark input must be valid")
        resources = len(result.resources)
    print(
        f"oruk: {SERVICES} services -> {resources} resources in {best * 1000:.1f} ms: "
        f"{SERVICES / best:,.0f} services/s, {best / SERVICES * 1e6:,.0f} µs per service"
    )


if __name__ == "__main__":
    main()
