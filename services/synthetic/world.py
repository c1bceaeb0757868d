"""The fixed facts every service module consults: the window, the partners, and who serves whom.

Which GP practice, school or trust a family uses follows from where it lives, chosen stably per
family (by a checksum of its id, not Python's per-process `hash`) so reruns agree.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from services.synthetic.geography import Site
from services.synthetic.partners import Directory, Partner
from services.synthetic.people import Family


def stable_pick(options: tuple[Partner, ...], *key: str) -> Partner:
    return options[zlib.crc32("|".join(key).encode()) % len(options)]


@dataclass(frozen=True)
class World:
    directory: Directory
    sites: tuple[Site, ...]
    start: date
    end: date

    def within(self, day: date) -> bool:
        return self.start <= day <= self.end

    def gp(self, family: Family, day: date) -> Partner:
        home = family.residence_on(day)
        return stable_pick(self.directory.gps[home.district.name], family.family_id, home.postcode)

    def trust(self, family: Family, day: date) -> Partner:
        return self.directory.trust(family.residence_on(day).district.name)

    def sites_near(self, family: Family, day: date) -> list[Site]:
        """The Family Hub and delivery sites of the district the family lives in that day."""
        home = family.residence_on(day).district.name
        return [s for s in self.sites if s.district == home]


def moment(rng: random.Random, day: date, first_hour: int = 8, last_hour: int = 18) -> datetime:
    """A time of day on `day` within working hours, in UTC."""
    minute = rng.randrange((last_hour - first_hour) * 60)
    return datetime.combine(day, time(first_hour + minute // 60, minute % 60), tzinfo=UTC)


def days(n: int) -> timedelta:
    return timedelta(days=n)


def yearly(world: World) -> list[date]:
    """The first day of each year of the window, for per-year chances."""
    out, day = [], world.start
    while day <= world.end:
        out.append(day)
        day += timedelta(days=365)
    return out


def count(rng: random.Random, rate: float) -> int:
    """A whole number of occurrences whose average is `rate` (rates here are small)."""
    whole = int(rate)
    return whole + (rng.random() < rate - whole)
