"""Connector conversion and validation throughput per format, on the shipped sample inputs.

Each sample is converted repeatedly until enough records have passed, so small samples still give
stable figures; the validation cache is cleared before every pass, so only reuse within one input
(the same Patient in each event of a record) is counted. One pass before the timed ones is not
counted: it pays for importing the fhir.resources models the format needs, once per process. Only
conversion is timed: no Kafka, no disk.
"""

from __future__ import annotations

from pathlib import Path

from connectors import registry
from connectors.base import Rejection, SourceContext
from connectors.common.fhir_validation import clear_validation_cache
from services.bench.measure import Figure, timed


def conversion(samples: Path, min_records: int = 2000) -> list[Figure]:
    figures = []
    for fmt in registry.formats():
        files = [
            p for p in sorted((samples / fmt).glob("*")) if p.is_file() and not p.name.startswith("invalid")
        ]
        if not files:
            continue
        connector = registry.get(fmt)
        inputs = [p.read_bytes() for p in files]
        ctx = SourceContext(partner="bench")
        for data in inputs:  # untimed: the first pass imports the models this format needs
            list(connector.convert(data, ctx))
        records = events = 0
        with timed() as t:
            while records < min_records:
                clear_validation_cache()  # each pass pays for validation again, as new input would
                for data in inputs:
                    for outcome in connector.convert(data, ctx):
                        records += 1
                        events += not isinstance(outcome, Rejection)
        figures.append(
            Figure(f"convert: {fmt}", records, t.wall_s, t.cpu_s, unit="record", notes={"events": events})
        )
    return figures
