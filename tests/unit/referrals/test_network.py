"""The hub network model: network.toml (needs, SLAs, calendar), the county pack's districts, hub
areas, postcodes, sites and services, and services imported from Open Referral UK data placed by
the pack's postcodes.

Public samples: tests/data/public/open-referral-uk/ (OpenReferralUK/uk-profile `examples/` and
tpximpact/OpenReferralApi `Mocks/`, CC-BY-SA-4.0); the repository's own samples/oruk/directory.json.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from connectors.oruk.importer import load_directory
from schemas.errors import ConfigurationError
from services.county.pack import read_pack
from services.referrals.network import DEFAULT_CONFIG, directory_offers, network_from_pack, read_config
from services.referrals.postcodes import normalise
from tests.public_data import public_sample
from tests.unit.county.packs import PACKS, each_pack
from tests.unit.referrals.networks import demo_network, demo_pack, pack_network

REPO = Path(__file__).resolve().parents[3]
ORUK_PUBLIC = public_sample("open-referral-uk")


def test_the_demo_county_pack_has_twelve_districts_each_with_a_hub_delivery_sites_and_outreach() -> None:
    network = demo_network()
    assert network.county == "essex-demo"
    assert len(network.districts) == len(network.areas) == 12
    kinds: dict[str, set[str]] = {}
    for site in network.sites.values():
        kinds.setdefault(site.area, set()).add(site.kind)
    assert all(found == {"family-hub", "delivery-site", "outreach"} for found in kinds.values())
    for district in network.districts.values():  # neighbours as Essex's districts border each other
        assert district.neighbours
        for other in district.neighbours:
            assert district.code in network.districts[other].neighbours


@each_pack()
def test_every_service_row_of_a_pack_is_an_offer_at_its_site(pack_dir: Path) -> None:
    network = pack_network(pack_dir.name)
    assert network.offers
    for offer in network.offers:
        site = network.sites[offer.site_id]
        assert offer.offer_id == f"{offer.service_id}@{site.site_id}"
        assert offer.area == site.area
        assert offer.needs <= set(network.needs)
        assert offer.priority_places <= offer.capacity_per_week


@pytest.mark.parametrize("name", PACKS)
def test_only_the_postcodes_a_pack_lists_have_a_home(name: str) -> None:
    network = pack_network(name)
    assert network.home("SW1A 1AA") is None
    assert network.home("") is None
    assert network.home(None) is None
    listed = next(iter(network.homes))
    assert network.home(listed.lower().replace(" ", "")) == network.homes[listed]  # written any way


def test_hub_areas_lie_in_districts_a_ward_carved_out_keeps_its_district() -> None:
    essex = pack_network("essex")
    jaywick = essex.home("CO15 2QT")
    assert jaywick is not None
    assert (jaywick.area, jaywick.district, jaywick.priority) == ("jaywick", "E07000076", True)
    assert essex.areas["jaywick"].districts == {"E07000076"}
    assert essex.home("CM18 6PQ") is None  # terminated in the pack's ONSPD rows
    london = pack_network("london")
    assert {a.districts for a in london.areas.values()} == {frozenset({"E09000009"})}


def test_network_config_holds_no_county_facts() -> None:
    text = DEFAULT_CONFIG.read_text()
    assert "[neighbours]" not in text
    assert "[[services]]" not in text
    assert normalise(" co151ab ") == "CO15 1AB"


def test_an_unknown_key_in_the_network_config_is_a_configuration_error(tmp_path: Path) -> None:
    broken = tmp_path / "network.toml"
    broken.write_text(DEFAULT_CONFIG.read_text() + '\n[neighbours]\nTendring = ["Colchester"]\n')
    with pytest.raises(ConfigurationError, match="neighbours"):
        read_config(broken)


def test_oruk_services_become_offers_at_locations_the_pack_places(tmp_path: Path) -> None:
    catalogue = load_directory((REPO / "samples" / "oruk" / "directory.json").read_bytes()).catalogue
    config = read_config()
    offers, sites = directory_offers(catalogue, config.oruk, demo_network().homes)
    assert (offers, sites) == ([], {}), "its postcode (CO15 1AA) is not in the pack: none invented"
    folder = demo_pack(tmp_path, ("CO15 1AA",))
    shutil.copy(REPO / "samples" / "oruk" / "directory.json", folder / "directory.json")
    manifest = folder / "county.toml"
    manifest.write_text('services_from = "directory.json"\n' + manifest.read_text())
    network = network_from_pack(read_pack(folder), config)
    found = [o for o in network.offers if o.source == "oruk"]
    by_service = {o.service_id: o for o in found}
    assert by_service["svc-stay-and-play-clacton"].needs == {"speech-language"}  # play-groups
    assert by_service["svc-send-parent-support"].needs == {"send-support"}  # marked SEND by the directory
    assert {o.area for o in found} == {"E07000076"}
    assert all(o.sector == "voluntary" for o in found)
    assert network.sites["loc-clacton-family-hub"].kind == "directory-location"
    assert network.offer("svc-send-parent-support@loc-clacton-family-hub") is not None


def test_public_oruk_examples_import_without_inventing_offers() -> None:
    """Public examples lie outside the county or use other taxonomies: none may become an offer in
    a hub area its location is not in."""
    files = sorted(p for p in ORUK_PUBLIC.rglob("*.json") if p.stat().st_size < 2_000_000)
    assert files
    homes = demo_network().homes
    for path in files:
        catalogue = load_directory(path.read_bytes()).catalogue
        offers, _ = directory_offers(catalogue, read_config().oruk, homes)
        for offer in offers:
            location = catalogue.locations[offer.site_id]
            home = homes.get(normalise(location.postcode or ""))
            assert home is not None
            assert home.area == offer.area
