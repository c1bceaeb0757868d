"""Children's social care journeys, as the council's case management system records them.

A contact may become a referral (with a DfE CIN census referral source: school, health visitor,
GP, police...), then an assessment whose outcome is no further action, early help, a child in
need plan or a section 47 enquiry leading to a child protection plan, sometimes to a period of
being looked after. Early help episodes come from the early help module (JSON). Families in
greater need meet the service more often.
"""

from __future__ import annotations

import random
from datetime import date

from services.synthetic.numbers import Counter
from services.synthetic.partners import SOCIAL_CARE
from services.synthetic.people import Family, Person
from services.synthetic.records import LifeEvent
from services.synthetic.world import World, days, moment, yearly

# CIN census referral sources: 1A family, 2A school, 3A GP, 3B health visitor, 3E A&E, 5A LA,
# 6 police, 8 other
REFERRAL_SOURCES = ("6", "2A", "3B", "3A", "3E", "5A", "1A", "8")
REFERRAL_WEIGHTS = (30, 20, 8, 6, 4, 10, 8, 14)
OUTCOMES = ("nfa", "early-help", "cin", "s47")
OUTCOME_WEIGHTS = (40, 25, 22, 13)
NEEDS = ("N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "N9")
CP_CATEGORIES = ("neglect", "emotional", "physical", "sexual", "multiple")
LEGAL_STATUS = ("C2", "V2", "E1", "J2")
PLACEMENTS = ("U1", "U3", "U4", "U6", "K2")
CASE_EVENTS = "case-events"
EARLY_HELP = "early-help"


class Care:
    def __init__(self, world: World, rng: random.Random, person_ids: Counter, group_ids: Counter) -> None:
        self.world = world
        self.rng = rng
        self.person_ids = person_ids
        self.group_ids = group_ids

    def events(self, family: Family) -> list[LifeEvent]:
        out: list[LifeEvent] = []
        for child in family.children:
            busy_until = date.min
            for year in yearly(self.world):
                if not 0 <= child.age_on(year) < 18 or year < busy_until:
                    continue
                if self.rng.random() < 0.015 + 0.12 * family.need**1.5:
                    day = year + days(self.rng.randrange(365))
                    journey = self._journey(family, child, day)
                    busy_until = max(e.at.date() for e in journey)
                    out += journey
        return [e for e in out if self.world.within(e.at.date())]

    def _event(
        self, kind: str, day: date, child: Person, family: Family, group: str = CASE_EVENTS, **detail: str
    ) -> LifeEvent:
        if child.csc_id is None:
            child.csc_id = self.person_ids.issue()
        if family.csc_group is None:
            family.csc_group = self.group_ids.issue()
        return LifeEvent(kind, moment(self.rng, day), child, family, SOCIAL_CARE, "csc-events", group, detail)

    def _journey(self, family: Family, child: Person, day: date) -> list[LifeEvent]:
        rng = self.rng
        out = [self._event("contact", day, child, family)]
        if rng.random() < 0.45:
            return out  # no further action after the contact
        source = rng.choices(REFERRAL_SOURCES, weights=REFERRAL_WEIGHTS)[0]
        day += days(rng.randint(0, 5))
        out.append(
            self._event("referral", day, child, family, referral_source=source, reason=rng.choice(NEEDS))
        )
        day += days(rng.randint(1, 5))
        out.append(self._event("assessment-start", day, child, family))
        outcome = rng.choices(OUTCOMES, weights=OUTCOME_WEIGHTS)[0]
        day += days(rng.randint(10, 45))
        out.append(self._event("assessment-end", day, child, family, assessment_outcome=outcome))
        if outcome == "nfa":
            out.append(self._event("case-closure", day, child, family, closure_reason="RC8"))
        elif outcome == "early-help":
            out += self._early_help(family, child, day + days(rng.randint(3, 20)))
        elif outcome == "cin":
            out += self._plan(family, child, day, "cin-plan")
        else:
            out += self._protection(family, child, day)
        return out

    def _early_help(self, family: Family, child: Person, day: date) -> list[LifeEvent]:
        end = day + days(self.rng.randint(60, 270))
        return [
            self._event("early-help-start", day, child, family, EARLY_HELP, reason="Family support"),
            self._event("early-help-end", end, child, family, EARLY_HELP),
        ]

    def _plan(self, family: Family, child: Person, day: date, plan: str, **detail: str) -> list[LifeEvent]:
        start = day + days(self.rng.randint(1, 15))
        end = start + days(self.rng.randint(90, 540))
        closure = self.rng.choice(("RC1", "RC9")) if plan == "cin-plan" else "RC1"
        out = [
            self._event(f"{plan}-start", start, child, family, **detail),
            self._event(f"{plan}-end", end, child, family),
            self._event("case-closure", end, child, family, closure_reason=closure),
        ]
        if closure == "RC9":  # stepped down to early help
            out += self._early_help(family, child, end + days(7))
        return out

    def _protection(self, family: Family, child: Person, day: date) -> list[LifeEvent]:
        rng = self.rng
        out = self._plan(family, child, day, "cp-plan", cp_category=rng.choice(CP_CATEGORIES))
        if rng.random() < 0.25:
            start = day + days(rng.randint(20, 120))
            end = start + days(rng.randint(60, 900))
            out += [
                self._event(
                    "lac-start",
                    start,
                    child,
                    family,
                    legal_status=rng.choice(LEGAL_STATUS),
                    placement_type=rng.choice(PLACEMENTS),
                ),
                self._event("lac-end", end, child, family),
            ]
            if child.age_on(start) >= 12 and rng.random() < 0.3:
                gone = start + days(rng.randint(10, 50))
                out += [
                    self._event("missing-start", gone, child, family),
                    self._event("missing-end", gone + days(rng.randint(1, 4)), child, family),
                ]
        return out
