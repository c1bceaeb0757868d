"""Realistic mess: how each partner sees a person, and how often deliveries go wrong.

A partner keeps its own version of a person for good: a charity that misspelt a child's name
keeps misspelling it, a school that never heard of a mother's new surname keeps the old one. So
views are decided once per (partner, person) and reused. Delivery faults (late records, resent
duplicates, corrected resends, malformed records) are drawn per record at the rates below.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from services.synthetic import names
from services.synthetic.partners import Partner
from services.synthetic.people import Family, Person

# chance, per partner kind, that it misspells a given name / lacks the NHS number / lags a surname
_MISSPELL = {"charity": 0.15, "school": 0.05, "social-care": 0.06, "acute-trust": 0.04}
_NHS_KNOWN = {"charity": 0.12, "social-care": 0.75, "acute-trust": 0.97, "school": 0.0}
_SURNAME_LAG = {"charity": 0.4, "school": 0.3, "social-care": 0.2}
_DEFAULT_MISSPELL = 0.02
_DEFAULT_SURNAME_LAG = 0.05
KinList = tuple[tuple[str, Person], ...]
"""`LifeEvent.kin`: (relation, person) pairs."""
_LOCAL_ID_PREFIX = {"acute-trust": "MRN", "charity": "C", "social-care": "CS", "gp-practice": "GP"}


@dataclass(frozen=True, slots=True)
class MessRates:
    """Per-record chances of each delivery fault; `none()` gives a perfectly clean county."""

    malformed: float = 0.006
    duplicate: float = 0.01
    corrected: float = 0.01
    late: float = 0.03
    retracted: float = 0.005

    @classmethod
    def none(cls) -> MessRates:
        return cls(0.0, 0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True, slots=True)
class View:
    """A person as one partner holds them on one day; `kin` are the people the record names
    beside them (see `LifeEvent.kin`), each as the same partner holds them."""

    given: str
    surname: str
    birth_date: date
    nhs_number: str | None
    postcode: str
    local_id: str
    kin: tuple[Kin, ...] = ()


@dataclass(frozen=True, slots=True)
class Kin:
    """A related person as a record names them: how they stand to its subject, and the partner's view."""

    relation: str
    person: Person
    view: View


@dataclass(frozen=True, slots=True)
class _Habit:
    given: str
    nhs_known: bool
    birth_date: date
    lags_surname: bool
    local_id: str


class LocalIds:
    """Each partner numbers the people it meets in its own sequence, county-wide; the numbers
    say nothing about who is who (no true person or family id shows through)."""

    def __init__(self) -> None:
        self._issued: dict[str, int] = {}

    def issue(self, partner: Partner) -> str:
        number = self._issued.get(partner.code, 0) + 1
        self._issued[partner.code] = number
        return f"{_LOCAL_ID_PREFIX.get(partner.kind, 'L')}{number:07d}"


class Views:
    """The per-(partner, person) habits of one family, drawn once from the family's random source."""

    def __init__(self, rng: random.Random, local_ids: LocalIds) -> None:
        self._rng = rng
        self._local_ids = local_ids
        self._habits: dict[tuple[str, str], _Habit] = {}

    def _habit(self, partner: Partner, person: Person) -> _Habit:
        key = (partner.code, person.person_id)
        habit = self._habits.get(key)
        if habit is None:
            rng = self._rng
            given = person.given
            if rng.random() < _MISSPELL.get(partner.kind, _DEFAULT_MISSPELL):
                given = names.misspell(rng, given)
            born = person.birth_date
            # day and month keyed the US way round; only for adults, whose records never sit within
            # weeks of their birth (a swapped baby's birth could fall after its first review)
            if person.role != "child" and rng.random() < 0.01 and born.day <= 12 and born.day != born.month:
                born = date(born.year, born.day, born.month)
            habit = _Habit(
                given=given,
                nhs_known=rng.random() < _NHS_KNOWN.get(partner.kind, 1.0),
                birth_date=born,
                lags_surname=rng.random() < _SURNAME_LAG.get(partner.kind, _DEFAULT_SURNAME_LAG),
                local_id=self._local_ids.issue(partner),
            )
            self._habits[key] = habit
        return habit

    def view(self, partner: Partner, person: Person, family: Family, day: date, kin: KinList = ()) -> View:
        habit = self._habit(partner, person)
        surname = person.surnames[0][1] if habit.lags_surname else person.surname_on(day)
        return View(
            given=habit.given,
            surname=surname,
            birth_date=habit.birth_date,
            nhs_number=person.nhs_number if habit.nhs_known else None,
            postcode=family.residence_on(day).postcode,
            local_id=habit.local_id,
            kin=tuple(Kin(r, other, self.view(partner, other, family, day)) for r, other in kin)
            if kin
            else (),
        )

    def true_view(
        self, partner: Partner, person: Person, family: Family, day: date, kin: KinList = ()
    ) -> View:
        """The person as they really are: what a partner resends after correcting its record."""
        return View(
            given=person.given,
            surname=person.surname_on(day),
            birth_date=person.birth_date,
            nhs_number=person.nhs_number,
            postcode=family.residence_on(day).postcode,
            local_id=self._habit(partner, person).local_id,
            kin=tuple(Kin(r, other, self.true_view(partner, other, family, day)) for r, other in kin),
        )


def bad_date(rng: random.Random, real: date) -> str:
    """A date no parser accepts, of the kinds partners really send."""
    return rng.choice(
        (
            f"{real.year}-02-30",
            f"{real.day:02d}/{real.month:02d}/{real.year}",
            f"{real.year}-{real.month:02d}-{real.day:02d}x",
            f"{real.year}-13-{real.day:02d}",
        )
    )
