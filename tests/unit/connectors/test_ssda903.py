"""ssda903: the DfE SSDA903 looked-after children CSV tables to hub events.

Public samples: tests/data/public/childrens-social-care/ssda903/ (fake SSDA903 tables: header,
episodes, missing, reviews, uasc, oc2, oc3, ad1, placed_for_adoption, previous_permanence,
sw_episodes, DoLo), from data-to-insight/csc-validator-be-903 `tests/fake_data/` @ 10ad07c, MIT
licence. hubnet's own synthetic samples are in samples/ssda903 (invented children).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from connectors import registry
from connectors.social_care.connector import Ssda903Connector
from schemas.event_types import EventType
from schemas.identifiers import UPN, local_system
from tests.unit.connectors.social_care_support import (
    CTX,
    PARTNER,
    SAMPLES,
    assert_restricted,
    assert_sound,
    run,
    shared_data,
)

CONNECTOR = Ssda903Connector()
FOLDER = SAMPLES / "ssda903"
EPISODES = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC\n"
EPISODE = "C-1,03/02/2024,S,C1,N1,U6,PR1,20/06/2024,X1\n"


def test_registered_under_its_format_name() -> None:
    assert isinstance(registry.get("ssda903"), Ssda903Connector)


@pytest.mark.parametrize(
    ("name", "count", "code", "resource"),
    [
        ("header.csv", 2675, EventType.PERSON_REGISTERED, "Patient"),
        ("missing.csv", 43, EventType.FLAG_RAISED, "Flag"),
    ],
)
def test_public_mapped_tables_convert_whole(name: str, count: int, code: EventType, resource: str) -> None:
    events, rejections = run(CONNECTOR, (shared_data("ssda903") / name).read_bytes())
    assert rejections == []
    assert len(events) == count
    assert {e.event_type for e in events} == {code}
    for event in events[:25]:
        assert event.entries[0].resource["resourceType"] == resource
        assert_restricted(event)
        assert_sound(event)


def test_public_episodes_with_rec_but_no_dec_are_refused_never_shown_open() -> None:
    """DfE rule 148: "Date episode ceased and reason episode ceased must both be coded, or both left
    blank." 1,413 of the 5,050 fake episode rows give REC without DEC; each is refused at its DEC
    cell, and every episode hubnet does show is open exactly when it has no DEC."""
    data = (shared_data("ssda903") / "episodes.csv").read_bytes()
    events, rejections = run(CONNECTOR, data)
    assert (len(events), len(rejections)) == (3637, 1413)
    for rejection in rejections:
        assert rejection.location is not None
        assert rejection.location.endswith(", column dec")
        assert (
            "REC (reason episode ceased) is given but DEC (date episode ceased) is empty" in rejection.reason
        )
        assert "rule 148" in rejection.reason
    lines = data.decode().splitlines()
    header = lines[0].split(",")
    for rejection in rejections:
        row = dict(
            zip(header, lines[int(rejection.location.split()[1].rstrip(",")) - 1].split(","), strict=True)
        )
        assert row["REC"]
        assert not row["DEC"]
    for event in events:
        care = event.entries[0].resource
        assert care["status"] in ("active", "finished")
        assert (care["status"] == "active") == ("end" not in care["period"])


def test_rec_without_dec_is_refused_and_the_other_rows_still_convert() -> None:
    open_with_reason = "C-2,03/02/2024,S,C1,N1,U6,PR1,,E11\n"
    events, [rejection] = run(CONNECTOR, (EPISODES + EPISODE + open_with_reason).encode())
    assert len(events) == 1
    assert rejection.location == "line 3, column dec"
    assert rejection.record_ref == "line 3"


def test_an_open_episode_with_neither_dec_nor_rec_is_active() -> None:
    [event], [] = run(CONNECTOR, (EPISODES + "C-3,03/02/2024,S,C1,N1,U6,PR1,,\n").encode())
    assert event.entries[0].resource["status"] == "active"


@pytest.mark.parametrize(
    "xml",
    [
        b'<?xml version="1.0" encoding="utf-8"?><Message><Header/><Children/></Message>',
        b"\xef\xbb\xbf\r\n  <Message><Children><Child><CHILD>1</CHILD></Child></Children></Message>",
    ],
)
def test_the_xml_return_is_refused_whole_asking_for_the_csv_tables(xml: bytes) -> None:
    events, [rejection] = run(CONNECTOR, xml)
    assert events == []
    assert rejection.reason.startswith("line 1: XML return not supported; send the CSV tables")
    assert rejection.original == xml


@pytest.mark.parametrize(
    ("name", "table"),
    [
        ("reviews.csv", "reviews"),
        ("uasc.csv", "UASC"),
        ("oc2.csv", "OC2"),
        ("oc3.csv", "OC3"),
        ("ad1.csv", "AD1"),
        ("placed_for_adoption.csv", "placed for adoption"),
        ("previous_permanence.csv", "previous permanence"),
        ("sw_episodes.csv", "social worker episodes"),
        ("DoLo.csv", "deprivation of liberty orders"),
    ],
)
def test_public_unmapped_tables_are_rejected_whole_naming_the_table(name: str, table: str) -> None:
    data = (shared_data("ssda903") / name).read_bytes()
    events, [rejection] = run(CONNECTOR, data)
    assert events == []
    assert rejection.reason.startswith(f"line 1: this is the SSDA903 {table} table")
    assert rejection.original == data


def test_hubnet_samples_convert() -> None:
    for name in ("header.csv", "episodes.csv", "missing.csv"):
        events, rejections = run(CONNECTOR, (FOLDER / name).read_bytes())
        assert rejections == []
        assert events
        for event in events:
            assert_restricted(event)
            assert_sound(event)


def test_episode_carries_legal_status_placement_and_reasons() -> None:
    [event], _ = run(CONNECTOR, (EPISODES + EPISODE).encode())
    care = event.entries[0].resource
    assert care["status"] == "finished"
    assert care["period"] == {"start": "2024-02-03", "end": "2024-06-20"}
    assert [t["coding"][0]["code"] for t in care["type"]] == ["looked-after", "C1", "U6", "S", "N1", "X1"]
    assert event.source_record_id == "C-1/episode/2024-02-03"
    assert event.subjects[0].system == local_system(PARTNER, "person")


def test_older_pl_column_name_is_accepted() -> None:
    data = (EPISODES.replace("PLACE,", "PL,").lower() + EPISODE).encode()
    [event], rejections = run(CONNECTOR, data)
    assert rejections == []
    assert event.entries[0].resource["type"][2]["coding"][0]["code"] == "U6"


def test_missing_episode_is_an_urgent_restricted_flag() -> None:
    data = b"CHILD,DOB,MISSING,MIS_START,MIS_END\nC-1,02/12/2008,A,02/04/2025,\n"
    [event], _ = run(CONNECTOR, data)
    flag = event.entries[0].resource
    assert flag["status"] == "active"
    assert flag["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "urgent"
    assert [c["code"] for c in flag["code"]["coding"]] == ["missing", "A"]
    assert event.entries[-1].resource["birthDate"] == "2008-12-02"
    assert_restricted(event)


def test_header_keeps_a_valid_upn_and_drops_an_invalid_one() -> None:
    events, rejections = run(CONNECTOR, (FOLDER / "header.csv").read_bytes())
    assert rejections == []
    assert [(s.system, s.value) for s in events[0].subjects] == [
        (local_system(PARTNER, "person"), "P-5201"),
        (UPN, "T881200101001"),
    ]
    data = b"CHILD,SEX,DOB,ETHNIC,UPN\nC-2,2,01/01/2010,WBRI,T881200101002\n"
    [event], rejections = run(CONNECTOR, data)
    assert rejections == []
    assert [s.value for s in event.subjects] == ["C-2"]
    assert event.entries[0].resource["gender"] == "female"


def test_wrong_column_names_reject_the_file() -> None:
    data = b"CHILD,DECOM,RNE,LEGAL,PLACE\nC-1,03/02/2024,S,C1,U6\n"
    _, [rejection] = run(CONNECTOR, data)
    assert rejection.location == "line 1"
    assert "ls" in rejection.reason
    _, [unknown] = run(CONNECTOR, b"ID,START\n1,2\n")
    assert "not that of an SSDA903" in unknown.reason


@pytest.mark.parametrize(
    ("row", "location", "words"),
    [
        ("C-1,03/02/2024,S,C1,N1,U6,PR1,20/01/2024,X1\n", "line 2, column dec", "before the start"),
        ("C-1,03/02/2024,Q,C1,N1,U6,PR1,,\n", "line 2, column rne", "codes"),
        ("C-1,03/02/2024,S,C9,N1,U6,PR1,,\n", "line 2, column ls", "codes"),
        ("C-1,03/02/2024,S,C1,N1,XX,PR1,,\n", "line 2, column place", "codes"),
        ("C-1,03/02/2024,S,C1,N1,U6,PR1,20/06/2024,\n", "line 2, column rec", "required"),
        ("C-1,2024-13-03,S,C1,N1,U6,PR1,,\n", "line 2, column decom", "not a date"),
        ("C-1,03/02/2030,S,C1,N1,U6,PR1,,\n", "line 2, column decom", "future"),
        (",03/02/2024,S,C1,N1,U6,PR1,,\n", "line 2, column child", "required"),
    ],
)
def test_bad_episode_rows_are_rejected_with_line_and_column(row: str, location: str, words: str) -> None:
    events, [rejection] = run(CONNECTOR, (EPISODES + row).encode())
    assert events == []
    assert rejection.location == location
    assert words in rejection.reason


def test_birth_in_the_future_and_missing_end_before_start_are_rejected() -> None:
    _, [born] = run(CONNECTOR, b"CHILD,SEX,DOB,ETHNIC\nC-1,1,01/01/2031,WBRI\n")
    assert born.location == "line 2, column dob"
    data = b"CHILD,DOB,MISSING,MIS_START,MIS_END\nC-1,02/12/2008,M,14/03/2025,13/03/2025\n"
    _, [missing] = run(CONNECTOR, data)
    assert missing.location == "line 2, column mis_end"


def test_bad_rows_do_not_block_the_others_and_replay_alone() -> None:
    data = (FOLDER / "invalid.csv").read_bytes() + EPISODE.encode()
    events, rejections = run(CONNECTOR, data)
    assert [r.record_ref for r in rejections] == ["line 2", "line 3"]
    assert [e.source_record_id for e in events] == ["C-1/episode/2024-02-03"]
    _, [again] = run(CONNECTOR, rejections[0].original)
    assert again.location == "line 2, column dec"


def test_event_ids_are_deterministic_per_received_file() -> None:
    data = (FOLDER / "episodes.csv").read_bytes()
    first, _ = run(CONNECTOR, data)
    second, _ = run(CONNECTOR, data)
    assert [e.event_id for e in first] == [e.event_id for e in second]
    later, _ = run(CONNECTOR, data, replace(CTX, received_at=CTX.received_at + timedelta(days=1)))
    assert [e.source_record_id for e in later] == [e.source_record_id for e in first]
    assert all(b.record_version > a.record_version for a, b in zip(first, later, strict=True))
    assert [e.entries[0].resource["id"] for e in later] == [e.entries[0].resource["id"] for e in first]
