"""Garbage-collector settings for hubnet's long-running processes: workers, the MLLP listener, the
ingestion API, the staff API and pages, the file drop and replays.

CPython's cyclic collector walks every tracked object of a generation each time it collects it.
By default the youngest generation is collected every 700 allocations, and the oldest whenever it
has grown by a quarter. Both hurt a hubnet process, which keeps a large, long-lived heap (modules,
pydantic and fhir.resources classes, bounded caches of validated FHIR elements, a worker's
tables) and makes thousands of short-lived dicts and models per message:
- workers keep a batch of hundreds of parsed events alive until it is committed, and the young
  collections walked them again and again (resolving batches of 500: 324 -> 291 µs per event);
- converters promote cached FHIR elements into the oldest generation, and its collections walked
  the whole cache (HL7 v2 conversion: figures in docs/connectors/hl7v2.md).

`settle()` once start-up is done: what exists then lives as long as the process, so `gc.freeze`
takes it out of the collector's generations; a young generation of `YOUNG_GC_THRESHOLD`
allocations makes the young and middle collections (and with them the oldest) ~30 times rarer.
Reference counting still frees everything that is not in a cycle at once, so memory between
collections grows only by the cyclic garbage of that many allocations.
"""

from __future__ import annotations

import gc

YOUNG_GC_THRESHOLD = 20_000
"""Allocations between two collections of the youngest generation (CPython's default is 700)."""


def settle() -> None:
    """Freeze the start-up heap and space out collections; call once, when start-up is done."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GC_THRESHOLD)
