"""`check_pack`: a county pack is read whole, and every problem names its file, line and field."""

from __future__ import annotations

from pathlib import Path

from schemas.county import CountyPack, SiteKind
from services.county.pack import check_pack
from services.county.problems import Problem
from tests.unit.county.packs import copy_pack, each_pack


def _problems(folder: Path) -> list[Problem]:
    found = check_pack(folder)
    assert isinstance(found, list), "expected problems, the pack was accepted"
    return found


@each_pack()
def test_each_test_pack_is_valid(pack_dir: Path) -> None:
    pack = check_pack(pack_dir)
    assert isinstance(pack, CountyPack), [str(p) for p in pack]  # type: ignore[union-attr]
    assert pack.districts
    assert pack.hub_areas
    assert pack.sites


def test_the_london_pack_has_the_other_shape_one_district_ward_areas_no_delivery_sites() -> None:
    pack = check_pack(Path(__file__).resolve().parents[2] / "data" / "county" / "london")
    assert isinstance(pack, CountyPack)
    assert len(pack.districts) == 1
    assert {rule.field.value for rule in pack.hub_areas} == {"osward"}
    assert not [site for site in pack.sites if site.kind is SiteKind.DELIVERY_SITE]


def test_a_bad_cell_is_reported_with_file_line_and_field(tmp_path: Path) -> None:
    pack = copy_pack("essex", tmp_path)
    sites = pack / "sites.csv"
    lines = sites.read_text().splitlines()
    lines[2] = lines[2].replace("tue 09:30-15:00", "tuesday 9-3")
    sites.write_text("\n".join(lines) + "\n")
    [problem] = _problems(pack)
    assert (problem.file, problem.line, problem.field) == ("sites.csv", 3, "hours")
    assert "mon 09:00-17:00" in problem.message


def test_every_problem_is_reported_not_only_the_first(tmp_path: Path) -> None:
    pack = copy_pack("london", tmp_path)
    (pack / "services.csv").write_text(
        "id,site,name,min_age,max_age,capacity,priority_places\n"
        "a,southall-hub,A,5,1,10,0\n"
        "b,southall-hub,B,0,5,10,11\n"
        "c,nowhere,C,0,5,10,0\n"
    )
    (pack / "teams.csv").write_text("id,name,role,hub_areas\nt,T,wizard,southall;atlantis\n")
    found = {(p.file, p.line, p.field) for p in _problems(pack)}
    assert {("services.csv", 2, ""), ("services.csv", 3, "")} <= found
    # the cross-checks run only once every row is well-formed: fix the rows, then they report
    (pack / "services.csv").write_text(
        "id,site,name,min_age,max_age,capacity,priority_places\nc,nowhere,C,0,5,10,0\n"
    )
    found = {(p.file, p.line, p.field) for p in _problems(pack)}
    assert found == {
        ("services.csv", 2, "site"),
        ("teams.csv", 2, "role"),
        ("teams.csv", 2, "hub_areas"),
    }


def test_a_postcode_no_hub_area_covers_is_a_problem(tmp_path: Path) -> None:
    pack = copy_pack("london", tmp_path)
    with (pack / "postcodes.csv").open("a") as rows:
        rows.write("W7 1AA,W7  1AA,W7 1AA,198001,,0,E09000009,E05013599,E01001250\n")
    [problem] = _problems(pack)
    assert (problem.file, problem.line, problem.field) == ("postcodes.csv", 6, "pcds")
    assert "hub-areas.csv" in problem.message


def test_a_missing_required_file_and_a_dangling_neighbour_are_named(tmp_path: Path) -> None:
    pack = copy_pack("essex", tmp_path)
    (pack / "hub-areas.csv").unlink()
    assert [str(p) for p in _problems(pack)] == ["hub-areas.csv: missing: every pack has this file"]
    pack = copy_pack("london", tmp_path)
    (pack / "districts.csv").write_text("code,name,neighbours\nE09000009,Ealing,E09000017\n")
    assert [str(p) for p in _problems(pack)] == [
        "districts.csv:2 neighbours: E09000017 is not a district in districts.csv"
    ]


def test_a_manifest_problem_points_at_its_line(tmp_path: Path) -> None:
    pack = copy_pack("london", tmp_path)
    (pack / "county.toml").write_text('id = "ealing"\nname = "Ealing"\nversion = "1"\ncolour = "red"\n')
    [problem] = _problems(pack)
    assert (problem.file, problem.line, problem.field) == ("county.toml", 4, "colour")
