"""The pack's reference files (`[reference]` in county.toml): checked with the pack, each problem
with the file and line, and loaded into the reference store all or nothing per kind."""

from __future__ import annotations

from pathlib import Path

from services.county.pack import check_pack, read_pack
from services.county.problems import Problem
from services.county.reference import load_reference, read_reference
from services.reference.store import ReferenceStore
from tests.unit.county.packs import copy_pack


def _problems(pack: Path) -> list[Problem]:
    found = check_pack(pack)
    assert isinstance(found, list), "expected problems, the pack was accepted"
    return found


def _manifest(pack: Path, reference: str) -> None:
    head = 'id = "essex"\nname = "Essex"\nversion = "1"\n'
    (pack / "county.toml").write_text(f"{head}\n[reference]\n{reference}")


def test_a_bad_row_of_a_reference_file_is_reported_with_its_file_and_line(tmp_path: Path) -> None:
    pack = copy_pack("essex", tmp_path)
    with (pack / "reference" / "etr.csv").open("a") as rows:
        rows.write('"not a code","X"\n"R1F",""\n')
    assert [str(p) for p in _problems(pack)] == [
        "reference/etr.csv:3 column 1: 'not a code' is not an ODS organisation code",
        "reference/etr.csv:4 column 2: the name of R1F is empty",
    ]


def test_a_reference_entry_naming_no_kind_no_file_or_a_file_outside_the_pack(tmp_path: Path) -> None:
    pack = copy_pack("essex", tmp_path)
    (tmp_path / "etr.csv").write_text('"RDE","TRUST"\n')
    _manifest(pack, 'trusts = "reference/etr.csv"\ngias = "reference/gias.csv"\netr = "../etr.csv"\n')
    found = [(p.file, p.line, p.field, p.message.split(":")[0]) for p in _problems(pack)]
    assert found == [
        ("county.toml", 6, "reference.trusts", "trusts is not a kind of reference data; use one of"),
        ("county.toml", 7, "reference.gias", "reference/gias.csv is not in the pack"),
        ("county.toml", 8, "reference.etr", "../etr.csv is outside the pack"),
    ]


def test_load_reference_replaces_each_kind_and_says_what_changed(tmp_path: Path) -> None:
    pack = copy_pack("essex", tmp_path)
    rows, problems = read_reference(pack, read_pack(pack).manifest.reference)
    assert problems == []
    store = ReferenceStore.open(tmp_path / "reference.sqlite")
    store.replace("etr", [("RXX", "AN OLD TRUST"), ("RYY", "ANOTHER"), ("RZZ", "A THIRD")])
    [change] = load_reference(store, rows)
    assert (change.kind, change.before, change.after) == ("etr", 3, 2)
    assert store.name_of("RDE") == "EAST SUFFOLK AND NORTH ESSEX NHS FOUNDATION TRUST"
    assert store.name_of("RXX") is None
    store.close()
