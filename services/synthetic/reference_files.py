"""The demo county's reference data, written into its county pack in the publishers' own layouts
and named in the pack's manifest, so `hubnet county load` (which `hubnet up` runs) loads it as it
loads a real county's:

- `reference/epraccur.csv` and `reference/etr.csv`: NHS ODS layout, no header row, 27 columns
  (code, name, national grouping, health geography, five address lines, postcode, open date,
  close date, status, ...); the demo's GP practices and NHS trusts.
- `reference/edubasealldata.csv`: DfE GIAS layout with its header row (URN, LA (code),
  EstablishmentNumber, EstablishmentName, ...); the demo's schools.
- `reference/districts.csv`: `code,name`, the county's districts by ONS code.
- `reference/oruk-organizations.json`: Open Referral UK organization objects, each charity with
  its GB-CHC number in `organization_identifiers`.

Names and codes are the county's made-up ones (services/synthetic/partners.py).
"""

from __future__ import annotations

import csv
from pathlib import Path

import orjson

from services.reference.files import COUNTY_FILES as FILES
from services.synthetic.county_pack import REFERENCE_DIR
from services.synthetic.geography import DISTRICTS, District
from services.synthetic.partners import LA_CODE, Directory, Partner

ODS_COLUMNS = 27
GIAS_HEADER = (
    "URN", "LA (code)", "LA (name)", "EstablishmentNumber", "EstablishmentName",
    "TypeOfEstablishment (name)", "EstablishmentStatus (name)", "PhaseOfEducation (name)", "Postcode",
)  # fmt: skip


def write_reference(out: Path, directory: Directory, districts: tuple[District, ...] = DISTRICTS) -> None:
    folder = out / REFERENCE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    partners = directory.all()
    _ods(folder / FILES["epraccur"], [p for p in partners if p.kind == "gp-practice"])
    _ods(folder / FILES["etr"], [p for p in partners if p.code.startswith("R")])
    with (folder / FILES["gias"]).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(GIAS_HEADER)
        for school in (p for p in partners if p.kind == "school"):
            phase = (school.phase or "").capitalize()
            writer.writerow([school.code, LA_CODE, "Essex", school.estab or "", school.name,
                             "Community school", "Open", phase, ""])  # fmt: skip
    charities = [
        {
            "id": f"org-{p.code}", "name": p.name,
            "organization_identifiers": [{
                "id": f"oi-{p.code}", "identifier_scheme": "GB-CHC", "identifier_type": "Charity number",
                "identifier": p.code,
            }],
        }
        for p in partners if p.kind == "charity"
    ]  # fmt: skip
    (folder / FILES["oruk"]).write_bytes(orjson.dumps(charities, option=orjson.OPT_INDENT_2) + b"\n")
    with (folder / FILES["districts"]).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("code", "name"))
        writer.writerows((d.code, d.name) for d in districts)


def _ods(path: Path, partners: list[Partner]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        for partner in partners:
            row = [partner.code, partner.name.upper(), "Y61", "QHM"] + [""] * (ODS_COLUMNS - 4)
            row[12] = "A"  # column 13, status code: active
            writer.writerow(row)
