"""Workers follow the newest loaded county pack without a restart, polling the store's version."""

from __future__ import annotations

from pathlib import Path

from services.county.current import CurrentCounty
from services.county.pack import read_pack
from services.county.store import CountyStore
from tests.unit.county.packs import PACKS_DIR


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_no_pack_loaded_means_no_hub_area_for_any_postcode(tmp_path: Path) -> None:
    current = CurrentCounty(CountyStore.in_data_dir(tmp_path), poll_s=10)
    assert current.hub_area("CO15 1AB") is None
    assert current.version == 0


def test_a_pack_loaded_by_another_process_is_picked_up_at_the_next_poll(tmp_path: Path) -> None:
    clock = _Clock()
    current = CurrentCounty(CountyStore.in_data_dir(tmp_path), poll_s=10, clock=clock)
    loader = CountyStore.in_data_dir(tmp_path)  # `hubnet county load`, elsewhere
    loader.add(read_pack(PACKS_DIR / "essex"), loaded_by="admin")
    assert current.hub_area("CO15 2QT") == "jaywick"
    loader.add(read_pack(PACKS_DIR / "london"), loaded_by="admin")
    clock.now = 9.0
    assert current.hub_area("CO15 2QT") == "jaywick"  # not asked again within the poll interval
    clock.now = 10.0
    assert current.hub_area("CO15 2QT") is None
    assert current.hub_area("UB1 1AB") == "southall"
    assert current.version == 2
    loader.close()
