"""`hubnet generate --pack DIR`: the synthetic families live inside a county pack's geography, for
each test pack (tests/unit/county/packs.py): at the pack's postcodes that a hub area covers, near
its sites, served by partners of its districts; the output's `county-pack/` is that pack."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from services.cli.main import app
from services.county.geography import hub_area_lookup
from services.county.pack import read_pack
from services.synthetic.county import GenerateError, Options, generate
from services.synthetic.county_pack import PACK_DIR
from services.synthetic.pack_geography import PackGeographyError
from tests.unit.county.packs import PACKS_DIR, copy_pack, each_pack

FAMILIES = 6
END = date(2025, 3, 31)
POSTCODE = re.compile(rb"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b")


def _generated(pack_dir: Path, out: Path, seed: int = 11) -> Path:
    generate(Options(families=FAMILIES, seed=seed, end=END, pack=pack_dir), out)
    return out


@each_pack()
def test_every_postcode_partners_send_is_one_the_pack_places_in_a_hub_area(
    pack_dir: Path, tmp_path: Path
) -> None:
    out = _generated(pack_dir, tmp_path / "county")
    lookup = hub_area_lookup(read_pack(pack_dir))
    sent = {
        m.decode()
        for f in (out / "feeds").rglob("*")
        if f.is_file()
        for m in POSTCODE.findall(f.read_bytes())
    }
    assert sent, "the feeds name the families' postcodes"
    assert {code for code in sent if lookup.hub_area(code) is None} == set()


@each_pack()
def test_the_county_is_the_packs_districts_sites_and_pack(pack_dir: Path, tmp_path: Path) -> None:
    out = _generated(pack_dir, tmp_path / "county")
    pack = read_pack(pack_dir)
    county = orjson.loads((out / "county.json").read_bytes())
    assert county["county"] == pack.manifest.name
    assert {d["code"] for d in county["districts"]} <= {d.code for d in pack.districts}
    sites = county["family_hubs"] + county["delivery_sites"]
    assert {s["site_id"] for s in sites} == {s.id for s in pack.sites}
    names = {d["name"] for d in county["districts"]}
    for partner in orjson.loads((out / "partners.json").read_bytes()):
        assert partner["districts"], partner["code"]
        assert set(partner["districts"]) <= names, partner["code"]
    assert read_pack(out / PACK_DIR) == pack


@each_pack()
def test_the_same_seed_and_pack_give_byte_identical_files(pack_dir: Path, tmp_path: Path) -> None:
    first = _generated(pack_dir, tmp_path / "one")
    again = _generated(pack_dir, tmp_path / "two")
    assert _digest(first) == _digest(again)
    assert _digest(_generated(pack_dir, tmp_path / "three", seed=12)) != _digest(first)


def test_a_broken_pack_is_refused_naming_its_file_before_anything_is_written(tmp_path: Path) -> None:
    pack = copy_pack("london", tmp_path)
    (pack / "hub-areas.csv").write_text(
        "field,code,hub_area,hub_area_name\nosward,nope,x,X\n", encoding="utf-8"
    )
    out = tmp_path / "county"
    with pytest.raises(GenerateError, match=r"hub-areas\.csv.*hubnet county check"):
        _generated(pack, out)
    assert not out.exists()


def _terminate(pack: Path, keep: str = "") -> None:
    """Mark every postcode of the pack but `keep` terminated (a pack that still passes the check)."""
    rows = (pack / "postcodes.csv").read_text(encoding="utf-8").splitlines()
    live = [
        row if row.startswith(f"{keep},") else row.replace(",198001,,", ",198001,202001,") for row in rows
    ]
    (pack / "postcodes.csv").write_text("\n".join(live) + "\n", encoding="utf-8")


def test_a_pack_that_places_no_live_postcode_is_refused_with_what_it_lacks(tmp_path: Path) -> None:
    pack = copy_pack("london", tmp_path)
    _terminate(pack)
    with pytest.raises(PackGeographyError, match="no family could live there"):
        _generated(pack, tmp_path / "county")


def test_a_pack_with_no_site_where_families_live_is_refused_with_what_it_lacks(tmp_path: Path) -> None:
    pack = copy_pack("london", tmp_path)
    _terminate(pack, keep="W5 2BY")  # families live in Ealing Broadway only, whose one site goes
    sites = (pack / "sites.csv").read_text(encoding="utf-8").splitlines()
    (pack / "services.csv").unlink()  # optional; one of its services ran at that site
    (pack / "sites.csv").write_text(
        "\n".join(r for r in sites if "ealing-library" not in r) + "\n", encoding="utf-8"
    )
    with pytest.raises(PackGeographyError, match="no site in a district families live in"):
        _generated(pack, tmp_path / "county")


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


def test_cli_generates_inside_a_pack_and_refuses_a_missing_one(tmp_path: Path) -> None:
    runner = CliRunner()
    london = str(PACKS_DIR / "london")
    result = runner.invoke(
        app, ["generate", "-n", "2", "-s", "1", "--pack", london, "-o", str(tmp_path / "c")]
    )
    assert result.exit_code == 0, result.output
    assert orjson.loads((tmp_path / "c" / "county.json").read_bytes())["county"] == "Ealing (test)"
    missing = runner.invoke(
        app, ["generate", "-n", "2", "-s", "1", "--pack", str(tmp_path / "no"), "-o", str(tmp_path / "d")]
    )
    assert missing.exit_code == 2
    said = " ".join(missing.output.replace("│", " ").split())
    assert "'--pack'" in said
    assert "does not exist" in said
    assert not (tmp_path / "d").exists()
