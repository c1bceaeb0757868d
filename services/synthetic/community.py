"""Voluntary and community sector help: Family Hub stay-and-play sessions, food bank referrals,
parenting courses (often after a health visitor's referral), relationship support after a
separation, housing and debt advice. Charities record what they need to help, not NHS numbers.
"""

from __future__ import annotations

import random
from datetime import date

from services.synthetic.partners import ADVICE, FOOD_BANK, HUB_SESSIONS, PARENTING, RELATIONSHIPS, Partner
from services.synthetic.people import Family, Person
from services.synthetic.records import LifeEvent
from services.synthetic.world import World, count, days, moment, yearly


class Community:
    def __init__(self, world: World, rng: random.Random) -> None:
        self.world = world
        self.rng = rng

    def events(self, family: Family, earlier: list[LifeEvent]) -> list[LifeEvent]:
        """`earlier` are the family's NHS events, whose referrals to a parenting course lead here."""
        out = self._yearly(family) + self._follow_ups(family, earlier)
        return [e for e in out if self.world.within(e.at.date()) and e.person.present_on(e.at.date())]

    def _yearly(self, family: Family) -> list[LifeEvent]:
        """Stay-and-play for under-fives of engaged families; food bank and debt advice by need."""
        rng = self.rng
        out: list[LifeEvent] = []
        mother = family.mother
        engaged = rng.random() < 0.3 + 0.4 * family.need
        for year in yearly(self.world):
            if engaged:
                for child in family.children:
                    if 0 <= child.age_on(year) < 5:
                        out += self._sessions(family, child, year)
            for _ in range(count(rng, 0.03 + 0.6 * family.need**2)):
                day = year + days(rng.randrange(365))
                out.append(self._event("foodbank-referral", FOOD_BANK, mother, family, day))
            if rng.random() < 0.02 + 0.15 * family.need:
                day = year + days(rng.randrange(365))
                out.append(self._event("debt-advice", ADVICE, mother, family, day))
        return out

    def _follow_ups(self, family: Family, earlier: list[LifeEvent]) -> list[LifeEvent]:
        """Parenting courses after referrals, relationship support after separations, housing
        advice before moves."""
        rng = self.rng
        out: list[LifeEvent] = []
        mother = family.mother
        referred = [e.at.date() for e in earlier if e.detail.get("to") == PARENTING.code]
        if rng.random() < 0.05:  # self-referral
            referred.append(self.world.start + days(rng.randrange((self.world.end - self.world.start).days)))
        for day in referred:
            if rng.random() < 0.7:
                start = day + days(rng.randint(14, 60))
                out.append(self._event("parenting-course-started", PARENTING, mother, family, start))
                if rng.random() < 0.7:
                    end = start + days(70)
                    out.append(self._event("parenting-course-completed", PARENTING, mother, family, end))
        for day in family.separations:
            if rng.random() < 0.35:
                when = day + days(rng.randint(0, 90))
                out.append(self._event("relationship-support", RELATIONSHIPS, mother, family, when))
        for residence in family.residences[1:]:
            if rng.random() < 0.15 + 0.3 * family.need:
                when = residence.start - days(rng.randint(10, 60))
                out.append(self._event("housing-advice", ADVICE, mother, family, when))
        return out

    def _sessions(self, family: Family, child: Person, year: date) -> list[LifeEvent]:
        out = []
        for _ in range(count(self.rng, 1 + 4 * family.need)):
            day = year + days(self.rng.randrange(365))
            site = self.rng.choice(self.world.sites_near(family, day))
            out.append(
                self._event(
                    "session-attended",
                    HUB_SESSIONS,
                    child,
                    family,
                    day,
                    service_name=f"Stay and Play, {site.name}",
                )
            )
        return out

    def _event(
        self, kind: str, partner: Partner, person: Person, family: Family, day: date, **detail: str
    ) -> LifeEvent:
        fmt = partner.formats[0]
        return LifeEvent(kind, moment(self.rng, day, 9, 17), person, family, partner, fmt, "activity", detail)
