"""`hubnet generate`: build a whole synthetic county and write it to a folder.

Order of work: geography and partners (fixed per seed), then family by family (each with its own
random source seeded from the county seed and the family number, so a family's life never depends
on the families before it), then the delivery files, the ground truth and the manifest. Nothing
in the output depends on the clock or the machine: the same seed gives byte-identical files.
"""

from __future__ import annotations

import csv
import random
import shutil
from collections import Counter as Tally
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TextIO

import orjson
import structlog

from schemas.county import CountyPack
from schemas.errors import HubnetError
from services.county.pack import check_pack
from services.synthetic import geography, pack_geography
from services.synthetic.care import Care
from services.synthetic.community import Community
from services.synthetic.county_pack import PACK_DIR, write_pack
from services.synthetic.education import Education
from services.synthetic.feeds import FORMATS, Feeds
from services.synthetic.health import Health
from services.synthetic.mess import LocalIds, MessRates, Views
from services.synthetic.numbers import Counter, NhsNumbers, Upns
from services.synthetic.partners import LA_CODE, build_directory, partners_json
from services.synthetic.people import Family, LifeCourse
from services.synthetic.reference_files import write_reference
from services.synthetic.world import World

log = structlog.get_logger(__name__)

GENERATOR_VERSION = "3"
"""Changes when the same seed gives different files (2: referrals coded for the router; 3: the
county pack's services and outreach teams, which the router routes to)."""
GROUND_TRUTH_COLUMNS = (
    "format",
    "partner",
    "file",
    "record_ref",
    "source_record_id",
    "record_version",
    "true_person_id",
    "true_family_id",
    "expected",
)
PEOPLE_COLUMNS = (
    "person_id",
    "family_id",
    "role",
    "sex",
    "given_name",
    "family_names",
    "birth_date",
    "nhs_number",
    "upn",
    "social_care_id",
    "joined",
    "left",
    "send",
)
DEFAULT_START = date(2017, 4, 1)
DEFAULT_END = date(2027, 3, 31)


class GenerateError(HubnetError):
    """The county cannot be generated as asked; the message says what to change."""


class OutputNotEmptyError(GenerateError):
    """The output folder already holds files; the generator never mixes two counties."""


@dataclass(frozen=True)
class Options:
    families: int
    seed: int
    start: date = DEFAULT_START
    end: date = DEFAULT_END
    rates: MessRates = field(default_factory=MessRates)
    pack: Path | None = None
    """A county pack to live in (its districts, hub areas, postcodes, sites); None: synthetic Essex."""

    def __post_init__(self) -> None:
        if self.families < 1:
            raise GenerateError("--families must be at least 1")
        if self.end <= self.start:
            raise GenerateError("--end must be after --start")


Step = Callable[[str, int], None]
"""Progress callback: (stage, units done since last call); stages are `families` and `files`."""


def check_output(out: Path) -> None:
    """Refuse a folder that already holds files, before any work is done."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OutputNotEmptyError(f"{out} is not an empty folder: choose a new or empty folder")


def generate(options: Options, out: Path, step: Step | None = None) -> dict[str, Any]:
    """Write the county to `out` (new or empty) and return the manifest it wrote."""
    check_output(out)
    advance = step or (lambda _stage, _n: None)
    seed = options.seed
    county = _county(options)
    sites = county.sites
    directory = build_directory(county.districts)
    world = World(directory, sites, options.start, options.end)
    nhs = NhsNumbers(random.Random(f"{seed}:nhs"), expected_people=options.families * 5)
    upns = Upns(LA_CODE)
    csc_ids = Counter("CS", start=100_001)
    csc_groups = Counter("FG", start=50_001)
    local_ids = LocalIds()
    feeds = Feeds(directory, options.rates, options.end)
    families: list[Family] = []
    for number in range(1, options.families + 1):
        rng = random.Random(f"{seed}:family:{number}")
        family = LifeCourse(rng, nhs, options.start, options.end, county.districts).family(f"F{number:06d}")
        health = Health(world, rng).events(family)
        events = (
            health
            + Education(world, rng, upns).events(family)
            + Care(world, rng, csc_ids, csc_groups).events(family)
        )
        events += Community(world, rng).events(family, health)
        views = Views(rng, local_ids)
        for event in sorted(events, key=lambda e: (e.at, e.kind, e.person.person_id)):
            feeds.add(event, views, rng)
        families.append(family)
        advance("families", 1)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "ground_truth.csv").open("w", newline="", encoding="utf-8") as handle:
        truth = _TruthWriter(handle)
        files = feeds.write(out, truth, lambda n: advance("files", n))
    _write_json(out / "county.json", geography.county_json(sites, county.districts, county.name))
    if options.pack is None:
        homes = [(r.district, r.place, r.postcode) for family in families for r in family.residences]
        names_into = write_pack(out, homes, sites)  # its manifest names them: `county load` loads them
    else:  # the families live in the given pack's postcodes: it is the county's pack as it stands
        shutil.copytree(options.pack, out / PACK_DIR)
        names_into = out  # beside it, for `hubnet reference load`: the county's pack names its own
    _write_json(out / "partners.json", partners_json(directory))
    write_reference(names_into, directory, county.districts)
    _write_csv(out / "people.csv", PEOPLE_COLUMNS, _people_rows(families))
    manifest = _manifest(options, families, files, truth)
    _write_json(out / "manifest.json", manifest)
    log.info("synthetic.generated", families=options.families, files=len(files), records=truth.rows)
    return manifest


@dataclass(frozen=True)
class _County:
    """Where the families live: the districts (with their places) and the sites they attend."""

    name: str
    districts: tuple[geography.District, ...]
    sites: tuple[geography.Site, ...]


def _county(options: Options) -> _County:
    """Synthetic Essex, or the geography of the county pack the options name (read and checked
    here, so a broken pack is refused before any family is made)."""
    if options.pack is None:
        sites = geography.build_sites(random.Random(f"{options.seed}:county"))
        return _County("Essex (synthetic)", geography.DISTRICTS, sites)
    found = check_pack(options.pack)
    if not isinstance(found, CountyPack):
        listed = "; ".join(str(problem) for problem in found[:5])
        raise GenerateError(
            f"--pack {options.pack}: {len(found)} problem(s) in the county pack ({listed}); "
            "`hubnet county check` lists them all"
        )
    districts = pack_geography.districts_of(found)
    return _County(found.manifest.name, districts, pack_geography.sites_of(found, districts))


class _TruthWriter:
    """Writes ground_truth.csv row by row and tallies it for the manifest."""

    def __init__(self, handle: TextIO) -> None:
        self._csv = csv.writer(handle, lineterminator="\n")
        self._csv.writerow(GROUND_TRUTH_COLUMNS)
        self.by_format: Tally[str] = Tally()
        self.by_expected: Tally[str] = Tally()
        self.rows = 0

    def writerows(self, rows: Iterable[Iterable[object]], /) -> None:
        for row in rows:
            values = list(row)
            self.by_format[str(values[0])] += 1
            self.by_expected[str(values[8])] += 1
            self.rows += 1
            self._csv.writerow(values)


def _manifest(
    options: Options, families: list[Family], files: list[dict[str, Any]], truth: _TruthWriter
) -> dict[str, Any]:
    people = [p for f in families for p in f.members]
    return {
        "generator_version": GENERATOR_VERSION,
        "seed": options.seed,
        "start": options.start.isoformat(),
        "end": options.end.isoformat(),
        "counts": {
            "families": len(families),
            "people": len(people),
            "children": sum(1 for p in people if p.role == "child"),
            "files": len(files),
            "records": truth.rows,
            "records_by_format": dict(sorted(truth.by_format.items())),
            "records_by_expected": dict(sorted(truth.by_expected.items())),
        },
        "formats": list(FORMATS),
        "files": files,
    }


def _people_rows(families: list[Family]) -> list[list[str]]:
    return [
        [
            p.person_id,
            p.family_id,
            p.role,
            p.sex,
            p.given,
            "|".join(f"{d.isoformat()}:{n}" for d, n in p.surnames),
            p.birth_date.isoformat(),
            p.nhs_number,
            p.upn or "",
            p.csc_id or "",
            p.joined.isoformat(),
            p.left.isoformat() if p.left else "",
            p.send,
        ]
        for family in families
        for p in family.members
    ]


def _write_json(path: Path, data: Any) -> None:
    path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")


def _write_csv(path: Path, header: tuple[str, ...], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
