"""The county store keeps every loaded pack as a numbered version in real SQLite: nothing overwritten."""

from __future__ import annotations

from pathlib import Path

from services.county.pack import read_pack
from services.county.store import CountyStore
from tests.unit.county.packs import PACKS_DIR


def test_each_load_is_a_new_version_and_earlier_versions_stay_readable(tmp_path: Path) -> None:
    store = CountyStore.in_data_dir(tmp_path)
    assert store.latest_version() == 0
    assert store.get() is None
    essex, london = read_pack(PACKS_DIR / "essex"), read_pack(PACKS_DIR / "london")
    assert store.add(essex, loaded_by="alice") == 1
    assert store.add(london, loaded_by="bob") == 2
    store.close()
    reopened = CountyStore.in_data_dir(tmp_path)  # another process sees the same versions
    latest, first = reopened.get(), reopened.get(1)
    assert latest is not None
    assert first is not None
    assert (latest.version, latest.loaded_by, latest.pack) == (2, "bob", london)
    assert (first.version, first.loaded_by, first.pack) == (1, "alice", essex)
    reopened.close()
