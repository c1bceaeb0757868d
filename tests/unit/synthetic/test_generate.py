"""The synthetic county generator: determinism, valid identifiers, geography, complete ground truth."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from schemas.identifiers import nhs_number_is_valid, upn_is_valid
from services.cli.main import app
from services.synthetic import geography
from services.synthetic.county import GenerateError, Options, OutputNotEmptyError, generate
from services.synthetic.feeds import FORMATS
from tests.unit.synthetic.conftest import END, FAMILIES, SEED, County

NHS_SHAPED = re.compile(rb"(?<![\d.])999\d{7}(?![\d.])")
UPN_SHAPED = re.compile(rb"\b[A-Z]881\d{9}\b")


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_byte_identical_files(county: County, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(Options(families=FAMILIES, seed=SEED, end=END), again)
    assert _digest(again) == _digest(county.root)


def test_another_seed_gives_another_county(county: County, tmp_path: Path) -> None:
    other = tmp_path / "other"
    generate(Options(families=FAMILIES, seed=SEED + 1, end=END), other)
    assert (other / "people.csv").read_bytes() != (county.root / "people.csv").read_bytes()


def test_people_have_valid_unique_test_range_nhs_numbers(county: County) -> None:
    numbers = [p["nhs_number"] for p in county.people]
    assert len(set(numbers)) == len(numbers) == county.manifest["counts"]["people"]
    assert all(n.startswith("999") and nhs_number_is_valid(n) for n in numbers)


def test_pupils_have_valid_essex_upns(county: County) -> None:
    upns = [p["upn"] for p in county.people if p["upn"]]
    assert upns, "a county of 30 families has pupils"
    assert len(set(upns)) == len(upns)
    assert all(upn_is_valid(u) and u[1:4] == "881" for u in upns)


def test_every_identifier_in_the_feeds_is_a_true_persons_valid_one(county: County) -> None:
    """NHS numbers and UPNs are never malformed on purpose: every one written is a real person's
    (all valid, as checked above), so identity resolution is scored on names and mess alone."""
    known_nhs = {p["nhs_number"].encode() for p in county.people}
    known_upns = {p["upn"].encode() for p in county.people if p["upn"]}
    for path in county.files():
        data = path.read_bytes()
        assert set(NHS_SHAPED.findall(data)) <= known_nhs, path
        assert set(UPN_SHAPED.findall(data)) <= known_upns, path


def test_ground_truth_covers_every_record_of_every_file(county: County) -> None:
    on_disk = {str(p.relative_to(county.root)) for p in county.files()}
    in_manifest = {f["path"]: f for f in county.manifest["files"]}
    assert on_disk == set(in_manifest)
    rows_per_file = Counter(row["file"] for row in county.truth)
    assert rows_per_file == {path: entry["records"] for path, entry in in_manifest.items()}
    people = {p["person_id"]: p["family_id"] for p in county.people}
    for row in county.truth:
        assert people[row["true_person_id"]] == row["true_family_id"]
        assert row["expected"] in ("event", "reject", "duplicate")


def _records_in(fmt: str, data: bytes) -> int:
    """Records a file holds, counted the way each format delimits them."""
    if fmt in ("hv-csv", "attendance-csv", "vcs-csv") or data.startswith(b"record_id,"):
        return data.count(b"\r\n") - 1
    if fmt == "hl7v2":
        return data.count(b"MSH|")
    if fmt == "ctf":
        return data.count(b"<Pupil>")
    if fmt == "nems":
        return 1  # one event message per file
    if fmt == "fhir":
        return len(orjson.loads(data)["entry"])
    parsed = orjson.loads(data)
    return len(parsed["events"] if isinstance(parsed, dict) else parsed)


def test_each_file_holds_exactly_the_records_the_ground_truth_lists(county: County) -> None:
    truncated = {row["file"] for row in county.truth if row["expected"] == "reject"}
    for entry in county.manifest["files"]:
        data = (county.root / entry["path"]).read_bytes()
        try:
            assert _records_in(entry["format"], data) == entry["records"], entry["path"]
        except orjson.JSONDecodeError:
            assert entry["path"] in truncated, (
                f"{entry['path']} is broken but no record in it is expected to be"
            )


def test_every_format_is_written_with_all_kinds_of_mess(county: County) -> None:
    assert {f["format"] for f in county.manifest["files"]} == set(FORMATS)
    assert {row["expected"] for row in county.truth} == {"event", "reject", "duplicate"}


def test_duplicates_repeat_an_earlier_record_exactly(county: County) -> None:
    events = {
        (r["format"], r["partner"], r["source_record_id"], r["record_version"])
        for r in county.truth
        if r["expected"] == "event"
    }
    duplicates = [r for r in county.truth if r["expected"] == "duplicate"]
    assert duplicates
    for row in duplicates:
        assert (row["format"], row["partner"], row["source_record_id"], row["record_version"]) in events


def test_charities_rarely_hold_nhs_numbers_and_sometimes_misspell_names(tmp_path: Path) -> None:
    root = tmp_path / "c"
    generate(Options(families=200, seed=5), root)
    rows = [
        row
        for path in sorted((root / "feeds").glob("*/vcs-csv/*.csv"))
        for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))
    ]
    assert len(rows) > 100
    assert sum(1 for r in rows if r["nhs_number"]) / len(rows) < 0.3
    with (root / "people.csv").open(newline="", encoding="utf-8") as handle:
        true_names = {p["given_name"] for p in csv.DictReader(handle)}
    assert {r["given_name"] for r in rows} - true_names, "some charity records carry a misspelt given name"


def test_sites_and_postcodes_follow_the_county_geography(county: County) -> None:
    data = orjson.loads((county.root / "county.json").read_bytes())
    assert [d["name"] for d in data["districts"]] == [d.name for d in geography.DISTRICTS]
    assert len(data["family_hubs"]) == 12
    assert all(h["hours_per_week"] == 50 for h in data["family_hubs"])
    assert all(20 <= s["hours_per_week"] <= 30 for s in data["delivery_sites"])
    for site in data["family_hubs"] + data["delivery_sites"]:
        assert geography.postcode_in_district(site["postcode"], geography.district(site["district"])), site
    for name in ("Jaywick", "Canvey Island", "Harlow", "Harwich"):
        assert any(name in place for place in data["priority_places"])


def test_every_postcode_in_the_feeds_matches_a_district_pattern(county: County) -> None:
    patterns = [re.compile(d.postcode_pattern[1:-1].encode()) for d in geography.DISTRICTS]
    shaped = re.compile(rb"\b[A-Z]{1,2}\d{1,2} \d[A-Z]{2}\b")
    seen = 0
    for path in county.files():
        for code in set(shaped.findall(path.read_bytes())):
            seen += 1
            assert any(p.fullmatch(code) for p in patterns), (path, code)
    assert seen > 0


def test_bad_options_and_used_folders_are_refused(county: County, tmp_path: Path) -> None:
    with pytest.raises(OutputNotEmptyError):
        generate(Options(families=1, seed=1), county.root)
    with pytest.raises(GenerateError):
        Options(families=0, seed=1)


def test_cli_generates_and_explains_refusals(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["generate", "--families", "3", "--seed", "1", "--out", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "c" / "manifest.json").exists()
    again = runner.invoke(app, ["generate", "-n", "3", "-s", "1", "-o", str(tmp_path / "c")])
    assert again.exit_code == 2
    assert "not an empty folder" in " ".join(again.output.split())
