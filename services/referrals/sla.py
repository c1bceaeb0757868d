"""Working-hours SLA arithmetic and the clock the referral service reads.

An SLA such as "accepted within 16 working hours" counts only the hub's working hours (by default
Monday to Friday, 09:00-17:00 Europe/London, bank holidays excepted), so a referral sent on Friday
evening is not overdue on Saturday. The clock is injected everywhere (`Clock`), so tests advance
time instead of sleeping, and timers are rows with due times in the store, so they survive restarts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MAX_DAYS_SEARCHED = 3660  # ten years of closed days would be a configuration error, not a calendar


class Clock(Protocol):
    """Where "now" comes from; the worker uses the system clock, tests a `ManualClock`."""

    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class ManualClock:
    """A clock tests set and advance; shared by the service, the timer scan and the assertions."""

    current: datetime = field(default_factory=lambda: datetime(2025, 3, 3, 9, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


@dataclass(frozen=True)
class WorkingCalendar:
    """The hub's working week: open days, opening and closing time, closed dates, time zone."""

    days: frozenset[str] = frozenset(WEEKDAYS[:5])
    opens: time = time(9, 0)
    closes: time = time(17, 0)
    holidays: frozenset[date] = frozenset()
    timezone: str = "Europe/London"

    def __post_init__(self) -> None:
        if self.opens >= self.closes:
            raise ValueError("the working day must open before it closes")
        if not self.days or not self.days <= set(WEEKDAYS):
            raise ValueError(f"working days must be some of {', '.join(WEEKDAYS)}")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_working_day(self, day: date) -> bool:
        return WEEKDAYS[day.weekday()] in self.days and day not in self.holidays

    def _window(self, day: date) -> tuple[datetime, datetime]:
        zone = self.zone
        return datetime.combine(day, self.opens, zone), datetime.combine(day, self.closes, zone)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` working hours after `start` (UTC); 0 hours from a closed time is the
        next opening."""
        remaining = timedelta(hours=hours)
        local = start.astimezone(self.zone)
        day = local.date()
        for _ in range(_MAX_DAYS_SEARCHED):
            if self.is_working_day(day):
                opens, closes = self._window(day)
                begin = max(local, opens)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return (begin + remaining).astimezone(UTC)
                    remaining -= available
            day += timedelta(days=1)
        raise ValueError("no working day found in ten years: check the calendar's days and holidays")

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Working hours elapsed from `start` to `end` (0 when `end` is not later)."""
        if end <= start:
            return 0.0
        zone = self.zone
        first, last = start.astimezone(zone), end.astimezone(zone)
        total = timedelta()
        day = first.date()
        while day <= last.date():
            if self.is_working_day(day):
                opens, closes = self._window(day)
                begin, finish = max(first, opens), min(last, closes)
                if finish > begin:
                    total += finish - begin
            day += timedelta(days=1)
        return total.total_seconds() / 3600
