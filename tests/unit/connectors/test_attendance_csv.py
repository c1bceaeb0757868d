"""The `attendance-csv` connector (school attendance return, docs/connectors/native-formats.md).

No public sample of this hubnet-defined return exists in tests/data/public, so these tests use
hubnet's synthetic samples in samples/attendance-csv/ (invented pupils, UPNs with valid check
letters) and broken rows written here.
"""

from __future__ import annotations

import pytest

from connectors import registry
from connectors.education.connector import AttendanceCsvConnector
from schemas.event_types import EventType
from schemas.identifiers import UPN
from tests.unit.connectors.education_support import SAMPLES, assert_sound, run

CONNECTOR = AttendanceCsvConnector()
FOLDER = SAMPLES / "attendance-csv"
HEADER = (
    "record_id,record_version,upn,given_name,family_name,birth_date,school_urn,term,"
    "sessions_possible,sessions_attended,authorised_absences,unauthorised_absences,as_of_date\n"
)
GOOD = "A-1,1,U881200120004,Dev,Example,2016-01-11,990001,2025-spring,100,95,3,2,2025-04-04\n"


def csv(*rows: str, header: str = HEADER) -> bytes:
    return (header + "".join(rows)).encode()


def test_registered_under_its_format_name() -> None:
    assert isinstance(registry.get("attendance-csv"), AttendanceCsvConnector)


def test_sample_converts_to_sound_events() -> None:
    events, rejections = run(CONNECTOR, (FOLDER / "attendance-return.csv").read_bytes())
    assert rejections == []
    for event in events:
        assert_sound(event)
    assert [(e.event_type, e.source_record_id) for e in events] == [
        (EventType.ATTENDANCE, "ATT-2024A-0001"),
        (EventType.ATTENDANCE, "ATT-2024A-0002"),
        (EventType.PERSISTENT_ABSENCE, "ATT-2024A-0002/persistent-absence"),
        (EventType.ATTENDANCE, "ATT-2024A-0003"),
        (EventType.RECORD_RETRACTED, "ATT-2024A-0003/persistent-absence"),
    ]
    assert events[-1].retracts == "ATT-2024A-0003/persistent-absence"


@pytest.mark.parametrize(("attended", "flagged"), [(90, True), (91, False), (100, False), (0, True)], ids=str)
def test_persistent_absence_from_ten_percent_missed(attended: int, flagged: bool) -> None:
    row = f"A-1,1,U881200120004,Dev,Example,2016-01-11,990001,2025-spring,100,{attended},,,2025-04-04\n"
    events, _ = run(CONNECTOR, csv(row))
    assert (EventType.PERSISTENT_ABSENCE in {e.event_type for e in events}) is flagged
    assert events[0].entries[0].resource["valueQuantity"]["value"] == attended


def test_identifiers_normalised_and_ids_deterministic() -> None:
    data = csv(GOOD.replace("U881200120004", " u881200120004"))
    first, _ = run(CONNECTOR, data)
    again, _ = run(CONNECTOR, data)
    assert [e.event_id for e in first] == [e.event_id for e in again]
    assert [(s.system, s.value) for s in first[0].subjects] == [(UPN, "U881200120004")]
    observation = first[0].entries[0].resource
    assert observation["performer"][0]["identifier"]["value"] == "990001"


def test_bom_upper_case_and_reordered_columns_are_read_alike() -> None:
    names = HEADER.strip().split(",")
    cells = GOOD.strip().split(",")
    reordered = ",".join(reversed(names)).upper() + "\n" + ",".join(reversed(cells)) + "\n"
    plain, _ = run(CONNECTOR, csv(GOOD))
    other, _ = run(CONNECTOR, b"\xef\xbb\xbf" + reordered.encode())
    assert [e.event_id for e in other] == [e.event_id for e in plain]


def test_invalid_sample_rejects_bad_rows_and_keeps_the_good_one() -> None:
    events, rejections = run(CONNECTOR, (FOLDER / "invalid.csv").read_bytes())
    assert [e.source_record_id for e in events] == ["ATT-2024A-0101"]
    assert [r.location for r in rejections] == [
        "line 3, column upn",
        "line 4, column birth_date",
        "line 5, column term",
    ]
    assert all(r.original.startswith(b"record_id,") for r in rejections)


BROKEN = {
    "attended above possible": ("100,101,0,0", "sessions_attended", "exceed the sessions possible"),
    "absences above missed": ("100,95,4,3", "sessions_attended", "exceed the sessions missed"),
    "no possible sessions": ("0,0,,", "sessions_attended", "at least 1"),
    "negative count": ("100,-1,,", "sessions_attended", "out of range"),
    "not a number": ("100,ninety,,", "sessions_attended", "not a whole number"),
    "empty required": ("100,,,", "sessions_attended", "empty"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_figures_are_rejected_with_line_and_column(case: str) -> None:
    figures, column, reason = BROKEN[case]
    row = f"A-2,1,U881200120004,Dev,Example,2016-01-11,990001,2025-spring,{figures},2025-04-04\n"
    events, rejections = run(CONNECTOR, csv(GOOD, row))
    assert [e.source_record_id for e in events] == ["A-1"]
    (rejection,) = rejections
    assert rejection.location == f"line 3, column {column}"
    assert reason in rejection.reason


@pytest.mark.parametrize(
    ("old", "new", "column"),
    [
        ("990001", "99001", "school_urn"),
        ("2016-01-11", "11/01/2016", "birth_date"),
        ("2025-04-04", "", "as_of_date"),
        ("2025-spring", "2025-winter", "term"),
        ("A-1,1,", "A-1,v2,", "record_version"),
        ("Example", "", "family_name"),
    ],
)
def test_broken_cells_are_rejected_without_echoing_them(old: str, new: str, column: str) -> None:
    (rejection,) = run(CONNECTOR, csv(GOOD.replace(old, new, 1)))[1]
    assert rejection.location == f"line 2, column {column}"
    if new:
        assert new not in rejection.reason


def test_wrong_column_names_reject_the_whole_file() -> None:
    data = csv(GOOD, header=HEADER.replace("upn,", "pupil_upn,"))
    events, rejections = run(CONNECTOR, data)
    assert events == []
    (rejection,) = rejections
    assert rejection.location == "line 1"
    assert "upn" in rejection.reason
    assert rejection.original == data
