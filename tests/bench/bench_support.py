"""Timing loop shared by the connector benchmark scripts: convert (split, map, validate) a batch
several times and print records/s and µs per record. A script, not a timed test."""

from __future__ import annotations

import time

from connectors.base import Connector, Rejection, SourceContext
from connectors.common.fhir_validation import clear_validation_cache


def report(connector: Connector, data: bytes, rounds: int = 5) -> None:
    """Print the best of `rounds` runs, so a busy shared machine skews the figure less."""
    ctx = SourceContext(partner="bench")
    best = float("inf")
    records = events = 0
    for _ in range(rounds):
        clear_validation_cache()  # each pass pays for validation again, as new input would
        start = time.perf_counter()
        outcomes = list(connector.convert(data, ctx))
        best = min(best, time.perf_counter() - start)
        rejected = sum(isinstance(o, Rejection) for o in outcomes)
        if rejected:
            raise SystemExit(f"{rejected} records rejected: the benchmark input must be valid")
        events = len(outcomes)
        records = len(list(connector.split(data)))
    print(
        f"{connector.name}: {records} records -> {events} events in {best * 1000:.1f} ms: "
        f"{records / best:,.0f} records/s, {best / records * 1e6:,.0f} µs per record, "
        f"{best / events * 1e6:,.0f} µs per event"
    )
