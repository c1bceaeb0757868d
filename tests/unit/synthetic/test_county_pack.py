"""`hubnet generate` writes the demo county as a county pack that passes `hubnet county check`:
every postcode it lists (each home and site of the generated county) lies in a hub area."""

from __future__ import annotations

from services.county.geography import hub_area_lookup
from services.county.pack import check_pack
from services.synthetic.county_pack import PACK_DIR
from services.synthetic.geography import DISTRICTS
from tests.unit.synthetic.conftest import County


def test_the_generated_county_pack_is_valid_and_places_every_postcode(county: County) -> None:
    pack = check_pack(county.root / PACK_DIR)
    assert not isinstance(pack, list), [str(p) for p in pack]
    lookup = hub_area_lookup(pack)
    live = [row.pcds for row in pack.postcodes]
    assert len(live) > len(pack.sites)  # the families' homes as well as the sites
    assert all(lookup.hub_area(postcode) in {d.code for d in DISTRICTS} for postcode in live)
    for site in pack.sites:
        assert lookup.hub_area(site.postcode) == site.hub_area


def test_priority_places_of_the_demo_county_are_wards_carved_out_with_the_flag(county: County) -> None:
    pack = check_pack(county.root / PACK_DIR)
    assert not isinstance(pack, list)
    lookup = hub_area_lookup(pack)
    flagged = [row.pcds for row in pack.postcodes if lookup.in_priority_place(row.pcds)]
    assert flagged
    assert len(flagged) < len(pack.postcodes)
