"""A county pack whose services come from its Open Referral UK directory (`services_from`):
`hubnet county check` validates the directory as published and for what routing needs of it (each
problem with the file, the JSON path and what to do), the sign-in map is checked against the
directory's services, a load keeps the directory with the pack version, and routing decides over
its services exactly as over `services.csv` rows.

Packs: tests/data/county/essex-oruk (the Essex test pack's geography and sites, its services in
`directory.json`, an ORUK service list page); the public ORUK example
tests/data/public/open-referral-uk/V3.0-UK-Default/service_full.json (OpenReferralUK/uk-profile
`examples/`, CC-BY-SA-4.0) as a pack's directory.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

from services.county.loading import load_pack
from services.county.pack import check_pack, read_pack
from services.county.problems import Problem
from services.county.store import CountyStore
from services.reference.store import ReferenceStore
from services.referrals.network import network_from_pack, read_config
from services.referrals.request import PersonFacts
from services.referrals.routing import Ask, Outcome, route
from tests.public_data import public_sample
from tests.unit.county.packs import PACKS_DIR, copy_pack
from tests.unit.referrals.support import NOW
from tests.unit.referrals.test_routing import GIVEN, Places

PACK = PACKS_DIR / "essex-oruk"
HUBNET = Path(sys.executable).with_name("hubnet")


def problems_of(folder: Path) -> list[Problem]:
    found = check_pack(folder)
    assert isinstance(found, list), "the pack was accepted"
    return found


def edit_directory(folder: Path, change: Any) -> None:
    """Change the pack's directory.json in place (`change` edits the parsed page)."""
    path = folder / "directory.json"
    page = json.loads(path.read_text())
    change(page["contents"])
    path.write_text(json.dumps(page))


def test_the_pack_supplies_its_services_from_its_directory_and_routing_places_them_by_its_postcodes() -> None:
    pack = read_pack(PACK)
    assert pack.services == ()
    assert pack.directory is not None
    assert set(pack.directory.services) == {
        "oruk-stay-play", "oruk-parenting", "oruk-baby-feeding", "oruk-send-drop-in", "oruk-closed-cafe",
    }  # fmt: skip
    network = network_from_pack(pack, read_config())
    placed = {
        o.offer_id: (o.area, o.needs, o.min_age, o.max_age, o.capacity_per_week, o.source)
        for o in network.offers
    }
    assert placed == {
        "oruk-stay-play@loc-colchester": ("colchester", {"speech-language"}, 0, 5, 12, "oruk"),
        "oruk-parenting@loc-clacton": ("tendring", {"parenting-support"}, 0, 18, 10, "oruk"),
        "oruk-baby-feeding@loc-jaywick": ("jaywick", {"infant-feeding"}, 0, 2, 10, "oruk"),
        "oruk-send-drop-in@loc-harlow": ("harlow", {"send-support"}, 0, 25, 10, "oruk"),
    }  # the inactive cafe is listed in the directory only; 12 places its capacities give, else 10
    assert network.offer("oruk-parenting@loc-clacton").tier == "targeted"  # type: ignore[union-attr]
    assert network.sites["loc-jaywick"].kind == "directory-location"


def child(postcode: str, age: int) -> PersonFacts:
    return PersonFacts(date(NOW.year - age, 1, 15), postcode)


def test_routing_decides_over_the_directory_services_as_over_services_csv_rows() -> None:
    network = network_from_pack(read_pack(PACK), read_config())
    jaywick = route(Ask(("infant-feeding-referral",), child("CO15 2QT", 1), GIVEN), network, Places(), NOW)
    assert jaywick.outcome is Outcome.ROUTED, jaywick.explanation()
    assert jaywick.offer is not None
    assert jaywick.offer.offer_id == "oruk-baby-feeding@loc-jaywick"
    # Jaywick's own hub area has no parenting course: the one elsewhere in its district, Clacton
    clacton = route(Ask(("parenting-course-referral",), child("CO15 2QT", 4), GIVEN), network, Places(), NOW)
    assert clacton.offer is not None
    assert clacton.offer.offer_id == "oruk-parenting@loc-clacton"
    too_old = route(Ask(("infant-feeding-referral",), child("CO15 2QT", 4), GIVEN), network, Places(), NOW)
    assert too_old.outcome is not Outcome.ROUTED
    assert any("serves ages up to 2" in line for line in too_old.explanation())
    full = Places({"oruk-baby-feeding@loc-jaywick": 10})  # the directory gives no capacity: the default
    assert (
        route(Ask(("infant-feeding-referral",), child("CO15 2QT", 1), GIVEN), network, full, NOW).offer
        is None
    )
    no_consent = route(Ask(("infant-feeding-referral",), child("CO15 2QT", 1), None), network, Places(), NOW)
    assert no_consent.outcome is not Outcome.ROUTED, "a directory organisation is voluntary sector"


def test_check_names_each_directory_problem_with_its_json_path_and_what_to_do(tmp_path: Path) -> None:
    folder = copy_pack("essex-oruk", tmp_path)

    def break_it(contents: list[dict[str, Any]]) -> None:
        address = contents[0]["service_at_locations"][0]["location"]["addresses"][0]
        address["postal_code"] = "CO7 9ZZ"  # not in the pack's postcodes.csv
        contents[1]["attributes"] = [contents[1]["attributes"][1]]  # only its tier: no need
        contents[2]["minimum_age"] = 5  # above its maximum age: the record is refused
        contents[3]["service_at_locations"] = [{"id": "sal-x", "location_id": "loc-nowhere"}]
        contents[4]["status"] = "active"  # no need, no location

    edit_directory(folder, break_it)
    found = {(p.file, p.field): p.message for p in problems_of(folder)}
    assert set(found) == {
        ("directory.json", "$.contents[0].service_at_locations[0].location"),
        ("directory.json", "$.contents[1]"),
        ("directory.json", "$.contents[2].maximum_age"),
        ("county.toml", "sign_in.rule[2].services"),
        ("directory.json", "$.contents[3].service_at_locations"),
        ("directory.json", "$.contents[4]"),
        ("directory.json", "$.contents[4].service_at_locations"),
    }
    assert found[("directory.json", "$.contents[0].service_at_locations[0].location")] == (
        "service oruk-stay-play: location loc-colchester is at CO7 9ZZ, which the pack places in no hub "
        "area: add its ONSPD row to postcodes.csv (covered by hub-areas.csv), or drop the location"
    )
    assert "service oruk-parenting meets no hub need" in found[("directory.json", "$.contents[1]")]
    assert "(targeted) is mapped in network.toml [oruk.needs]" in found[("directory.json", "$.contents[1]")]
    assert "maximum age is below the minimum age" in found[("directory.json", "$.contents[2].maximum_age")]
    assert found[("county.toml", "sign_in.rule[2].services")] == (
        "oruk-baby-feeding@loc-jaywick is neither a service of services.csv (an id, or id@site) nor of "
        "directory.json (an id, or id@location)"
    )  # the refused record's service is not in the directory the pack would load
    assert (
        "its location loc-nowhere is not in the directory"
        in found[("directory.json", "$.contents[3].service_at_locations")]
    )
    assert "delivered at no location" in found[("directory.json", "$.contents[4].service_at_locations")]


def test_weekly_places_that_are_not_a_whole_number_refuse_the_record(tmp_path: Path) -> None:
    folder = copy_pack("essex-oruk", tmp_path)
    edit_directory(folder, lambda contents: contents[0]["capacities"][0].update(maximum=2.5))
    found = [(p.field, p.message) for p in problems_of(folder)]
    assert found == [
        (
            "$.contents[0].capacities[0].maximum",
            "the weekly places are not a whole number of 0 or more (give the places per week as a whole "
            "number); refused: a pack loads its directory only with none refused",
        )
    ]


def test_a_location_without_a_postcode_is_a_problem_and_an_online_one_is_not(tmp_path: Path) -> None:
    folder = copy_pack("essex-oruk", tmp_path)

    def unplace(contents: list[dict[str, Any]]) -> None:
        contents[0]["service_at_locations"][0]["location"]["addresses"] = []
        online = {"id": "loc-online", "location_type": "virtual", "name": "Online"}
        contents[1]["service_at_locations"].append({"id": "sal-online", "location": online})

    edit_directory(folder, unplace)
    assert [(p.field, p.message) for p in problems_of(folder)] == [
        (
            "$.contents[0].service_at_locations[0].location",
            "service oruk-stay-play: location loc-colchester has no postcode: routing places a service "
            "by the postcode of its location; give it an address with postal_code",
        )
    ]


def test_a_service_delivered_online_only_is_a_problem(tmp_path: Path) -> None:
    folder = copy_pack("essex-oruk", tmp_path)

    def online_only(contents: list[dict[str, Any]]) -> None:
        online = {"id": "loc-online", "location_type": "virtual", "name": "Online"}
        contents[3]["service_at_locations"] = [{"id": "sal-online", "location": online}]

    edit_directory(folder, online_only)
    assert [(p.field, p.message) for p in problems_of(folder)] == [
        (
            "$.contents[3].service_at_locations",
            "service oruk-send-drop-in is delivered online only (virtual locations): routing sends a "
            "family to a place, so it would never be routed to; add the place it runs at, or mark it "
            "inactive",
        )
    ]


def test_the_public_oruk_example_as_a_pack_directory_names_its_taxonomy_and_its_location(
    tmp_path: Path,
) -> None:
    folder = copy_pack("essex-oruk", tmp_path)
    sample = public_sample("open-referral-uk") / "V3.0-UK-Default" / "service_full.json"
    shutil.copy(sample, folder / "directory.json")
    (folder / "county.toml").write_text(
        (folder / "county.toml").read_text().replace('"oruk-parenting", "oruk-baby-feeding@loc-jaywick"', "")
    )
    found = problems_of(folder)
    assert [(p.file, p.field) for p in found] == [
        ("directory.json", "$"),
        ("directory.json", "$.service_at_locations[0].location"),
    ]
    service = json.loads(sample.read_text())
    assert f"service {service['id']} meets no hub need" in found[0].message
    assert "which the pack places in no hub area" in found[1].message


def test_a_load_keeps_the_directory_with_the_pack_version(tmp_path: Path) -> None:
    folder = copy_pack("essex-oruk", tmp_path)
    pack = read_pack(folder)
    county, names = CountyStore.in_data_dir(tmp_path), ReferenceStore.open(tmp_path / "reference.sqlite")
    report = load_pack(folder, pack, "amy", county, names)
    assert report.counts["services"] == (0, 5)
    (folder / "directory.json").write_text("{}")  # the file changing afterwards changes nothing loaded
    stored = county.get()
    assert stored is not None
    assert stored.pack.directory == pack.directory
    assert network_from_pack(stored.pack, read_config()).offer("oruk-parenting@loc-clacton") is not None
    county.close()
    names.close()


def test_county_check_prints_directory_problems_as_written(tmp_path: Path) -> None:
    folder = copy_pack("essex-oruk", tmp_path)
    edit_directory(folder, lambda contents: contents[1].update(attributes=[]))
    done = subprocess.run(
        [str(HUBNET), "county", "check", str(folder)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert "directory.json $.contents[1]: service oruk-parenting meets no hub need" in done.stdout
    assert "network.toml [oruk.needs]" in done.stdout  # not taken for console markup
    assert "Traceback" not in done.stdout + done.stderr
    good = subprocess.run(
        [str(HUBNET), "county", "check", str(PACK)], capture_output=True, text=True, timeout=60, check=False
    )
    assert good.returncode == 0, good.stdout
    assert "5 service(s) (5 from directory.json)" in good.stdout
