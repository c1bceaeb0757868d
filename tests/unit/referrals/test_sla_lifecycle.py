"""Working-hours arithmetic (weekends, evenings, bank holidays) and the referral state machine."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from services.referrals.lifecycle import READINGS, Action, LifecycleError, Status, next_status
from services.referrals.sla import WorkingCalendar

CAL = WorkingCalendar(holidays=frozenset({date(2025, 4, 18), date(2025, 4, 21)}))


def utc(year: int, month: int, day: int, hour: int) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (utc(2025, 3, 3, 9), 16, utc(2025, 3, 4, 17)),  # Monday 09:00 + two days
        (utc(2025, 3, 7, 16), 2, utc(2025, 3, 10, 10)),  # Friday 16:00 -> Monday 10:00
        (utc(2025, 3, 8, 12), 1, utc(2025, 3, 10, 10)),  # Saturday counts from Monday's opening
        (utc(2025, 3, 3, 20), 1, utc(2025, 3, 4, 10)),  # evening counts from the next opening
        (utc(2025, 4, 17, 16), 2, utc(2025, 4, 22, 10)),  # BST: 16:00 UTC is 17:00 London; Easter closed
        (utc(2025, 3, 3, 9), 0, utc(2025, 3, 3, 9)),
    ],
)
def test_working_hours_are_added_over_closed_time(start: datetime, hours: float, due: datetime) -> None:
    assert CAL.add_working_hours(start, hours) == due


def test_working_hours_between_counts_only_open_time() -> None:
    assert CAL.working_hours_between(utc(2025, 3, 7, 16), utc(2025, 3, 10, 10)) == pytest.approx(2.0)
    assert CAL.working_hours_between(utc(2025, 3, 10, 10), utc(2025, 3, 7, 16)) == 0.0


def test_calendar_refuses_a_day_that_closes_before_it_opens() -> None:
    with pytest.raises(ValueError, match="open before it closes"):
        WorkingCalendar(opens=time(17), closes=time(9))


@pytest.mark.parametrize(
    ("current", "action", "after"),
    [
        (Status.REQUESTED, Action.OPEN, Status.OPENED),
        (Status.OPENED, Action.ACCEPT, Status.ACCEPTED),
        (Status.REQUESTED, Action.ACCEPT, Status.ACCEPTED),
        (Status.ACCEPTED, Action.START, Status.IN_PROGRESS),
        (Status.IN_PROGRESS, Action.COMPLETE, Status.COMPLETED),
        (Status.AWAITING_MANAGER, Action.ASSIGN, Status.REQUESTED),
        (Status.HELD, Action.CANCEL, Status.CANCELLED),
    ],
)
def test_allowed_moves(current: Status, action: Action, after: Status) -> None:
    assert next_status(current, action, "because") is after


def test_a_rejection_leaves_the_next_step_to_the_router() -> None:
    assert next_status(Status.OPENED, Action.REJECT, "no capacity for a home visit") is None


@pytest.mark.parametrize(
    ("current", "action"),
    [
        (Status.REQUESTED, Action.COMPLETE),
        (Status.ACCEPTED, Action.REJECT),
        (Status.COMPLETED, Action.CANCEL),
        (Status.LINKED, Action.OPEN),
        (Status.IN_PROGRESS, Action.ASSIGN),
    ],
)
def test_moves_that_do_not_apply_name_where_they_do(current: Status, action: Action) -> None:
    with pytest.raises(LifecycleError, match=f"cannot {action.value} a referral that is {current.value}"):
        next_status(current, action, "because")


@pytest.mark.parametrize("action", [Action.REJECT, Action.CANCEL])
def test_rejecting_or_cancelling_needs_a_reason(action: Action) -> None:
    with pytest.raises(LifecycleError, match="reason is required"):
        next_status(Status.REQUESTED, action, "  ")


def test_every_status_reads_as_a_fhir_task_status_and_a_dfe_status() -> None:
    assert set(READINGS) == set(Status)
    assert {r.dfe_status for r in READINGS.values()} == {"New", "Opened", "Accepted", "Declined"}
    task_statuses = {"requested", "received", "accepted", "in-progress", "completed", "cancelled", "on-hold"}
    assert {r.task_status for r in READINGS.values()} <= task_statuses
