"""cin-census: the DfE Children in Need census XML to hub events.

Public samples: tests/data/public/childrens-social-care/cin-census/ (fake CIN census XML for the
2021 and 2024 schemas and a 332-child fake return), from data-to-insight/csc-validator-be-cin
`fake_data/` @ 1bf6f22, MIT licence. They are validator fixtures, so some records are deliberately
impossible (dates years ahead); the tests pin which. hubnet's own synthetic sample is in
samples/cin-census (invented children).
"""

from __future__ import annotations

from collections import Counter

import pytest

from connectors import registry
from connectors.base import Record
from connectors.social_care.connector import CinCensusConnector
from schemas.envelope import Sensitivity
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

CONNECTOR = CinCensusConnector()
SAMPLE = SAMPLES / "cin-census" / "cin-census-2025.xml"
HEAD = (
    "<Message><Header><CollectionDetails><ReferenceDate>2025-03-31</ReferenceDate></CollectionDetails>"
    "<Source><DateTime>2025-05-02T09:30:00</DateTime></Source></Header><Children>"
)
IDS = (
    "<ChildIdentifiers><LAchildID>C-1</LAchildID>"
    "<PersonBirthDate>2018-01-01</PersonBirthDate></ChildIdentifiers>"
)


def census(*details: str, ids: str = IDS) -> bytes:
    """A one-child census with the given CINdetails bodies."""
    body = "".join(f"<CINdetails>{d}</CINdetails>" for d in details)
    return f"{HEAD}<Child>{ids}{body}</Child></Children></Message>".encode()


REFERRAL = "<CINreferralDate>2024-06-01</CINreferralDate><ReferralSource>6</ReferralSource>"


def test_registered_under_its_format_name() -> None:
    assert isinstance(registry.get("cin-census"), CinCensusConnector)


def test_public_2021_sample_converts_with_cp_plan_restricted() -> None:
    data = (shared_data("cin-census") / "CIN_Census_2021.xml").read_bytes()
    events, rejections = run(CONNECTOR, data)
    assert rejections == []
    for event in events:
        assert_sound(event)
        assert_restricted(event)  # the episode holds a section 47 enquiry and a protection plan
    assert Counter(e.event_type for e in events) == {
        EventType.SOCIAL_CARE_REFERRAL: 1,
        EventType.SOCIAL_CARE_ASSESSMENT: 2,
        EventType.CARE_EPISODE: 3,
    }
    plan = next(e for e in events if e.source_record_id.startswith("DfEX0000001/1970-10-06/cp-plan"))
    assert [r.resource["resourceType"] for r in plan.entries] == ["CarePlan", "Flag", "Patient"]
    assert plan.entries[0].resource["category"][1]["coding"][0]["code"] == "PHY"
    # the sample's UPN fails its check letter: dropped, the LA child id carries the events
    assert [s.system for s in events[0].subjects] == [local_system(PARTNER, "person")]
    assert events[0].entries[-1].resource["deceasedDateTime"] == "1980-10-08"


def test_public_2024_sample_rejects_the_impossible_episode_and_steps_down_the_other() -> None:
    data = (shared_data("cin-census") / "CIN_Census_2024.xml").read_bytes()
    events, [rejection] = run(CONNECTOR, data)
    assert rejection.record_ref == "Message.Children.Child[0].CINdetails[0]"
    assessment = "Message.Children.Child[0].CINdetails[0].Assessments[0]"
    assert rejection.location == assessment  # both of its problems, each at its own element
    assert [(p.path, p.reason.split(" (")[0]) for p in rejection.problems] == [
        (f"{assessment}.AssessmentActualStartDate", "the date is in the future"),
        (f"{assessment}.AssessmentAuthorisationDate", "the end date is before the start date"),
    ]
    assert all(e.subjects[0].value == "child_fails_assessments" for e in events)
    codes = [e.event_type for e in events]
    assert codes[-2:] == [EventType.CARE_EPISODE, EventType.REFERRAL_REQUESTED]
    assert events[-1].source_record_id == "child_fails_assessments/2024-10-24/closure/step-down"
    assert events[0].entries[-1].resource["gender"] == "male"  # 2024 schema: <Sex>M</Sex>
    for event in events:
        assert_sound(event)


def test_public_large_sample_maps_every_possible_episode() -> None:
    data = (shared_data("cin-census") / "fake_CIN_data.xml").read_bytes()
    events, rejections = run(CONNECTOR, data)
    assert sorted(r.record_ref or "" for r in rejections) == [
        "Message.Children.Child[168].CINdetails[0]",
        "Message.Children.Child[168].CINdetails[1]",
        "Message.Children.Child[297].CINdetails[0]",
    ]
    assert all("in the future" in r.reason for r in rejections)
    referrals = [e for e in events if e.event_type is EventType.SOCIAL_CARE_REFERRAL]
    assert len(referrals) == 402 - 3
    assert {
        e.sensitivity
        for e in referrals
        if e.entries[0].resource["reasonCode"][0]["coding"][0]["code"] == "N1"
    } == {Sensitivity.RESTRICTED}
    for event in events[:60]:
        assert_sound(event)


def test_hubnet_sample_converts_and_labels_protection_restricted() -> None:
    events, rejections = run(CONNECTOR, SAMPLE.read_bytes())
    assert rejections == []
    first_child = [e for e in events if e.subjects[0].value == "P-5101"]
    second_child = [e for e in events if e.subjects[0].value == "P-5102"]
    for event in first_child:
        assert_restricted(event)
        assert_sound(event)
    assert [s.system for s in first_child[0].subjects] == [local_system(PARTNER, "person"), UPN]
    assert {e.sensitivity for e in second_child} == {Sensitivity.NORMAL}
    assert second_child[-1].event_type is EventType.REFERRAL_REQUESTED
    assessment = first_child[1].entries[0].resource
    assert assessment["resourceType"] == "Procedure"
    assert assessment["status"] == "completed"
    assert [c["coding"][0]["code"] for c in assessment["reasonCode"]] == ["3B", "4B"]


def test_record_version_is_when_the_file_was_produced() -> None:
    events, _ = run(CONNECTOR, SAMPLE.read_bytes())
    assert {e.record_version for e in events} == {"2025-05-02T09:30:00.000000Z"}
    later, _ = run(CONNECTOR, SAMPLE.read_bytes().replace(b"2025-05-02T09:30:00", b"2026-05-02T09:30:00"))
    assert [e.source_record_id for e in later] == [e.source_record_id for e in events]
    assert all(a.event_id != b.event_id for a, b in zip(events, later, strict=True))
    again, _ = run(CONNECTOR, SAMPLE.read_bytes())
    assert [e.event_id for e in again] == [e.event_id for e in events]


@pytest.mark.parametrize(
    ("data", "location", "words"),
    [
        (census(REFERRAL.replace(">6<", ">11<")), ".CINdetails[0].ReferralSource", "codes"),
        (
            census(
                REFERRAL
                + "<CINclosureDate>2024-05-01</CINclosureDate><ReasonForClosure>RC1</ReasonForClosure>"
            ),
            ".CINdetails[0].CINclosureDate",
            "end date is before the start",
        ),
        (
            census(REFERRAL + "<CINclosureDate>2024-07-01</CINclosureDate>"),
            ".CINdetails[0].ReasonForClosure",
            "reason",
        ),
        (
            census(
                REFERRAL + "<ChildProtectionPlans><CPPstartDate>2024-07-01</CPPstartDate>"
                "<LatestCategoryOfAbuse>XYZ</LatestCategoryOfAbuse></ChildProtectionPlans>"
            ),
            ".CINdetails[0].ChildProtectionPlans[0].LatestCategoryOfAbuse",
            "codes",
        ),
        (
            census(REFERRAL, ids=IDS.replace("2018-01-01", "2030-01-01")),
            ".ChildIdentifiers.PersonBirthDate",
            "future",
        ),
        (
            census(REFERRAL, ids=IDS.replace("<LAchildID>C-1</LAchildID>", "")),
            ".ChildIdentifiers.LAchildID",
            "missing",
        ),
        (census("<ReferralSource>6</ReferralSource>"), ".CINdetails[0].CINreferralDate", "missing"),
        (
            census(REFERRAL.replace("2024-06-01", "2024-13-01")),
            ".CINdetails[0].CINreferralDate",
            "not a date",
        ),
    ],
)
def test_bad_episodes_are_rejected_with_element_path(data: bytes, location: str, words: str) -> None:
    events, [rejection] = run(CONNECTOR, data)
    assert events == []
    assert rejection.location == "Message.Children.Child[0]" + location
    assert words in rejection.reason


def test_child_without_cindetails_is_rejected_not_dropped() -> None:
    _, [rejection] = run(CONNECTOR, census())
    assert rejection.location == "Message.Children.Child[0].CINdetails"
    assert rejection.record_ref == "Message.Children.Child[0]"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"<Message><Header>", "not well-formed"),
        (b"<CTfile/>", "root element"),
        (b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa">]><Message>&a;</Message>', "DTD"),
        (HEAD.encode() + b"</Children></Message>", "no records"),
    ],
)
def test_broken_documents_are_one_rejection(data: bytes, words: str) -> None:
    events, [rejection] = run(CONNECTOR, data)
    assert events == []
    assert words in rejection.reason
    assert rejection.original == data


def test_bad_episode_does_not_block_the_childs_other_episodes_and_replays_alone() -> None:
    bad = REFERRAL.replace("2024-06-01", "2029-06-01")
    good = REFERRAL.replace("2024-06-01", "2023-01-05")
    events, [rejection] = run(CONNECTOR, census(bad, good))
    assert [e.source_record_id for e in events] == ["C-1/2023-01-05/referral"]
    assert rejection.record_ref == "Message.Children.Child[0].CINdetails[0]"
    replay = CONNECTOR.map_record(
        Record(raw=census(good), ref="Message.Children.Child[0].CINdetails[1]"), CTX
    )
    assert [e.event_id for e in replay] == [e.event_id for e in events]
    _, [again] = run(CONNECTOR, rejection.original)
    assert again.location == "Message.Children.Child[0].CINdetails[0].CINreferralDate"


LA_CODE_SYSTEM = "https://hubnet.example.org/Id/dfe-la-code"


def _authority_references(resource: dict[str, object]) -> list[object]:
    """Every reference to the local authority in a resource (managing organisation, performer,
    requester), identified or not."""
    found: list[object] = []
    for name in ("managingOrganization", "requester", "performer"):
        value = resource.get(name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and "Local authority" in str(item.get("display")):
                found.append(item)
    return found


@pytest.mark.parametrize(("name", "code"), [("CIN_Census_2021.xml", "201"), ("fake_CIN_data.xml", "975")])
def test_the_source_local_authority_from_the_header_is_on_every_event(name: str, code: str) -> None:
    """The census header's Source/LEA (the DfE LA code) names the authority on every event."""
    events, _ = run(CONNECTOR, (shared_data("cin-census") / name).read_bytes())
    assert events
    named = {"identifier": {"system": LA_CODE_SYSTEM, "value": code}}
    for event in events:
        patient = next(e.resource for e in event.entries if e.resource["resourceType"] == "Patient")
        assert patient["managingOrganization"]["identifier"] == named["identifier"]
        for entry in event.entries:
            for reference in _authority_references(entry.resource):
                assert isinstance(reference, dict)
                assert reference["identifier"] == named["identifier"]
    step_downs = [e for e in events if e.event_type is EventType.REFERRAL_REQUESTED]
    for event in step_downs:
        assert event.entries[0].resource["requester"]["identifier"]["value"] == code


def test_a_census_without_an_la_code_names_the_authority_by_role_only() -> None:
    [event] = run(CONNECTOR, census(REFERRAL))[0]
    assert all("identifier" not in r for e in event.entries for r in _authority_references(e.resource))
    assert "managingOrganization" not in event.entries[-1].resource


def test_an_la_code_that_is_not_three_digits_is_refused_at_its_element() -> None:
    data = census(REFERRAL).replace(b"<Source>", b"<Source><LEA>Essex</LEA>")
    events, [rejection] = run(CONNECTOR, data)
    assert events == []
    assert rejection.location == "Message.Header.Source.LEA"
    assert "three-digit" in rejection.reason


def test_the_connector_says_which_dfe_rules_it_does_not_apply() -> None:
    assert "does not apply the DfE CIN census validation rules" in CONNECTOR.not_checked
    assert "docs/connectors/cin-census.md" in CONNECTOR.not_checked
