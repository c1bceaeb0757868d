"""The `ctf` connector (DfE Common Transfer File XML).

No public CTF sample exists (see tests/data/public/README.md), so these tests use hubnet's own
synthetic fixtures in samples/ctf/ (invented pupils, UPNs with valid check letters) and broken
variants built here from the CTF specification's element names.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from connectors import registry
from connectors.base import Record
from connectors.education.codes import ROLE_CODE_SYSTEM
from connectors.education.connector import CtfConnector
from schemas.envelope import CONFIDENTIALITY_SYSTEM, Sensitivity
from schemas.errors import MappingError
from schemas.event_types import EventType
from schemas.identifiers import UPN
from tests.unit.connectors.education_support import CTX, SAMPLES, assert_sound, run

CONNECTOR = CtfConnector()
SAMPLE = (SAMPLES / "ctf" / "ctf-transfer.xml").read_bytes()
HEADER = (
    "<Header><DateTime>2025-03-14T10:15:00</DateTime>"
    "<SourceSchool><LEA>881</LEA><Estab>2001</Estab><URN>990001</URN></SourceSchool></Header>"
)
GOOD_PUPIL = "<UPN>U881200120004</UPN><Surname>Example</Surname><Forename>Dev</Forename><DOB>2016-01-11</DOB>"


def ctf(*pupils: str, header: str = HEADER) -> bytes:
    body = "".join(f"<Pupil>{p}</Pupil>" for p in pupils)
    return f"<CTfile>{header}<CTFpupilData>{body}</CTFpupilData></CTfile>".encode()


def test_registered_under_its_format_name() -> None:
    assert isinstance(registry.get("ctf"), CtfConnector)


def test_sample_converts_to_sound_events_of_every_education_kind() -> None:
    events, rejections = run(CONNECTOR, SAMPLE)
    assert rejections == []
    for event in events:
        assert_sound(event)
    assert Counter(e.event_type for e in events) == {
        EventType.PERSON_UPDATED: 3,
        EventType.SCHOOL_ENROLMENT: 3,
        EventType.SEN_STATUS: 2,
        EventType.ATTENDANCE: 2,
        EventType.PERSISTENT_ABSENCE: 1,
        EventType.EXCLUSION: 1,
    }
    assert {e.record_version for e in events} == {"2025-03-14T10:15:00Z"}  # 10:15 GMT


def test_pupil_identity_is_normalised_into_subject_and_patient() -> None:
    pupil = GOOD_PUPIL.replace("U881200120004", " u881200120004 ") + (
        "<Address><Postcode>co99 9zz</Postcode></Address>"
        "<UniqueLearnerNumber>9990000011</UniqueLearnerNumber>"
    )
    events, _ = run(CONNECTOR, ctf(pupil))
    (person,) = events
    assert [(s.system, s.value) for s in person.subjects] == [(UPN, "U881200120004")]
    patient = person.entries[0].resource
    assert patient["address"] == [{"use": "home", "postalCode": "CO99 9ZZ"}]
    assert patient["identifier"][0] == {"system": UPN, "value": "U881200120004"}
    assert patient["birthDate"] == "2016-01-11"


def test_event_ids_are_deterministic_and_each_pupil_replays_alone() -> None:
    first, _ = run(CONNECTOR, SAMPLE)
    again, _ = run(CONNECTOR, SAMPLE)
    assert [e.event_id for e in first] == [e.event_id for e in again]
    records = list(CONNECTOR.split(SAMPLE))
    assert [r.ref for r in records] == [f"CTfile.CTFpupilData.Pupil[{n}]" for n in (0, 1, 2)]
    replayed = [e.event_id for r in records for e in run(CONNECTOR, r.raw)[0]]
    assert replayed == [e.event_id for e in first]


def test_a_later_file_is_a_later_version_of_the_same_records() -> None:
    later = SAMPLE.replace(b"2025-03-14T10:15:00", b"2025-07-01T09:00:00")
    first, _ = run(CONNECTOR, SAMPLE)
    second, _ = run(CONNECTOR, later)
    assert [e.source_record_id for e in first] == [e.source_record_id for e in second]
    assert {e.record_version for e in second} == {"2025-07-01T08:00:00Z"}  # BST to UTC
    assert not {e.event_id for e in first} & {e.event_id for e in second}


def test_semh_need_makes_the_sen_event_and_its_resources_restricted() -> None:
    events, _ = run(CONNECTOR, SAMPLE)
    sen = [e for e in events if e.event_type is EventType.SEN_STATUS]
    assert [e.sensitivity for e in sen] == [Sensitivity.NORMAL, Sensitivity.RESTRICTED]
    labelled = [entry.resource for entry in sen[1].entries if entry.resource["resourceType"] != "Patient"]
    assert [r["resourceType"] for r in labelled] == ["Flag", "Condition", "Condition"]
    for resource in labelled:
        assert resource["meta"]["security"] == [{"system": CONFIDENTIALITY_SYSTEM, "code": "R"}]
    assert sen[1].entries[1].resource["code"]["text"] == "Primary need: Autistic spectrum disorder"


def test_persistent_absence_from_year_figures() -> None:
    events, _ = run(CONNECTOR, SAMPLE)
    (flag_event,) = [e for e in events if e.event_type is EventType.PERSISTENT_ABSENCE]
    flag = flag_event.entries[0].resource
    assert flag["resourceType"] == "Flag"
    assert flag["code"]["text"] == "Persistent absence: 15.0% of sessions missed in 2024/25"
    observations = [e.entries[0].resource for e in events if e.event_type is EventType.ATTENDANCE]
    assert [o["valueQuantity"]["value"] for o in observations] == [92.1, 85.0]


def test_enrolment_episodes_name_the_school_and_their_period() -> None:
    events, _ = run(CONNECTOR, SAMPLE)
    episodes = [e.entries[0].resource for e in events if e.event_type is EventType.SCHOOL_ENROLMENT]
    assert [(e["status"], e["period"]) for e in episodes[:2]] == [
        ("finished", {"start": "2019-09-04", "end": "2022-07-20"}),
        ("active", {"start": "2022-09-05"}),
    ]
    assert episodes[1]["managingOrganization"]["identifier"]["value"] == "990001"


def test_element_order_and_namespaces_do_not_matter() -> None:
    reordered = ctf(
        "<DOB>2016-01-11</DOB><Forename>Dev</Forename><Surname>Example</Surname><UPN>U881200120004</UPN>"
    )
    namespaced = ctf(GOOD_PUPIL).replace(b"<CTfile>", b'<CTfile xmlns="urn:example:ctf">')
    ids = {run(CONNECTOR, data)[0][0].event_id for data in (ctf(GOOD_PUPIL), reordered, namespaced)}
    assert len(ids) == 1


def test_invalid_sample_rejects_only_the_broken_pupil() -> None:
    events, rejections = run(CONNECTOR, (SAMPLES / "ctf" / "invalid.xml").read_bytes())
    assert len(events) == 2
    (rejection,) = rejections
    assert rejection.location == "CTfile.CTFpupilData.Pupil[1].UPN"
    assert rejection.record_ref == "CTfile.CTFpupilData.Pupil[1]"
    assert "check letter" in rejection.reason
    assert b"A881300118005" in rejection.original
    assert b"Finn" not in rejection.original
    # the dead-lettered pupil replays alone (as the only pupil of its file) and fails the same way
    (again,) = run(CONNECTOR, rejection.original)[1]
    assert again.location == "CTfile.CTFpupilData.Pupil[0].UPN"
    assert again.reason.split(": ", 1)[1] == rejection.reason.split(": ", 1)[1]


SCHOOL = "<SchoolHistory><School><LEA>881</LEA><Estab>2001</Estab>{}</School></SchoolHistory>"
BROKEN = {
    "missing DOB": (GOOD_PUPIL.replace("<DOB>2016-01-11</DOB>", ""), ".DOB", "missing"),
    "DOB not a date": (GOOD_PUPIL.replace("2016-01-11", "11/01/2016"), ".DOB", "not a date"),
    "born after the file": (
        GOOD_PUPIL.replace("2016-01-11", "2025-03-15"),
        ".DOB",
        "after the date the file",
    ),
    "missing surname": (GOOD_PUPIL.replace("<Surname>Example</Surname>", ""), ".Surname", "missing"),
    "bad gender": (GOOD_PUPIL + "<Gender>Z</Gender>", ".Gender", "codes"),
    "short ULN": (
        GOOD_PUPIL + "<UniqueLearnerNumber>123</UniqueLearnerNumber>",
        ".UniqueLearnerNumber",
        "10",
    ),
    "leaving before entry": (
        GOOD_PUPIL + SCHOOL.format("<EntryDate>2022-09-05</EntryDate><LeavingDate>2021-07-20</LeavingDate>"),
        ".SchoolHistory.School[0].LeavingDate",
        "end date is before",
    ),
    "entry before birth": (
        GOOD_PUPIL + SCHOOL.format("<EntryDate>2015-09-05</EntryDate>"),
        ".SchoolHistory.School[0].EntryDate",
        "after the school entry date",
    ),
    "unknown SEN provision": (
        GOOD_PUPIL + "<SENhistory><SEN><StartDate>2023-01-09</StartDate>"
        "<SENprovision>S</SENprovision></SEN></SENhistory>",
        ".SENhistory.SEN[0].SENprovision",
        "codes",
    ),
    "unknown SEN type": (
        GOOD_PUPIL + "<SENhistory><SEN><StartDate>2023-01-09</StartDate><SENprovision>K</SENprovision>"
        "<SENneeds><SENneed><SENtype>XYZ</SENtype></SENneed></SENneeds></SEN></SENhistory>",
        ".SENhistory.SEN[0].SENneeds.SENneed[0].SENtype",
        "codes",
    ),
    "SEN end before start": (
        GOOD_PUPIL + "<SENhistory><SEN><StartDate>2023-01-09</StartDate><EndDate>2022-01-09</EndDate>"
        "<SENprovision>K</SENprovision></SEN></SENhistory>",
        ".SENhistory.SEN[0].EndDate",
        "end date is before",
    ),
    "absences exceed sessions": (
        GOOD_PUPIL + "<Attendance><YearData><Year>2024</Year><SessionAttendance><SessionsPossible>10"
        "</SessionsPossible><SessionsAuthorised>8</SessionsAuthorised><SessionsUnauthorised>3"
        "</SessionsUnauthorised></SessionAttendance></YearData></Attendance>",
        ".Attendance.YearData[0].SessionAttendance[0]",
        "exceed the sessions possible",
    ),
    "unknown exclusion category": (
        GOOD_PUPIL + "<Exclusions><Exclusion><StartDate>2025-01-22</StartDate><Category>TEMP</Category>"
        "</Exclusion></Exclusions>",
        ".Exclusions.Exclusion[0].Category",
        "codes",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_pupil_is_rejected_with_element_path_while_others_convert(case: str) -> None:
    pupil, where, reason = BROKEN[case]
    events, rejections = run(CONNECTOR, ctf(GOOD_PUPIL, pupil))
    assert [e.event_type for e in events] == [EventType.PERSON_UPDATED]
    (rejection,) = rejections
    assert rejection.location == "CTfile.CTFpupilData.Pupil[1]" + where
    assert reason in rejection.reason
    for value in re.findall(r">([^<]+)<", pupil):  # no value from the file is echoed back
        if len(value) > 3:
            assert value not in rejection.reason


@pytest.mark.parametrize(
    ("data", "where", "reason"),
    [
        (b"<CTfile><Header>", "line 1, column 17", "not well-formed"),
        (b"<CINfile/>", "CINfile", "expected 'CTfile'"),
        (b"<CTfile><CTFpupilData/></CTfile>", "CTfile.Header", "missing"),
        (
            ctf(GOOD_PUPIL, header=HEADER.replace("2025-03-14T10:15:00", "yesterday")),
            "CTfile.Header.DateTime",
            "date-time",
        ),
        (
            b'<!DOCTYPE CTfile [<!ENTITY x "boom">]><CTfile>&x;</CTfile>',
            "DOCTYPE",
            "DTD or entities",
        ),
    ],
)
def test_unreadable_file_is_one_rejection_with_the_whole_input(data: bytes, where: str, reason: str) -> None:
    events, rejections = run(CONNECTOR, data)
    assert events == []
    (rejection,) = rejections
    assert rejection.location == where
    assert reason in rejection.reason
    assert rejection.original == data


def test_a_record_holding_two_pupils_is_refused() -> None:
    with pytest.raises(MappingError, match="expected one Pupil"):
        CONNECTOR.map_record(Record(raw=ctf(GOOD_PUPIL, GOOD_PUPIL)), CTX)


def test_contacts_are_related_people_in_the_pupils_details_event() -> None:
    """The sample's first pupil lists a mother (PAM), a step-father (STF) and a childminder
    (CHM): RelatedPersons after the Patient; only parents and carers carry a v3 RoleCode."""
    events, _ = run(CONNECTOR, SAMPLE)
    details = next(e for e in events if e.event_type is EventType.PERSON_UPDATED and len(e.entries) > 1)
    patient, *related = [entry.resource for entry in details.entries]
    assert patient["resourceType"] == "Patient"
    assert details.focus == details.entries[0].full_url
    roles = [
        [c["code"] for c in r["relationship"][0]["coding"] if c["system"] == ROLE_CODE_SYSTEM]
        for r in related
    ]
    assert roles == [["MTH"], ["STPFTH"], []]
    mother = related[0]
    assert mother["patient"] == {"reference": f"urn:uuid:{patient['id']}"}
    assert mother["name"] == [{"family": "Testpupil", "given": ["Bryony"]}]
    assert mother["address"] == [{"postalCode": "CO99 9ZZ"}]
    assert related[2]["relationship"][0]["text"] == "Childminder"
    again, _ = run(CONNECTOR, SAMPLE)
    assert [e.entries[1].resource["id"] for e in again if e.event_id == details.event_id] == [mother["id"]]


def test_unknown_contact_relationship_is_kept_as_text_and_a_bad_gender_rejects_the_pupil() -> None:
    unknown = "<Contacts><Contact><Surname>X</Surname><Relationship>ZZZ</Relationship></Contact></Contacts>"
    [event], rejections = run(CONNECTOR, ctf(GOOD_PUPIL + unknown))
    assert rejections == []
    (relationship,) = event.entries[1].resource["relationship"]
    assert relationship["text"] == "ZZZ"
    assert ROLE_CODE_SYSTEM not in {c["system"] for c in relationship["coding"]}
    bad = "<Contacts><Contact><Gender>Q</Gender><Relationship>PAM</Relationship></Contact></Contacts>"
    events, [rejection] = run(CONNECTOR, ctf(GOOD_PUPIL + bad))
    assert events == []
    assert rejection.location == "CTfile.CTFpupilData.Pupil[0].Contacts.Contact[0].Gender"
