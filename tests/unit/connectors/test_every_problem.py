"""Every problem of a record at once (#19 follow-up, "bad input"): each CSV layout and HL7 v2.

A partner who fixes one problem, resends and meets the next wastes a round trip per problem. Each
test breaks two or more independent things in one row or message, and checks that the rejection
names every one at its own place (CSV `line N, column X`, HL7 `PID-8`, `PID-3[2].1`, JSON path),
with a reason and what to do, while the good rows of the same file still convert.

Base rows: the public samples in tests/data/public/ where one exists for the format (SSDA903,
HL7 v2), else the format's own sample in samples/.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from connectors import registry
from connectors.base import Rejection, SourceContext
from connectors.common.problems import MAX_KEPT, MAX_LISTED, Findings
from schemas.envelope import HubEvent
from schemas.errors import MappingError, Problem, ValidationError
from tests.public_data import public_sample

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
CTX = SourceContext(
    partner="essex-test",
    source_name="RSV_Vaccinations_v5_X99XX_20250601T09000000.csv",
    received_at=datetime(2025, 6, 1, tzinfo=UTC),
)


def convert(fmt: str, data: bytes) -> tuple[list[HubEvent], list[Rejection]]:
    outcomes = list(registry.get(fmt).convert(data, CTX))
    return (
        [o for o in outcomes if isinstance(o, HubEvent)],
        [o for o in outcomes if isinstance(o, Rejection)],
    )


def broken_csv(path: Path, changes: Mapping[str, str], delimiter: str = ",", good: int = 2) -> bytes:
    """The file's header, its first data row with `changes` (column -> new cell), then its row
    `good` unchanged (a good row beside the bad one)."""
    rows = list(csv.reader(io.StringIO(path.read_text("utf-8-sig")), delimiter=delimiter))
    header, first, second = rows[0], rows[1], rows[good]
    columns = [name.lower() for name in header]
    bad = list(first)
    for column, value in changes.items():
        bad[columns.index(column)] = value
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows([header, bad, second])
    return out.getvalue().encode()


def assert_every_problem(rejection: Rejection, expected: Mapping[str, str]) -> None:
    """Each expected place is a problem of its own, with its reason; the summary counts them all."""
    places = {p.path: p.reason for p in rejection.problems}
    for place, words in expected.items():
        assert place in places, f"{place} not among {sorted(places)}"
        assert words in places[place], places[place]
        assert f"{place}: " in rejection.reason
    assert rejection.reason.startswith(f"{len(rejection.problems)} problems: ") or (
        rejection.location
        and rejection.reason.startswith(f"{rejection.location}: {len(rejection.problems)} problems")
    )
    assert len(rejection.problems) == len(expected)


CSV_CASES = {
    "vaccination-csv": (
        SAMPLES / "vaccination-csv" / "MMR_Vaccinations_v5_X99XX_20250314T12000000.csv",
        "|",
        {
            "person_dob": ("2023-12-01", "line 2, column person_dob", "write dates as YYYYMMDD"),
            "person_gender_code": ("7", "line 2, column person_gender_code", "use 0 (not known)"),
            "dose_amount": ("-1", "line 2, column dose_amount", "not a positive number"),
            "nhs_number": ("9990000019", "line 2, column nhs_number", "modulus 11"),
        },
    ),
    "bloodspot-csv": (
        SAMPLES / "bloodspot-csv" / "nbs-results.csv",
        ",",
        {
            "sex": ("boy", "line 2, column sex", "use male, female"),
            "laboratory_ods_code": ("lab!", "line 2, column laboratory_ods_code", "ODS"),
            "pku": ("99", "line 2, column pku", "status code"),
            "sample_received": ("", "line 2, column sample_received", "fill it in"),
        },
    ),
    "hv-csv": (
        SAMPLES / "hv-csv" / "hv-reviews.csv",
        ",",
        {
            "review_type": ("newborn-check", "line 2, column review_type", "use one of"),
            "nhs_number": ("9990002011", "line 2, column nhs_number", "modulus 11"),
            "family_name": ("", "line 2, column family_name", "fill it in"),
        },
    ),
    "attendance-csv": (
        SAMPLES / "attendance-csv" / "attendance-return.csv",
        ",",
        {
            "upn": ("P881200119009", "line 2, column upn", "UPN"),
            "term": ("autumn", "line 2, column term", "2024-autumn"),
            "school_urn": ("99", "line 2, column school_urn", "6 digits"),
            "sessions_attended": ("lots", "line 2, column sessions_attended", "whole number"),
        },
    ),
    "vcs-csv": (
        SAMPLES / "vcs-csv" / "activity.csv",
        ",",
        {
            "activity": ("yoga", "line 2, column activity", "use one of"),
            "organisation": ("ACME", "line 2, column organisation", "charity number"),
            "birth_date": ("2099-05-02", "line 2, column birth_date", "after"),
        },
    ),
    "csc-events": (
        SAMPLES / "csc-events" / "case-events.csv",
        ",",
        {
            "event_type": ("phone-call", "line 2, column event_type", "use one of"),
            "sex": ("boy", "line 2, column sex", "use one of"),
            "given_name": ("", "line 2, column given_name", "fill it in"),
        },
    ),
}


@pytest.mark.parametrize("fmt", CSV_CASES)
def test_a_csv_row_names_every_problem_with_its_line_and_column(fmt: str) -> None:
    path, delimiter, cases = CSV_CASES[fmt]
    data = broken_csv(path, {column: value for column, (value, _, _) in cases.items()}, delimiter)
    events, [rejection] = convert(fmt, data)
    assert events, "the good row of the same file still converts"
    assert rejection.record_ref == "line 2"
    assert rejection.location == "line 2"
    assert_every_problem(rejection, {place: words for _, place, words in cases.values()})


def test_an_ssda903_episode_names_every_problem() -> None:
    """The public SSDA903 episodes table (data-to-insight fake data), one row broken four ways."""
    path = public_sample("childrens-social-care", "ssda903", "episodes.csv")
    data = broken_csv(path, {"decom": "31/02/2016", "ls": "ZZ", "place": "Q9", "rne": "?"}, good=3)
    events, [rejection] = convert("ssda903", data)
    assert events
    assert_every_problem(
        rejection,
        {
            "line 2, column decom": "DD/MM/YYYY",
            "line 2, column ls": "DfE specification",
            "line 2, column place": "DfE specification",
            "line 2, column rne": "DfE specification",
        },
    )


def test_an_ssda903_missing_row_names_the_child_and_the_episode_problems() -> None:
    path = public_sample("childrens-social-care", "ssda903", "missing.csv")
    data = broken_csv(path, {"dob": "2002-13-12", "missing": "X", "mis_end": "01/01/2017"})
    _, [rejection] = convert("ssda903", data)
    assert_every_problem(
        rejection,
        {
            "line 2, column dob": "not a date",
            "line 2, column missing": "DfE specification",
            "line 2, column mis_end": "before the start date",
        },
    )


def test_a_cin_census_episode_names_the_childs_and_every_parts_problems() -> None:
    """The public CIN census 2024 sample (data-to-insight fake data): its first child's sex, its
    referral source and its CIN plan's start date broken, beside the assessment dates the sample
    already has wrong (a start in the future, an end before it)."""
    xml = public_sample("childrens-social-care", "cin-census", "CIN_Census_2024.xml").read_bytes()
    broken = (
        xml.replace(b"<Sex>1</Sex>", b"<Sex>7</Sex>", 1)
        .replace(b"<ReferralSource>1A</ReferralSource>", b"<ReferralSource>ZZ</ReferralSource>", 1)
        .replace(b"<CINPlanStartDate>2023-01-24<", b"<CINPlanStartDate>2023-02-30<", 1)
    )
    events, rejections = convert("cin-census", broken)
    assert events, "the other episodes of the file still convert"
    [rejection] = [r for r in rejections if r.record_ref == "Message.Children.Child[0].CINdetails[0]"]
    child = "Message.Children.Child[0]"
    episode = f"{child}.CINdetails[0]"
    assert_every_problem(
        rejection,
        {
            f"{child}.ChildIdentifiers.Sex": "use one of",
            f"{episode}.ReferralSource": "use one of",
            f"{episode}.Assessments[0].AssessmentActualStartDate": "in the future",
            f"{episode}.Assessments[0].AssessmentAuthorisationDate": "before the start date",
            f"{episode}.CINPlanDates[0].CINPlanStartDate": "date",
        },
    )


def test_a_ctf_pupil_names_every_problem_at_its_element() -> None:
    """No public CTF sample exists (tests/data/public/README.md): the format's own sample, its first
    pupil's UPN, date of birth and second school's entry date broken; the second pupil converts."""
    xml = (SAMPLES / "ctf" / "ctf-transfer.xml").read_bytes()
    broken = (
        xml.replace(b"<UPN>P881200119001</UPN>", b"<UPN>P881200119009</UPN>", 1)
        .replace(b"<DOB>2015-06-02</DOB>", b"<DOB>2015-02-30</DOB>", 1)
        .replace(b"<EntryDate>2022-09-05</EntryDate>", b"<EntryDate>soon</EntryDate>", 1)
    )
    events, [rejection] = convert("ctf", broken)
    assert events, "the second pupil still converts"
    pupil = "CTfile.CTFpupilData.Pupil[0]"
    assert_every_problem(
        rejection,
        {
            f"{pupil}.UPN": "UPN",
            f"{pupil}.DOB": "date",
            f"{pupil}.SchoolHistory.School[1].EntryDate": "date",
        },
    )


def test_a_csc_events_json_record_names_every_problem_at_its_json_path() -> None:
    item = {"record_id": "A", "person_id": "P", "given_name": "T", "family_name": "C", "sex": "x"}
    body = {"events": [{**item, "event_type": "lac-start", "event_date": "2025-13-01"}]}
    _, [rejection] = convert("csc-events", orjson.dumps(body))
    assert_every_problem(
        rejection,
        {"$.events[0].sex": "use one of", "$.events[0].event_date": "not a date"},
    )


def test_a_csc_events_row_names_the_event_kinds_codes_beside_the_childs_cells() -> None:
    """The looked-after row's two codes are checked even though a child cell failed too."""
    path = SAMPLES / "csc-events" / "case-events.csv"
    rows = path.read_text("utf-8").splitlines()
    header = rows[0].split(",")
    cells = dict.fromkeys(header, "")
    cells |= {"record_id": "E1", "person_id": "P1", "given_name": "A", "family_name": "B"}
    cells |= {"event_type": "lac-start", "event_date": "2025-01-06", "birth_date": "2030-01-01"}
    cells |= {"legal_status": "Q1", "placement_type": "Z9"}
    data = (",".join(header) + "\n" + ",".join(cells[c] for c in header) + "\n").encode()
    _, [rejection] = convert("csc-events", data)
    assert_every_problem(
        rejection,
        {
            "line 2, column birth_date": "after",
            "line 2, column legal_status": "DfE specification",
            "line 2, column placement_type": "DfE specification",
        },
    )


def test_a_vcs_json_activity_names_every_problem() -> None:
    [first, *_] = orjson.loads((SAMPLES / "vcs-json" / "activity.json").read_bytes())
    person = {**first["person"], "birth_date": "2099-01-01"}
    broken = {**first, "activity": "yoga", "record_version": "one", "person": person}
    _, [rejection] = convert("vcs-json", orjson.dumps([broken]))
    assert_every_problem(
        rejection,
        {
            "$[0].activity": "use one of",
            "$[0].record_version": "whole number",
            "$[0].person.birth_date": "after",
        },
    )


VXU = public_sample("hl7v2-samples", "VXU-V04-01.hl7").read_bytes()


def test_an_hl7_message_names_every_problem_at_its_position() -> None:
    """The public VXU^V04 sample (microsoft/FHIR-Converter) broken in PID-3's second repetition,
    PID-7, PID-8 and RXA-5."""
    bad = (
        VXU.replace(b"|198808181126+0215|M|", b"|19881318|Q|")
        .replace(b"|49281021588^TENIVAC^NDC|", b"||")
        .replace(b"~123456789^^^USSSA^SS|", b"~9990001007^^^NHS^NH|")
    )
    events, [rejection] = convert("hl7v2", bad)
    assert events == []
    assert_every_problem(
        rejection,
        {
            "PID-3[2].1": "modulus 11",
            "PID-7.1": "does not exist in the calendar",
            "PID-8": "administrative sex",
            "RXA-5": "the vaccine is missing",
        },
    )


def test_an_hl7_message_with_one_problem_keeps_its_one_reason() -> None:
    bad = VXU.replace(b"|198808181126+0215|M|", b"|198808181126+0215|Q|")
    _, [rejection] = convert("hl7v2", bad)
    assert rejection.location == "PID-8"
    assert rejection.problems == ()
    assert rejection.reason.startswith("PID-8: the administrative sex is not a code hubnet knows")


def test_an_oru_message_names_the_problems_of_every_obx_under_every_obr() -> None:
    """The public LAB-ORU-1 sample (two OBRs, ten OBX): the first OBX under each OBR loses its code."""
    segments = re.split(rb"\r\n|\r|\n", public_sample("hl7v2-samples", "LAB-ORU-1.hl7").read_bytes())
    broken = []
    for index, segment in enumerate(segments):
        if segment.startswith(b"OBX|") and segments[index - 1].startswith(b"OBR|"):
            fields = segment.split(b"|")
            fields[3] = b""
            broken.append(index)
            segments[index] = b"|".join(fields)
    assert len(broken) == 2
    events, [rejection] = convert("hl7v2", b"\r".join(segments))
    assert events == []
    obx_numbers = [sum(s.startswith(b"OBX|") for s in segments[: index + 1]) for index in broken]
    assert_every_problem(
        rejection, {f"OBX({n})-3" if n > 1 else "OBX-3": "the observation has no code" for n in obx_numbers}
    )


def test_findings_keep_one_error_as_it_was() -> None:
    found = Findings()
    found.take(_fail, "line 4, column dob", "the value is not a date", "write YYYY-MM-DD")
    with pytest.raises(MappingError) as raised:
        found.check()
    assert raised.value.describe() == "line 4, column dob: the value is not a date (write YYYY-MM-DD)"
    assert raised.value.problems == ()


def test_findings_list_each_problem_with_its_hint_and_drop_repeats() -> None:
    found = Findings()
    for _ in range(2):  # one cell read by two checks is one problem
        found.take(_fail, "line 4, column dob", "the value is not a date", "write YYYY-MM-DD")
    found.take(_fail, "line 4, column sex", "not an allowed code", "use male or female")
    with pytest.raises(ValidationError) as raised:
        found.check()
    assert raised.value.location == "line 4"
    assert raised.value.problems == (
        Problem("line 4, column dob", "the value is not a date (write YYYY-MM-DD)"),
        Problem("line 4, column sex", "not an allowed code (use male or female)"),
    )


def test_findings_stop_reading_at_the_last_problem_they_keep() -> None:
    """A message of 750,000 bad OBX is not read to its end for problems nobody is shown."""
    found = Findings()
    for n in range(MAX_KEPT - 1):
        found.take(_fail, f"OBX({n})-3", "the observation has no code", None)
    with pytest.raises(ValidationError) as raised:
        found.take(_fail, f"OBX({MAX_KEPT - 1})-3", "the observation has no code", None)
    assert len(raised.value.problems) == MAX_KEPT
    assert raised.value.reason.startswith(f"{MAX_KEPT} problems: ")
    assert raised.value.reason.endswith(f"and {MAX_KEPT - MAX_LISTED} more not listed")
    assert "stops reading a record at its 100th problem" in (raised.value.hint or "")


def _fail(location: str, reason: str, hint: str | None) -> None:
    raise MappingError(reason, location, hint=hint)
