"""The family summary's pure computations with fixed dates: ages, the next mandated health-visiting
review, immunisations due or overdue against the UK routine schedule, the attendance band, key
workers, the previous visit, and withheld entries never reaching a fact."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.hv_csv.resources import REVIEW_TYPE_SYSTEM
from schemas.envelope import Sensitivity
from schemas.errors import HubnetError
from schemas.event_types import Domain, EventType
from services.timeline.access import EntryView
from services.timeline.child_health import immunisations_due, next_review
from services.timeline.model import Family, Member, Person, TimelineEntry
from services.timeline.policy import Visibility
from services.timeline.schedules import default_schedules, load_schedules
from services.timeline.summary import (
    age_text,
    key_workers,
    latest_attendance,
    previous_visit,
    summarise,
)

SCHEDULES = default_schedules()
BORN = date(2026, 1, 1)


def entry(
    event_type: EventType, *resources: dict[str, Any], person: str = "baby", partner: str = "essex-hv",
    occurred: str = "2026-03-01", domain: Domain = Domain.HEALTH, n: int = 0,
) -> TimelineEntry:  # fmt: skip
    moment = datetime.fromisoformat(occurred).replace(tzinfo=UTC)
    return TimelineEntry(
        event_id=f"e-{event_type.value}-{partner}-{occurred}-{n}", person_id=person, family_ids=("f1",),
        occurred_at=moment, recorded_at=moment, partner=partner, source_system="urn:test",
        source_record_id=f"r{n}", record_version="1", domain=domain, event_type=event_type.value,
        title="t", summary="s", sensitivity=Sensitivity.NORMAL, resources=resources,
    )  # fmt: skip


def review(code: str, status: str = "finished") -> TimelineEntry:
    encounter = {
        "resourceType": "Encounter",
        "status": status,
        "type": [{"coding": [{"system": REVIEW_TYPE_SYSTEM, "code": code}]}],
    }
    return entry(EventType.HEALTH_VISITOR_REVIEW, encounter, n=sum(map(ord, code + status)))


def vaccine(text: str, status: str = "completed", n: int = 0, performer: str | None = None) -> TimelineEntry:
    immunisation: dict[str, Any] = {
        "resourceType": "Immunization",
        "status": status,
        "vaccineCode": {"text": text},
    }
    if performer:
        immunisation["performer"] = [{"actor": {"type": "Practitioner", "display": performer}}]
    return entry(EventType.IMMUNISATION, immunisation, n=n)


def attendance(
    percent: float, missed: float | None, occurred: str, school: str = "Clacton Primary"
) -> TimelineEntry:
    components: list[dict[str, Any]] = [
        {"code": {"coding": [{"code": "reporting-period"}]}, "valueString": "2026-autumn"},
    ]
    if missed is not None:
        components.append(
            {"code": {"coding": [{"code": "absence-rate"}]}, "valueQuantity": {"value": missed}}
        )
    observation = {
        "resourceType": "Observation",
        "valueQuantity": {"value": percent, "unit": "%"},
        "performer": [{"identifier": {"value": "990650"}, "display": school}],
        "component": components,
    }
    return entry(
        EventType.ATTENDANCE, observation, occurred=occurred, domain=Domain.EDUCATION, partner="school"
    )


@pytest.mark.parametrize(
    ("born", "today", "expected"),
    [
        (date(2026, 1, 1), date(2026, 1, 4), "3 days"),
        (date(2026, 1, 1), date(2026, 2, 5), "5 weeks"),
        (date(2025, 1, 15), date(2026, 1, 14), "11 months"),
        (date(2023, 12, 8), date(2026, 12, 7), "2 years"),
        (date(1994, 2, 3), date(2026, 12, 7), "32 years"),
        (None, date(2026, 12, 7), "age not known"),
    ],
)
def test_ages_read_as_staff_say_them(born: date | None, today: date, expected: str) -> None:
    assert age_text(born, today) == expected


def test_the_new_birth_visit_is_due_from_10_to_14_days_then_overdue() -> None:
    reviews = SCHEDULES.reviews
    upcoming = next_review(BORN, [], date(2026, 1, 5), reviews)
    due = next_review(BORN, [], date(2026, 1, 13), reviews)
    overdue = next_review(BORN, [], date(2026, 1, 20), reviews)
    assert upcoming
    assert upcoming.state == "upcoming"
    assert upcoming.start == date(2026, 1, 11)
    assert due
    assert due.state == "due"
    assert due.end == date(2026, 1, 15)
    assert overdue
    assert overdue.state == "overdue"
    assert overdue.name == "New birth visit"


def test_the_next_review_follows_the_last_one_done_and_a_missed_contact_leaves_it_due() -> None:
    reviews = SCHEDULES.reviews
    after_birth_visit = next_review(BORN, [review("new-birth")], date(2026, 2, 1), reviews)
    assert after_birth_visit
    assert after_birth_visit.name == "6-8 week review"
    assert after_birth_visit.state == "upcoming"
    assert after_birth_visit.start == date(2026, 2, 12)
    not_attended = next_review(BORN, [review("new-birth", "cancelled")], date(2026, 2, 1), reviews)
    assert not_attended
    assert not_attended.name == "New birth visit"
    assert not_attended.state == "overdue"
    nine_months = next_review(BORN, [review("6-8-week")], date(2026, 11, 1), reviews)
    assert nine_months
    assert nine_months.name == "9-12 month review"
    assert nine_months.state == "due"


def test_no_review_is_due_once_all_are_done_or_the_child_is_three() -> None:
    done = [review(code) for code in ("new-birth", "6-8-week", "12-month", "2-2.5-year")]
    assert next_review(BORN, done, date(2028, 8, 1), SCHEDULES.reviews) is None
    assert next_review(BORN, [], date(2029, 1, 1), SCHEDULES.reviews) is None


def test_immunisations_due_and_overdue_from_the_routine_schedule() -> None:
    status = immunisations_due(BORN, [], date(2026, 4, 1), SCHEDULES.immunisations)
    by_name = {d.name: d for d in status.due}
    assert by_name["6-in-1 (DTaP/IPV/Hib/HepB) dose 1"].due == date(2026, 2, 26)
    assert by_name["6-in-1 (DTaP/IPV/Hib/HepB) dose 1"].overdue  # more than 4 weeks after 8 weeks
    assert not by_name["6-in-1 (DTaP/IPV/Hib/HepB) dose 2"].overdue  # due at 12 weeks, 26 March
    assert "MenB dose 1" in by_name
    assert "Pneumococcal (PCV) dose 1" in by_name
    assert status.next_on == date(2026, 4, 23)  # 16 weeks
    assert set(status.next_names) == {"6-in-1 (DTaP/IPV/Hib/HepB) dose 3", "MenB dose 2"}


def test_recorded_doses_count_for_their_product_only() -> None:
    given = [
        vaccine("DTaP/IPV/Hib/HepB dose 1", n=1), vaccine("Rotavirus dose 1", n=2),
        vaccine("MenB dose 1", n=3),
        vaccine("DTaP/IPV pre-school booster", "not-done", n=4),
    ]  # fmt: skip
    status = immunisations_due(BORN, given, date(2026, 3, 20), SCHEDULES.immunisations)
    names = {d.name for d in status.due}
    assert "6-in-1 (DTaP/IPV/Hib/HepB) dose 1" not in names
    assert "MenB dose 1" not in names
    assert "Rotavirus dose 1" not in names
    four_in_one = immunisations_due(BORN, given, date(2029, 6, 1), SCHEDULES.immunisations)
    assert "4-in-1 pre-school booster (DTaP/IPV) dose 1" in {d.name for d in four_in_one.due}


def test_rotavirus_past_its_age_limit_is_missed_not_due() -> None:
    status = immunisations_due(BORN, [], date(2026, 7, 1), SCHEDULES.immunisations)
    assert not any(d.name.startswith("Rotavirus") for d in status.due)


def test_a_child_with_no_immunisation_entry_is_marked_as_having_no_records() -> None:
    teenager = date(2008, 3, 1)  # 18 on the day: every routine dose long past
    other_entries = [review("new-birth"), attendance(96.5, 3.5, "2026-07-20")]
    status = immunisations_due(teenager, other_entries, date(2026, 12, 7), SCHEDULES.immunisations)
    assert not status.recorded
    summary = summarise(_family(), [EntryView(e, Visibility.SHOWN) for e in other_entries], date(2026, 12, 7))
    baby = summary.members[1]
    assert baby.immunisations is not None
    assert not baby.immunisations.recorded


@pytest.mark.parametrize(
    "record",
    [vaccine("MMR dose 1"), vaccine("MMR dose 1", "not-done"), vaccine("Yellow fever")],
    ids=["completed", "not-done", "product-not-in-schedule"],
)
def test_any_immunisation_entry_counts_as_records_received(record: TimelineEntry) -> None:
    status = immunisations_due(BORN, [record], date(2027, 6, 1), SCHEDULES.immunisations)
    assert status.recorded


def test_a_child_with_records_still_gets_due_and_overdue_doses_within_the_schedules_age_limits() -> None:
    status = immunisations_due(BORN, [vaccine("MMR dose 1")], date(2027, 6, 1), SCHEDULES.immunisations)
    by_name = {d.name: d for d in status.due}
    assert status.recorded
    assert by_name["6-in-1 (DTaP/IPV/Hib/HepB) dose 1"].overdue
    assert by_name["Hib/MenC dose 1"].due == date(2027, 1, 1)
    assert "MMR dose 1" not in by_name
    assert not any(name.startswith("Rotavirus") for name in by_name)  # past the schedule's `until`


def test_the_latest_attendance_gives_the_band() -> None:
    older = attendance(97.0, 3.0, "2026-03-01")
    latest = attendance(86.0, 14.0, "2026-07-20")
    band = latest_attendance([older, latest])
    assert band
    assert band.band == "Persistently absent"
    assert band.attended == 86.0
    assert band.school == "Clacton Primary"
    assert band.period == "2026-autumn"
    severe = latest_attendance([attendance(45.0, None, "2026-07-20")])
    assert severe
    assert severe.band == "Severely absent"
    assert severe.missed == 55.0
    fine = latest_attendance([attendance(96.5, 3.5, "2026-07-20")])
    assert fine
    assert fine.band == "Not persistently absent"


def test_key_workers_are_last_years_organisations_with_the_professionals_they_named() -> None:
    entries = [
        vaccine("MMR dose 1", performer="Nurse Priya Shah", n=1),
        entry(
            EventType.COMMUNITY_ACTIVITY, partner="food-bank", occurred="2026-06-01", domain=Domain.COMMUNITY
        ),
        entry(EventType.ENCOUNTER, partner="old-clinic", occurred="2025-01-01"),
    ]
    workers = key_workers(entries, date(2026, 7, 1))
    assert [w.organisation for w in workers] == ["food-bank", "essex-hv"]
    assert workers[1].people == ("Nurse Priya Shah",)
    assert workers[1].last_seen == date(2026, 3, 1)


def test_the_previous_visit_is_the_end_of_the_last_run_of_reads() -> None:
    now = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    reads = [now - timedelta(minutes=m) for m in (1, 12, 20)] + [
        now - timedelta(days=2, minutes=m) for m in (0, 5)
    ]
    assert previous_visit(reads, now) == now - timedelta(days=2)
    assert previous_visit([now - timedelta(minutes=5)], now) is None
    assert previous_visit([], now) is None


def _family() -> Family:
    baby = Person("baby", "Amelia Jones", "2026-01-01", "female", "CO15 1AB")
    mum = Person("mum", "Sarah Jones", "1994-02-03", "female", "CO15 1AB")
    return Family("f1", "E07000076", "CO15 1AB", (Member(mum, "carer"), Member(baby, "child")))


@pytest.mark.parametrize("visibility", [Visibility.WITHHELD, Visibility.HIDDEN])
def test_a_withheld_or_hidden_entry_reaches_no_fact_of_the_summary(visibility: Visibility) -> None:
    secret = [
        vaccine("MMR dose 1", performer="Dr Hidden", n=9),
        review("new-birth"),
        attendance(60.0, 40.0, "2026-11-01"),
    ]
    shown = summarise(_family(), [EntryView(e, Visibility.SHOWN) for e in secret], date(2027, 2, 1))
    kept = summarise(_family(), [EntryView(e, visibility) for e in secret], date(2027, 2, 1))
    baby_shown, baby_kept = shown.members[1], kept.members[1]
    assert baby_shown.attendance is not None
    assert baby_kept.attendance is None
    assert shown.key_workers
    assert kept.key_workers == ()
    assert baby_kept.review
    assert baby_kept.review.name == "New birth visit"
    assert baby_shown.review
    assert baby_shown.review.name != "New birth visit"
    assert baby_kept.immunisations
    assert baby_shown.immunisations
    assert "MMR dose 1" in {d.name for d in baby_kept.immunisations.due}
    assert "MMR dose 1" not in {d.name for d in baby_shown.immunisations.due}


def test_carers_and_adults_get_no_child_schedule() -> None:
    summary = summarise(_family(), [], date(2026, 12, 7))
    mum, baby = summary.members
    assert mum.relation == "carer"
    assert mum.age == "32 years"
    assert mum.immunisations is None
    assert mum.review is None
    assert baby.relation == "child"
    assert baby.age == "11 months"
    assert baby.immunisations is not None


def test_a_schedule_file_naming_an_unknown_product_is_refused_with_where(tmp_path: Path) -> None:
    text = (
        Path("services/timeline/child_health.toml")
        .read_text()
        .replace('product = "mmr"', 'product = "mmrr"', 1)
    )
    broken = tmp_path / "schedule.toml"
    broken.write_text(text)
    with pytest.raises(HubnetError, match=r"schedule\.toml: immunisations: .*unknown products \['mmrr'\]"):
        load_schedules(broken)
