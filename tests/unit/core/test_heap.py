"""The collector settings every long-running hubnet process applies once started."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from services.core import heap


@pytest.fixture
def restored() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored")
def test_settle_freezes_what_exists_and_spaces_out_young_collections() -> None:
    survivor = [object() for _ in range(1000)]
    gc.unfreeze()
    heap.settle()
    assert gc.get_freeze_count() >= len(survivor), "the start-up heap is out of the collector's walks"
    assert gc.get_threshold()[0] == heap.YOUNG_GC_THRESHOLD
    assert gc.get_threshold()[1:] == (10, 10), "the older generations keep CPython's ratios"
