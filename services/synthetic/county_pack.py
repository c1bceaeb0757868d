"""The demo county as a county pack (`county-pack/` of `hubnet generate`): what `make run` loads.

The synthetic county is Essex-shaped, but hubnet learns it the way it learns any county: through
`hubnet county load` (docs/county.md). Hub areas are the districts (keyed `laua`, ids the ONS
district codes, as the demo staff accounts name them); priority places are made-up wards carved out
of their district with `priority_place` set. `postcodes.csv` is in the ONSPD layout and lists every
postcode a generated family or site uses, with made-up ward and LSOA codes. Each family hub has an
outreach team (a site of kind `outreach` at the hub's postcode), and `services.csv` places the demo
services of `hub_services.toml` at every site of the kinds each lists: what the referral router
routes to.
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.reference.files import COUNTY_FILES
from services.synthetic.geography import DISTRICTS, District, Place, Site, district

PACK_DIR = "county-pack"
REFERENCE_DIR = "reference"
"""The pack's folder of reference files (services/synthetic/reference_files.py writes them)."""
SERVICES = Path(__file__).with_name("hub_services.toml")
OUTREACH = "outreach"
SERVICE_COLUMNS = (
    "id", "site", "name", "needs", "sector", "tier", "min_age", "max_age", "send_max_age", "capacity",
    "priority_places",
)  # fmt: skip
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
    _csv(folder / "services.csv", SERVICE_COLUMNS, _services(sites))
    return folder


class ServiceTemplate(BaseModel):
    """One `[[services]]` entry of `hub_services.toml`: a demo service and the kinds of site it runs at."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    needs: tuple[str, ...] = Field(min_length=1)
    sector: Literal["statutory", "voluntary"]
    tier: Literal["universal", "targeted", "specialist"]
    min_age: int | None = None
    max_age: int | None = None
    send_max_age: int | None = None
    capacity_per_week: int = Field(ge=0)
    priority_share: float = Field(default=0.0, ge=0, le=1)
    at: tuple[Literal["family-hub", "library", "community-centre", "outreach"], ...] = Field(min_length=1)


def service_templates(path: Path = SERVICES) -> tuple[ServiceTemplate, ...]:
    entries = tomllib.loads(path.read_text(encoding="utf-8"))["services"]
    return tuple(ServiceTemplate.model_validate(entry) for entry in entries)


NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "Basildon": ("Brentwood", "Castle Point", "Chelmsford", "Rochford"),
    "Braintree": ("Chelmsford", "Colchester", "Maldon", "Uttlesford"),
    "Brentwood": ("Basildon", "Chelmsford", "Epping Forest"),
    "Castle Point": ("Basildon", "Rochford"),
    "Chelmsford": ("Basildon", "Braintree", "Brentwood", "Epping Forest", "Maldon", "Rochford", "Uttlesford"),
    "Colchester": ("Braintree", "Maldon", "Tendring"),
    "Epping Forest": ("Brentwood", "Chelmsford", "Harlow", "Uttlesford"),
    "Harlow": ("Epping Forest", "Uttlesford"),
    "Maldon": ("Braintree", "Chelmsford", "Colchester", "Rochford"),
    "Rochford": ("Basildon", "Castle Point", "Chelmsford", "Maldon"),
    "Tendring": ("Colchester",),
    "Uttlesford": ("Braintree", "Chelmsford", "Epping Forest", "Harlow"),
}
"""Which districts of the demo county border which (as Essex's do), for routing to nearby hubs."""


def _districts() -> list[list[str]]:
    return [[d.code, d.name, ";".join(district(n).code for n in NEIGHBOURS[d.name])] for d in DISTRICTS]


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
    rows = []
    for site in sites:
        area, hours = (
            district(site.district).code,
            [f"{d} {opens}-{closes}" for d, opens, closes in site.opening_hours],
        )
        kind = "family-hub" if site.kind == "family-hub" else "delivery-site"
        rows.append([site.site_id.lower(), site.name, kind, area, site.postcode, ";".join(hours)])
        if site.kind == "family-hub":
            rows.append(
                [_outreach_id(site), f"{site.district} outreach team", OUTREACH, area, site.postcode, ""]
            )
    return rows


def _outreach_id(hub: Site) -> str:
    return f"{hub.site_id.lower()}-out"


def _services(sites: tuple[Site, ...]) -> list[list[str]]:
    """Each demo service at every site of a kind it lists (outreach: each family hub's team)."""
    placed = [(site.kind, site.site_id.lower()) for site in sites]
    placed += [(OUTREACH, _outreach_id(site)) for site in sites if site.kind == "family-hub"]
    return [
        [
            t.id,
            site_id,
            t.name,
            ";".join(t.needs),
            t.sector,
            t.tier,
            _cell(t.min_age),
            _cell(t.max_age),
            _cell(t.send_max_age),
            str(t.capacity_per_week),
            str(round(t.capacity_per_week * t.priority_share)),
        ]
        for t in service_templates()
        for kind, site_id in placed
        if kind in t.at
    ]


def _cell(value: int | None) -> str:
    return "" if value is None else str(value)


def _csv(path: Path, header: tuple[str, ...], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
