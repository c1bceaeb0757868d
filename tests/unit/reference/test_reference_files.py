"""Reference files in their publishers' layouts: read, refused with line and column, and the demo
county's own files load into the store through the same path a real county uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.county.pack import read_pack
from services.county.reference import load_reference, read_reference
from services.reference.files import COUNTY_FILES, ReferenceFileError, read
from services.reference.store import ReferenceStore
from services.stack.demo_traffic import ensure_county
from services.synthetic.county_pack import PACK_DIR
from services.synthetic.partners import build_directory
from services.synthetic.reference_files import write_reference

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
EPRACCUR = (
    '"F81001","THE CLACTON SURGERY","Y61","QHM","1 HIGH ST","","CLACTON","ESSEX","","CO15 1AA",'
    '"19740401","","A","B","M1","19740401","","01255 000000","","","","0","","4","","4",""\r\n'
)


def test_ods_file_without_header_reads_code_and_name() -> None:
    assert read("epraccur", EPRACCUR.encode()) == [("F81001", "THE CLACTON SURGERY")]


def test_ods_file_problems_name_line_and_column() -> None:
    with pytest.raises(ReferenceFileError) as refused:
        read("etr", b'"RDE","TRUST"\n"not a code","X"\n"R1F",""\n')
    assert "line 2, column 1: 'not a code' is not an ODS organisation code" in str(refused.value)
    assert "line 3, column 2: the name of R1F is empty" in str(refused.value)


def test_gias_file_without_its_columns_is_refused() -> None:
    with pytest.raises(ReferenceFileError, match="line 1: the header has no URN or EstablishmentName column"):
        read("gias", b"Name,Code\nx,1\n")


def test_oruk_directory_gives_charity_numbers() -> None:
    rows = read("oruk", (SAMPLES / "oruk" / "directory.json").read_bytes())
    assert rows == [("1234567", "Example County Family Hubs")]


def test_demo_county_reference_files_load(tmp_path: Path) -> None:
    write_reference(tmp_path, build_directory())
    rows, problems = read_reference(
        tmp_path, {kind: f"reference/{name}" for kind, name in COUNTY_FILES.items()}
    )
    assert problems == []
    store = ReferenceStore.open(tmp_path / "reference.sqlite")
    loaded = {change.kind: change.after for change in load_reference(store, rows)}
    assert set(loaded) == {"epraccur", "etr", "gias", "districts", "oruk"}
    assert store.name_of("1900101") == "Essex Community Food Banks"
    assert store.name_of("R9W") == "WEST ESSEX HOSPITAL NHS TRUST"
    assert store.name_of("E07000076") == "Tendring"
    assert store.name_of("F89999") is None
    store.close()


def test_a_demo_county_generated_before_reference_files_gets_them_in_its_pack(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")  # an older county: no reference/
    pack = read_pack(ensure_county(tmp_path) / PACK_DIR)
    rows, problems = read_reference(tmp_path / PACK_DIR, pack.manifest.reference)
    assert problems == []
    store = ReferenceStore.open(tmp_path / "reference.sqlite")
    assert {change.kind: change.after for change in load_reference(store, rows)}["gias"] > 0
    store.close()


def test_a_problem_after_a_cell_spanning_lines_names_the_line_a_spreadsheet_shows() -> None:
    data = 'URN,EstablishmentName\n100001,"Clacton\nPrimary"\n\n12,Bad\n'.encode("cp1252")
    with pytest.raises(ReferenceFileError) as refused:
        read("gias", data)
    assert [str(p) for p in refused.value.problems] == ["line 5, column 1 (URN): '12' is not valid"]
