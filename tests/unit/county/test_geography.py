"""Postcode -> hub area from ONSPD/NSPL rows: the narrowest rule wins, unknown postcodes get none."""

from __future__ import annotations

from pathlib import Path

from schemas.county import CountyPack
from services.county.geography import hub_area_lookup
from services.county.pack import read_pack
from tests.unit.county.packs import PACKS_DIR, each_pack


def _pack(name: str) -> CountyPack:
    return read_pack(PACKS_DIR / name)


@each_pack()
def test_every_live_postcode_of_a_pack_has_the_hub_area_of_its_sites(pack_dir: Path) -> None:
    pack = read_pack(pack_dir)
    lookup = hub_area_lookup(pack)
    for site in pack.sites:
        assert lookup.hub_area(site.postcode.lower().replace(" ", "")) == site.hub_area


@each_pack()
def test_a_postcode_the_pack_does_not_list_has_no_hub_area(pack_dir: Path) -> None:
    lookup = hub_area_lookup(read_pack(pack_dir))
    assert lookup.hub_area("ZE1 0AA") is None
    assert lookup.hub_area("") is None
    assert not lookup.in_priority_place("ZE1 0AA")


def test_a_ward_rule_carves_its_ward_out_of_the_district_rule() -> None:
    lookup = hub_area_lookup(_pack("essex"))
    assert lookup.hub_area("CO15 1AB") == "tendring"
    assert lookup.hub_area("CO15 2QT") == "jaywick"  # same outward code, the Jaywick ward
    assert lookup.in_priority_place("CO15 2QT")
    assert not lookup.in_priority_place("CO15 1AB")


def test_a_terminated_postcode_is_left_out() -> None:
    assert hub_area_lookup(_pack("essex")).hub_area("CM18 6PQ") is None


def test_two_wards_may_make_one_hub_area() -> None:
    lookup = hub_area_lookup(_pack("london"))
    assert lookup.hub_area("UB1 1AB") == lookup.hub_area("UB2 4DE") == "southall"
