"""The collector settings every long-running hubnet process applies once started."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.cli.timeline import serve_api
from services.core import heap
from services.core.broker import free_port


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


@pytest.mark.usefixtures("restored")
def test_serve_api_settles_its_heap_before_serving(
    bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`hubnet serve api` (the staff API and pages) settles once its app is built: a family page
    makes thousands of short-lived dicts, and unsettled they set off walks of the whole heap."""
    import uvicorn

    seen: list[tuple[int, int]] = []
    monkeypatch.setattr(
        uvicorn, "run", lambda *a, **k: seen.append((gc.get_freeze_count(), gc.get_threshold()[0]))
    )
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", bootstrap)
    monkeypatch.setenv("HUBNET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HUBNET_SESSION_SECRET", "s" * 64)
    gc.unfreeze()
    serve_api(port=free_port())
    assert len(seen) == 1
    frozen, young = seen[0]
    assert frozen > 0, "the start-up heap is out of the collector's walks"
    assert young == heap.YOUNG_GC_THRESHOLD
