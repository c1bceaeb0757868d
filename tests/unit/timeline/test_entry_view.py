"""Entries read like a case note: title in words, who it is about, who recorded it, when, key figures.

Every case runs a published sample through its real connector, so the words are checked against what
the hub actually stores, not a hand-made resource.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from connectors import registry
from connectors.base import SourceContext
from schemas.envelope import HubEvent, Sensitivity
from schemas.event_types import definition
from services.consent.staff import staff_decision
from services.timeline.entry_view import EntryText, MemberFacts, age_text, entry_text, when_text
from services.timeline.free_text import Reader, redact_entry
from services.timeline.model import TimelineEntry
from services.timeline.titles import describe
from tests.unit.referrals.support import nhs

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
KID = MemberFacts("Ava Jones", "child", "2024-01-10")


def converted(fmt: str, path: str) -> list[HubEvent]:
    data = (SAMPLES / path).read_bytes()
    outcomes = registry.get(fmt).convert(data, SourceContext(partner="essex-hv", source_name=path))
    return [o for o in outcomes if isinstance(o, HubEvent)]


def as_entry(event: HubEvent) -> TimelineEntry:
    title, summary = describe(event)
    return TimelineEntry(
        event.event_id, "p1", ("f1",), event.occurred_at, event.ingested_at, event.source_partner,
        event.source_system, event.source_record_id, event.record_version,
        definition(event.event_type).domain, event.event_type.value, title, summary,
        Sensitivity.NORMAL, tuple(e.resource for e in event.entries),
    )  # fmt: skip


def words(fmt: str, path: str, event_type: str, index: int = 0, **names: str) -> EntryText:
    events = [e for e in converted(fmt, path) if e.event_type.value == event_type]
    return entry_text(as_entry(events[index]), {"p1": KID}, names.get)


@pytest.mark.parametrize(
    ("fmt", "path", "event_type", "index", "title"),
    [
        (
            "vaccination-csv",
            "vaccination-csv/MMR_Vaccinations_v5_X99XX_20250314T12000000.csv",
            "immunisation",
            0,
            "MMR 1st dose given",
        ),
        ("nems", "nems/vaccination-new.xml", "immunisation", 0, "6-in-1 2nd dose given"),
        ("ndjson", "ndjson/Immunization.ndjson", "immunisation", 0, "MenB given"),
        ("hv-csv", "hv-csv/hv-reviews.csv", "health-visitor-review", 4, "2-2½ year review: not attended"),
        ("hv-csv", "hv-csv/hv-reviews.csv", "health-visitor-review", 3, "12 month review"),
        (
            "attendance-csv",
            "attendance-csv/attendance-return.csv",
            "attendance",
            1,
            "Autumn term 2024 attendance 85.7% (persistently absent)",
        ),
        (
            "attendance-csv",
            "attendance-csv/attendance-return.csv",
            "attendance",
            0,
            "Autumn term 2024 attendance 95%",
        ),
        ("csc-events", "csc-events/case-events.csv", "care-episode", 0, "Child in need plan started"),
        ("cin-census", "cin-census/cin-census-2025.xml", "care-episode", 0, "Child protection plan started"),
        ("ssda903", "ssda903/missing.csv", "flag-raised", 0, "Missing from home or care ended"),
        ("ctf", "ctf/ctf-transfer.xml", "exclusion", 0, "Suspension (fixed period)"),
        ("ctf", "ctf/ctf-transfer.xml", "sen-status", 0, "SEN support started"),
        (
            "csc-events",
            "csc-events/case-events.csv",
            "social-care-contact",
            0,
            "Contact with children's social care",
        ),
        (
            "bloodspot-csv",
            "bloodspot-csv/nbs-results.csv",
            "newborn-screening",
            0,
            "Newborn blood spot screening",
        ),
        ("vcs-json", "vcs-json/activity.json", "referral-requested", 0, "Food bank referral"),
        ("hl7v2", "hl7v2/family-hub-feed.hl7", "observation", 0, "Body weight"),
    ],
)
def test_each_event_type_gets_a_title_in_words(
    fmt: str, path: str, event_type: str, index: int, title: str
) -> None:
    assert words(fmt, path, event_type, index).title == title


@pytest.mark.parametrize(("permit", "title"), [(True, "given"), (False, "withdrawn")])
def test_a_consent_decision_says_whether_it_was_given_or_withdrawn_and_about_whom(
    permit: bool, title: str
) -> None:
    decision = staff_decision(user="hv", nhs_number=nhs(5), about="tendring-foodbank", permit=permit)
    assert entry_text(as_entry(decision)).title == f"Consent to share with Tendring foodbank {title}"


def test_attendance_figures_are_a_small_table() -> None:
    found = dict(words("attendance-csv", "attendance-csv/attendance-return.csv", "attendance", 1).facts)
    assert found["Sessions possible"] == "140"
    assert found["Sessions missed"] == "20"
    assert found["Unauthorised absence sessions"] == "12"


def test_asq3_scores_and_review_outcome_are_shown() -> None:
    found = dict(words("hv-csv", "hv-csv/hv-reviews.csv", "health-visitor-review", 3).facts)
    assert found["ASQ-3 Communication score"] == "55"
    assert found["Outcome"] == "completed"


def test_vaccine_dose_and_batch_are_shown() -> None:
    found = dict(words("nems", "nems/vaccination-new.xml", "immunisation").facts)
    assert found["Dose"] == "2nd"
    assert found["Vaccine"].startswith("Infanrix Hexa")


def test_a_date_only_fact_stays_a_date_and_times_are_in_london() -> None:
    review = words("hv-csv", "hv-csv/hv-reviews.csv", "health-visitor-review", 0)
    assert review.when == "20 November 2024"
    assert "00:00" not in review.when
    assert "UTC" not in review.when
    assert when_text("2024-07-01T09:20:00Z") == "1 July 2024 at 10:20"  # BST
    assert when_text("2025-08-01T00:00:00+00:00") == "1 August 2025"  # a date sent as midnight


def test_the_member_it_is_about_with_age_at_the_time() -> None:
    review = words("hv-csv", "hv-csv/hv-reviews.csv", "health-visitor-review", 0)
    assert review.about == "Ava Jones (child, 10 months at the time)"
    assert age_text("2024-01-10", date(2024, 2, 1)) == "3 weeks"
    assert age_text("2021-01-10", date(2023, 4, 10)) == "2 years 3 months"


def test_organisation_names_come_from_reference_data_and_an_unknown_code_shows() -> None:
    path = "attendance-csv/attendance-return.csv"
    assert words("attendance-csv", path, "attendance").recorded_by == "990001"
    named = words("attendance-csv", path, "attendance", **{"990001": "Clacton Primary"})
    assert named.recorded_by == "Clacton Primary"


def test_a_withheld_free_text_never_reaches_the_words() -> None:
    (event,) = [
        e for e in converted("hl7v2", "hl7v2/family-hub-feed.hl7") if e.event_type.value == "observation"
    ]
    entry = as_entry(event)
    note = "domestic abuse disclosed by mother"
    feeding = dict(entry.resources[2], valueString=note)
    feeding["code"] = dict(feeding["code"], text=note)
    resources = (feeding, *entry.resources[3:])  # the note first, so it would be the title
    shown, withheld = redact_entry(replace(entry, resources=resources), Reader(restricted=()))
    text = entry_text(shown)
    assert withheld == 2
    assert "abuse" not in str(text)
    assert text.title == "Feeding"  # the coded display, not the withheld text
    assert ("Feeding", "withheld: free text") in text.facts
