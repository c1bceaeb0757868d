"""`load_pack`: one load puts the pack's tables and reference names in the stores and reports what
changed; the digest names exactly the files that were loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.county.loading import load_pack, loaded_record, pack_digest
from services.county.pack import read_pack
from services.county.problems import PackError
from services.county.store import CountyStore
from services.reference.store import ReferenceStore
from tests.unit.county.packs import copy_pack


def test_digest_is_the_same_for_the_same_files_and_changes_with_any_of_them(tmp_path: Path) -> None:
    pack_dir = copy_pack("essex", tmp_path)
    pack = read_pack(pack_dir)
    same = copy_pack("essex", tmp_path / "again")
    assert pack_digest(pack_dir, pack) == pack_digest(same, pack)
    with (same / "reference" / "etr.csv").open("a") as rows:
        rows.write('"R1H","ANOTHER TRUST"\n')
    assert pack_digest(pack_dir, pack) != pack_digest(same, pack)


def test_load_reports_counts_before_and_after_and_the_record_names_ids_only(tmp_path: Path) -> None:
    county, names = CountyStore.in_data_dir(tmp_path), ReferenceStore.open(tmp_path / "reference.sqlite")
    london = read_pack(copy_pack("london", tmp_path))
    load_pack(tmp_path / "london", london, "amy", county, names)
    essex_dir = copy_pack("essex", tmp_path)
    essex = read_pack(essex_dir)
    report = load_pack(essex_dir, essex, "amy", county, names)
    assert report.version == 2
    assert report.counts["districts"] == (1, 3)
    assert report.counts["sign-in rules"] == (0, 4)
    assert [(c.kind, c.before, c.after) for c in report.reference] == [("etr", 0, 2)]
    record = loaded_record(essex, report, "amy")
    areas = len({rule.hub_area for rule in london.hub_areas})
    assert (record.actor, record.action, record.target) == ("amy", "county.load", "county-pack:essex@2")
    assert record.reason == (
        f"version '2026-12-demo', sha256 {report.digest}: districts 3 (was 1), hub areas 4 (was {areas}), "
        f"postcodes {len(essex.postcodes)} (was {len(london.postcodes)}), sites {len(essex.sites)} "
        f"(was {len(london.sites)}), services {len(essex.services)} (was {len(london.services)}), "
        f"teams {len(essex.teams)} (was {len(london.teams)}), sign-in rules 4 (was 0), names etr 2 (was 0)"
    )
    county.close()
    names.close()


def test_a_reference_file_broken_after_the_check_stores_nothing(tmp_path: Path) -> None:
    pack_dir = copy_pack("essex", tmp_path)
    pack = read_pack(pack_dir)
    (pack_dir / "reference" / "etr.csv").write_text('"bad code","X"\n')
    county, names = CountyStore.in_data_dir(tmp_path), ReferenceStore.open(tmp_path / "reference.sqlite")
    with pytest.raises(PackError) as refused:
        load_pack(pack_dir, pack, "amy", county, names)
    assert [str(p) for p in refused.value.problems] == [
        "reference/etr.csv:1 column 1: 'bad code' is not an ODS organisation code"
    ]
    assert county.latest_version() == 0
    assert names.rows("etr") == []
    county.close()
    names.close()
