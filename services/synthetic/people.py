"""Families and their life course: who lives together, where, and what happens to them.

This module only decides the truth (births, moves, separations, new partners, surname changes,
SEND); the service modules (health, education, care, community) read it to decide which partner
records what, and the writers decide how each partner writes it down.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, timedelta

from services.synthetic import names
from services.synthetic.geography import DISTRICTS, District, Place, postcode
from services.synthetic.numbers import NhsNumbers

DAY = timedelta(days=1)


@dataclass(slots=True)
class Residence:
    """Where the family lives from `start` until the next residence starts."""

    start: date
    district: District
    place: Place
    postcode: str


@dataclass(slots=True)
class Person:
    """One true person. `surnames` lists (from date, surname) in date order."""

    person_id: str
    family_id: str
    role: str  # mother, partner or child
    sex: str
    given: str
    surnames: list[tuple[date, str]]
    birth_date: date
    nhs_number: str
    joined: date
    left: date | None = None
    send: str = "N"  # N: none, K: SEN support, E: education, health and care plan
    send_from: date | None = None
    upn: str | None = None
    csc_id: str | None = None

    def surname_on(self, day: date) -> str:
        index = bisect_right([start for start, _ in self.surnames], day) - 1
        return self.surnames[max(index, 0)][1]

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))

    def present_on(self, day: date) -> bool:
        return self.joined <= day and (self.left is None or day < self.left)


@dataclass(slots=True)
class Family:
    """A household over the whole window; `need` (0-1) drives contact with help services."""

    family_id: str
    need: float
    residences: list[Residence]
    members: list[Person] = field(default_factory=list)
    separations: list[date] = field(default_factory=list)
    csc_group: str | None = None  # the council's family group id, given at the first contact

    def residence_on(self, day: date) -> Residence:
        for residence in reversed(self.residences):
            if residence.start <= day:
                return residence
        return self.residences[0]

    @property
    def mother(self) -> Person:
        return self.members[0]

    @property
    def children(self) -> list[Person]:
        return [m for m in self.members if m.role == "child"]

    @property
    def adults(self) -> list[Person]:
        return [m for m in self.members if m.role != "child"]

    def partner_of(self, adult: Person, day: date) -> list[tuple[str, Person]]:
        """The mother's partner living with her on `day`, or, for a partner, the mother."""
        others = [a for a in self.adults if a is not adult and a.present_on(day)]
        return [("partner", a) for a in others if adult is self.mother or a is self.mother]

    def carers_of(self, child: Person, day: date) -> list[tuple[str, Person]]:
        """Who looks after a child on `day`, as partners record it: the mother, the father (a
        partner there since before the birth) and a step-parent (a partner who came later)."""
        carers = [("mother", self.mother)] if self.mother.present_on(day) else []
        for adult in self.adults[1:]:
            if adult.present_on(day):
                came_before = adult.joined <= child.birth_date
                carers.append(("father" if came_before and adult.sex == "male" else "step-parent", adult))
        return carers


def _random_day(rng: random.Random, first: date, last: date) -> date:
    return first + DAY * rng.randrange(max(1, (last - first).days + 1))


def _residence(
    rng: random.Random, start: date, districts: tuple[District, ...], where: District | None = None
) -> Residence:
    home = where or rng.choices(districts, weights=[d.population for d in districts])[0]
    place = rng.choices(home.places, weights=[p.weight for p in home.places])[0]
    return Residence(start, home, place, postcode(rng, place))


class LifeCourse:
    """Simulates one family over [start, end] with the family's own seeded random source, living
    (and moving) among `districts`: the Essex districts, or those read from a county pack."""

    def __init__(
        self,
        rng: random.Random,
        nhs: NhsNumbers,
        start: date,
        end: date,
        districts: tuple[District, ...] = DISTRICTS,
    ) -> None:
        self.rng = rng
        self.nhs = nhs
        self.start = start
        self.end = end
        self.districts = districts

    def family(self, family_id: str) -> Family:
        rng = self.rng
        first = _residence(rng, self.start, self.districts)
        base = rng.betavariate(1.6, 4.0)
        need = min(1.0, base * (1.6 if first.place.priority else 1.0))
        fam = Family(family_id, round(need, 3), [first])
        family_name = names.surname(rng)
        mother_age = rng.randint(18, 44)
        mother_birth = _random_day(
            rng, self.start - DAY * 365 * (mother_age + 1), self.start - DAY * 365 * mother_age
        )
        self._add(fam, "mother", "female", family_name, born=mother_birth, joined=self.start)
        if rng.random() < 0.72:
            self._add(
                fam,
                "partner",
                "male" if rng.random() < 0.97 else "female",
                family_name,
                born=mother_birth + DAY * rng.randint(-2500, 1500),
                joined=self.start,
            )
        self._existing_children(fam, mother_birth, family_name)
        self._moves(fam)
        self._relationships(fam)
        self._births(fam, mother_birth)
        for child in fam.children:
            self._send(child)
        return fam

    def _add(self, fam: Family, role: str, sex: str, family_name: str, *, born: date, joined: date) -> Person:
        number = len(fam.members) + 1
        person = Person(
            person_id=f"{fam.family_id}-P{number}",
            family_id=fam.family_id,
            role=role,
            sex=sex,
            given=names.given_name(self.rng, sex, adult=role != "child"),
            surnames=[(born, family_name)],
            birth_date=born,
            nhs_number=self.nhs.issue(),
            joined=joined,
        )
        fam.members.append(person)
        return person

    def _existing_children(self, fam: Family, mother_birth: date, family_name: str) -> None:
        rng = self.rng
        oldest_possible = min(17, fam.mother.age_on(self.start) - 17)
        count = rng.choices((0, 1, 2, 3, 4), weights=(18, 32, 30, 14, 6))[0] if oldest_possible >= 0 else 0
        for _ in range(count):
            age_days = rng.randrange(0, (oldest_possible + 1) * 365)
            born = self.start - DAY * (age_days + 1)
            if born > mother_birth + DAY * 365 * 16:
                self._add(fam, "child", rng.choice(("female", "male")), family_name, born=born, joined=born)

    def _moves(self, fam: Family) -> None:
        """House moves: about one in twelve families a year, a third of moves to another district."""
        rng = self.rng
        year = self.start
        while year < self.end:
            if rng.random() < 0.06 + 0.06 * fam.need:
                day = _random_day(rng, year, min(self.end, year + DAY * 364))
                current = fam.residence_on(day).district
                fam.residences.append(
                    _residence(rng, day, self.districts, None if rng.random() < 0.35 else current)
                )
            year += DAY * 365

    def _relationships(self, fam: Family) -> None:
        """Separations, then sometimes a new partner whose surname the mother may take."""
        rng = self.rng
        day = self.start
        while day < self.end:
            day += DAY * rng.randint(200, 900)
            partner = next((a for a in fam.adults if a.role == "partner" and a.present_on(day)), None)
            if partner and day < self.end and rng.random() < 0.08 + 0.1 * fam.need:
                partner.left = day
                fam.separations.append(day)
            elif partner is None and day < self.end and rng.random() < 0.35:
                mother = fam.mother
                new_name = names.surname(rng)
                born = mother.birth_date + DAY * rng.randint(-2500, 2500)
                self._add(fam, "partner", "male", new_name, born=born, joined=day)
                if rng.random() < 0.45:
                    mother.surnames.append((day + DAY * rng.randint(30, 400), new_name))
                    for child in fam.children:
                        if rng.random() < 0.2:
                            child.surnames.append((day + DAY * rng.randint(60, 500), new_name))

    def _births(self, fam: Family, mother_birth: date) -> None:
        """New babies: more likely for younger mothers with few children; one in three families
        without children at the start has a first baby in the window."""
        rng = self.rng
        day = self.start + DAY * rng.randint(0, 300)
        while day < self.end:
            age = fam.mother.age_on(day)
            have = len(fam.children)
            chance = (0.5 if have == 0 else 0.2 / have) * (1.0 if age < 35 else 0.4) if age < 44 else 0.0
            last = max((c.birth_date for c in fam.children), default=mother_birth)
            if rng.random() < chance and day > last + DAY * 450:
                family_name = fam.mother.surname_on(day)
                self._add(fam, "child", rng.choice(("female", "male")), family_name, born=day, joined=day)
            day += DAY * rng.randint(300, 500)

    def _send(self, child: Person) -> None:
        """Special educational needs: about 13% SEN support, 4% with an EHC plan."""
        roll = self.rng.random()
        if roll < 0.04:
            child.send = "E"
        elif roll < 0.17:
            child.send = "K"
        if child.send != "N":
            child.send_from = child.birth_date + DAY * self.rng.randint(3 * 365, 9 * 365)
