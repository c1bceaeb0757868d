"""The demo county as a county pack (`county-pack/` of `hubnet generate`): what `make run` loads.

The synthetic county is Essex-shaped, but hubnet learns it the way it learns any county: through
`hubnet county load` (docs/county.md). Hub areas are the districts (keyed `laua`, ids the ONS
district codes, as the demo staff accounts name them); priority places are made-up wards carved out
of their district with `priority_place` set. `postcodes.csv` is in the ONSPD layout and lists every
postcode a generated family or site uses, with made-up ward and LSOA codes.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from services.reference.files import COUNTY_FILES
from services.synthetic.geography import DISTRICTS, District, Place, Site, district

PACK_DIR = "county-pack"
REFERENCE_DIR = "reference"
"""The pack's folder of reference files (services/synthetic/reference_files.py writes them)."""
ONSPD_COLUMNS = ("pcd", "pcds", "doterm", "oscty", "oslaua", "osward", "lsoa21")
ESSEX_COUNTY_CODE = "E10000012"
MANIFEST = """# Written by `hubnet generate`: the synthetic county as a county pack (docs/county.md).
id = "essex-demo"
name = "Essex (synthetic demo county)"
version = "generated"

[reference]  # the partners' names in their publishers' layouts (services/synthetic/reference_files.py)
{reference}
[sign_in]  # demo staff sign in with local accounts (`hubnet users demo`)
"""


def ward_code(where: District, place: Place) -> str:
    """A made-up ward code, one per place (`E05` + district number + place number)."""
    return f"E05{DISTRICTS.index(where) + 1:04d}{where.places.index(place) + 1:02d}"


def write_pack(out: Path, homes: Iterable[tuple[District, Place, str]], sites: tuple[Site, ...]) -> Path:
    """Write the pack to `out/county-pack` and return its folder."""
    folder = out / PACK_DIR
    folder.mkdir(parents=True, exist_ok=True)
    reference = "".join(f'{kind} = "{REFERENCE_DIR}/{name}"\n' for kind, name in COUNTY_FILES.items())
    (folder / "county.toml").write_text(MANIFEST.format(reference=reference), encoding="utf-8")
    _csv(folder / "districts.csv", ("code", "name", "neighbours"), _districts())
    _csv(folder / "hub-areas.csv", ("field", "code", "hub_area", "hub_area_name", "priority_place"), _areas())
    places = {(d.code, p.name): (d, p) for d in DISTRICTS for p in d.places}
    located = [*homes, *((*places[(district(s.district).code, s.place)], s.postcode) for s in sites)]
    rows = {postcode: _postcode_row(where, place, postcode) for where, place, postcode in located}
    _csv(folder / "postcodes.csv", ONSPD_COLUMNS, [rows[p] for p in sorted(rows)])
    _csv(folder / "sites.csv", ("id", "name", "kind", "hub_area", "postcode", "hours"), _sites(sites))
    return folder


def _districts() -> list[list[str]]:
    return [
        [d.code, d.name, ";".join(o.code for o in DISTRICTS if o.region == d.region and o is not d)]
        for d in DISTRICTS
    ]


def _areas() -> list[list[str]]:
    rows = [["laua", d.code, d.code, f"{d.name} Family Hubs", "false"] for d in DISTRICTS]
    rows += [
        ["osward", ward_code(d, p), d.code, f"{d.name} Family Hubs", "true"]
        for d in DISTRICTS
        for p in d.places
        if p.priority
    ]
    return rows


def _postcode_row(where: District, place: Place, postcode: str) -> list[str]:
    ward = ward_code(where, place)
    return [postcode, postcode, "", ESSEX_COUNTY_CODE, where.code, ward, f"E01{ward[3:]}"]


def _sites(sites: tuple[Site, ...]) -> list[list[str]]:
    return [
        [
            site.site_id.lower(),
            site.name,
            "family-hub" if site.kind == "family-hub" else "delivery-site",
            district(site.district).code,
            site.postcode,
            ";".join(f"{day} {opens}-{closes}" for day, opens, closes in site.opening_hours),
        ]
        for site in sites
    ]


def _csv(path: Path, header: tuple[str, ...], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
