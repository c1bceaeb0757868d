"""The hub network model: network.toml, the synthetic county's sites and postcodes, ONSPD files,
and services imported from Open Referral UK data.

Public samples: tests/data/public/open-referral-uk/ (OpenReferralUK/uk-profile `examples/` and
tpximpact/OpenReferralApi `Mocks/`, CC-BY-SA-4.0); the repository's own samples/oruk/directory.json.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.oruk.importer import load_directory
from schemas.errors import ConfigurationError
from services.referrals.network import DEFAULT_CONFIG, directory_offers, load_network, read_config
from services.referrals.postcodes import normalise, outward, read_onspd, synthetic_county
from tests.public_data import public_sample

REPO = Path(__file__).resolve().parents[3]
ORUK_PUBLIC = public_sample("open-referral-uk")


def test_the_synthetic_county_has_twelve_districts_with_a_hub_delivery_sites_and_outreach() -> None:
    network = load_network()
    assert len(network.districts) == 12
    kinds: dict[str, set[str]] = {}
    for site in network.sites.values():
        kinds.setdefault(site.district, set()).add(site.kind)
    assert all({"family-hub", "library", "outreach"} <= found for found in kinds.values())
    hubs = [s for s in network.sites.values() if s.kind == "family-hub"]
    assert {s.hours_per_week for s in hubs} == {50}
    assert all(
        20 <= s.hours_per_week <= 30
        for s in network.sites.values()
        if s.kind in ("library", "community-centre")
    )


def test_neighbours_are_symmetric_and_named_by_code() -> None:
    network = load_network()
    for district in network.districts.values():
        assert district.neighbours
        for other in district.neighbours:
            assert district.code in network.districts[other].neighbours


def test_a_one_way_neighbour_is_a_configuration_error(tmp_path: Path) -> None:
    text = DEFAULT_CONFIG.read_text().replace(
        'Tendring = ["Colchester"]', 'Tendring = ["Colchester", "Harlow"]'
    )
    broken = tmp_path / "network.toml"
    broken.write_text(text)
    with pytest.raises(ConfigurationError, match="Tendring lists Harlow, but Harlow does not list Tendring"):
        read_config(broken)


def test_a_service_naming_an_unknown_need_is_a_configuration_error(tmp_path: Path) -> None:
    broken = tmp_path / "network.toml"
    broken.write_text(DEFAULT_CONFIG.read_text().replace('needs = ["food-support"]', 'needs = ["food"]'))
    with pytest.raises(ConfigurationError, match="food-bank names unknown needs: food"):
        read_config(broken)


def test_postcodes_map_to_districts_and_priority_places() -> None:
    lookup = synthetic_county()
    assert normalise(" co151ab ") == "CO15 1AB"
    assert outward("CO15 1AB") == outward("co151ab") == "CO15"
    assert lookup.district("CO15 1AB") == "E07000076"  # Tendring
    assert lookup.district("CM20 2XY") == "E07000073"  # Harlow
    assert lookup.district("SW1A 1AA") is None
    assert lookup.district("") is None
    assert lookup.in_priority_place("CO15 1AB")
    assert not lookup.in_priority_place("CM1 1AA")


def test_onspd_full_postcodes_win_and_terminated_ones_are_left_out() -> None:
    data = (
        b"\xef\xbb\xbfpcd,pcd2,pcds,dointr,doterm,oslaua,lat,long\n"
        b"CO151AB,CO15 1AB,CO15 1AB,199801,,E07000071,51.79,1.15\n"
        b"CO151AD,CO15 1AD,CO15 1AD,199801,200512,E07000071,51.79,1.15\n"
    )
    lookup = synthetic_county().with_onspd(read_onspd(data))
    assert lookup.district("co15 1ab") == "E07000071"  # the full postcode's own district
    assert lookup.district("CO15 1AD") == "E07000076"  # terminated: the outward code decides


def test_newer_onspd_column_names_are_read() -> None:
    data = b"PCDS,LAD25CD,DOTERM\nCM20 2XY,E07000073,\n"
    assert synthetic_county().with_onspd(read_onspd(data)).by_postcode == {"CM20 2XY": "E07000073"}


def test_a_file_without_a_district_column_is_refused() -> None:
    with pytest.raises(ValueError, match="no local authority district column"):
        read_onspd(b"pcds,lat\nCO15 1AB,51.7\n")


def test_oruk_services_become_offers_at_their_locations() -> None:
    catalogue = load_directory((REPO / "samples" / "oruk" / "directory.json").read_bytes()).catalogue
    config = read_config().oruk
    offers, sites = directory_offers(catalogue, config, synthetic_county())
    by_service = {o.service_id: o for o in offers}
    assert by_service["svc-stay-and-play-clacton"].needs == {"speech-language"}  # play-groups
    assert by_service["svc-send-parent-support"].needs == {"send-support"}  # marked SEND by the directory
    assert {o.district for o in offers} == {"E07000076"}
    assert all(o.sector == "voluntary" and o.source == "oruk" for o in offers)
    assert sites["loc-clacton-family-hub"].kind == "directory-location"
    network = load_network(catalogue=catalogue)
    assert network.offer("svc-send-parent-support@loc-clacton-family-hub") is not None


def test_public_oruk_examples_import_without_inventing_offers() -> None:
    """Public examples lie outside the county or use other taxonomies: none may become an offer in
    a district they are not in."""
    files = sorted(p for p in ORUK_PUBLIC.rglob("*.json") if p.stat().st_size < 2_000_000)
    assert files
    lookup = synthetic_county()
    for path in files:
        catalogue = load_directory(path.read_bytes()).catalogue
        offers, _ = directory_offers(catalogue, read_config().oruk, lookup)
        for offer in offers:
            location = catalogue.locations[offer.site_id]
            assert lookup.district(location.postcode) == offer.district
