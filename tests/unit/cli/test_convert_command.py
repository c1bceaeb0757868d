"""`hubnet convert` as a partner runs it: a real process, standard error a pipe (not a terminal).

It names each place once, never cuts a reason to the terminal width when its output goes to a
file or pipe, exits 0 when every person record converted and only side entries were refused (and
says so), lists its formats, and the README's format table names exactly the registered formats.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from connectors import registry
from connectors.base import Rejection, SourceContext
from connectors.fhir.connector import FhirConnector
from tests.public_data import public_sample

REPO = Path(__file__).resolve().parents[3]
UKCORE = "ukcore-r4-examples"


def hubnet_convert(*args: str, columns: int = 40) -> subprocess.CompletedProcess[str]:
    """The CLI in its own process, output captured through pipes, a narrow `COLUMNS` set so any
    wrapping to a terminal width would show."""
    env = {**os.environ, "COLUMNS": str(columns), "HUBNET_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "convert", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_each_place_is_named_once_and_no_reason_is_cut_to_the_terminal_width() -> None:
    result = hubnet_convert("--format", "hl7v2", "samples/hl7v2/invalid.hl7")
    assert result.returncode == 1
    rejected, summary = result.stderr.strip().splitlines()
    assert rejected.startswith("rejected samples/hl7v2/invalid.hl7 message 1: PID-3[1].1: ")
    assert rejected.count("PID-3[1].1") == 1
    assert rejected.endswith("or leave it empty)")  # the whole reason on its one line
    assert len(rejected) > 100
    assert summary == "0 event(s), 1 rejected record(s)"


def test_a_csv_rejection_names_its_line_once() -> None:
    result = hubnet_convert("--format", "ssda903", "samples/ssda903/invalid.csv")
    lines = [line for line in result.stderr.splitlines() if line.startswith("rejected ")]
    assert lines[0].startswith("rejected samples/ssda903/invalid.csv: line 2, column dec: ")
    assert len(lines) == 2
    assert all(line.count("line ") == 1 for line in lines)


def test_the_last_line_names_the_dfe_rules_hubnet_does_not_apply() -> None:
    result = hubnet_convert("--format", "cin-census", "samples/cin-census/cin-census-2025.xml")
    assert result.returncode == 0, result.stderr
    summary, note = result.stderr.strip().splitlines()[-2:]
    assert summary == "9 event(s), 0 rejected record(s)"
    assert note.startswith("note: hubnet does not apply the DfE CIN census validation rules")


def test_only_side_entries_refused_exits_0_and_says_every_person_record_converted() -> None:
    organisation = public_sample(UKCORE) / "UKCore-Organization-LeedsTeachingHospital-Example.xml"
    patient = public_sample(UKCORE) / "UKCore-Patient-RichardSmith-Example.xml"
    result = hubnet_convert("--format", "fhir", str(organisation), str(patient))
    assert result.returncode == 0, result.stderr
    first, summary = result.stderr.strip().splitlines()
    assert first.startswith("side entry refused ")
    assert "directory feed" in first
    assert summary == (
        "1 event(s), 0 rejected record(s), 1 side entry refused (not person records); "
        "every person record converted"
    )


def test_an_input_of_side_entries_only_exits_1() -> None:
    organisation = public_sample(UKCORE) / "UKCore-Organization-LeedsTeachingHospital-Example.xml"
    result = hubnet_convert("--format", "fhir", str(organisation))
    assert result.returncode == 1
    assert result.stderr.strip().endswith("the input holds no person record")


def test_a_rejected_person_record_exits_1_even_beside_side_entries() -> None:
    organisation = public_sample(UKCORE) / "UKCore-Organization-LeedsTeachingHospital-Example.xml"
    baby = public_sample(UKCORE) / "UKCore-Patient-BabyPatient-Example.xml"  # wrong NHS check digit
    result = hubnet_convert("--format", "fhir", str(organisation), str(baby))
    assert result.returncode == 1
    assert "1 rejected record(s), 1 side entry refused" in result.stderr


def test_list_formats_names_every_registered_format() -> None:
    result = hubnet_convert("--list-formats")
    assert result.returncode == 0, result.stderr
    listed = [line.split()[0] for line in result.stdout.strip().splitlines()]
    assert listed == registry.formats()


def test_the_help_names_only_options_that_exist() -> None:
    result = hubnet_convert("--help", columns=200)
    assert "--list-formats" in result.stdout
    assert "--format x -" not in result.stdout


def _readme_formats() -> set[str]:
    """Format names in the first column of the README's "Partner formats" table, leaving out the
    rows served by another command (the ORUK directory: `hubnet directory import`)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Partner formats", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for row in section.splitlines():
        if not row.startswith("| `"):
            continue
        first = row.split("|")[1]
        if "hubnet " in first:
            continue
        names.update(re.findall(r"`([a-z0-9-]+)`", first))
    return names


def test_the_readme_format_table_matches_the_registry() -> None:
    """A new connector adds its README row, and a README row names a real format."""
    assert _readme_formats() == set(registry.formats())


def test_a_resource_type_fhir_never_ties_to_a_person_is_a_side_entry_a_subjectless_record_is_not() -> None:
    """R4 gives a Medication or a CapabilityStatement no subject, patient, beneficiary, for or
    participant element: refusing one loses no person record. An Observation without its subject
    is a person's record that lost its subject: a real rejection."""
    ctx = SourceContext(partner="essex-nhs")
    medication = {"resourceType": "Medication", "id": "m1", "code": {"text": "Paracetamol"}}
    observation = {"resourceType": "Observation", "id": "o1", "status": "final", "code": {"text": "Weight"}}
    [side] = FhirConnector().convert(json.dumps(medication).encode(), ctx)
    [lost] = FhirConnector().convert(json.dumps(observation).encode(), ctx)
    assert isinstance(side, Rejection)
    assert side.side_entry
    assert "is never about one person" in side.reason
    assert isinstance(lost, Rejection)
    assert not lost.side_entry
    assert "names no person" in lost.reason
