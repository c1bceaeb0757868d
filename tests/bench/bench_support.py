"""Timing loop shared by the connector benchmark scripts: convert (split, map, validate) a batch
several times and print records/s and µs per record. A script, not a timed test.

The collector is set as in the processes that run connectors (`hubnet listen`, `serve ingest`,
`watch`, `replay` call services/core/heap.py `settle()` once started); `--default-gc` measures
with CPython's defaults instead."""

from __future__ import annotations

import sys
import time

from connectors.base import Connector, Rejection, SourceContext
from connectors.common.fhir_validation import clear_validation_cache
from services.core import heap


def report(connector: Connector, data: bytes, rounds: int = 5, target: float | None = None) -> None:
    """Print CPU time per record (best and worst of `rounds`: the first round also pays one-off
    start-up work, the rest of the spread is the noise of a shared machine) and the best wall-clock
    time; with `target` (records/s per core), whether the best CPU figure meets it. Targets are per
    core, so CPU time is the figure that counts."""
    if "--default-gc" not in sys.argv:
        heap.settle()
    ctx = SourceContext(partner="bench")
    cpu: list[float] = []
    wall = float("inf")
    records = events = 0
    for _ in range(rounds):
        clear_validation_cache()  # each pass pays for validation again, as new input would
        start, start_cpu = time.perf_counter(), time.process_time()
        outcomes = list(connector.convert(data, ctx))
        cpu.append(time.process_time() - start_cpu)
        wall = min(wall, time.perf_counter() - start)
        rejected = sum(isinstance(o, Rejection) for o in outcomes)
        if rejected:
            raise SystemExit(f"{rejected} records rejected: the benchmark input must be valid")
        events = len(outcomes)
        records = len(list(connector.split(data)))
    best, worst = min(cpu), max(cpu)
    verdict = ""
    if target is not None:
        verdict = f"; target {target:,.0f}/s per core: {'met' if records / best >= target else 'MISSED'}"
    print(
        f"{connector.name}: {records} records -> {events} events; "
        f"CPU {best * 1000:.1f}-{worst * 1000:.1f} ms: "
        f"{records / best:,.0f} records/s ({records / worst:,.0f} worst of {rounds}), "
        f"{best / records * 1e6:,.0f}-{worst / records * 1e6:,.0f} µs per record, "
        f"{best / events * 1e6:,.0f} µs per event; wall best {records / wall:,.0f} records/s{verdict}"
    )
