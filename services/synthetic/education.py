"""School lives: Reception at 4-5, a primary school in the home district, Year 7 at a secondary,
in-year moves when the family moves district; termly attendance returns, SEN status, suspensions
and the Common Transfer Files a school sends when a pupil leaves.

A pupil's school for a term is the one serving the district the family lives in when the term
starts; a pupil gets a UPN from the first school that has them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.synthetic.numbers import Upns
from services.synthetic.partners import LA_CODE, Partner
from services.synthetic.people import Family, Person
from services.synthetic.records import LifeEvent
from services.synthetic.world import World, days, moment, stable_pick

# (season, start month/day, end month/day, sessions possible); spring and summer fall in year + 1
TERMS = (
    ("autumn", (9, 3), (12, 19), 140),
    ("spring", (1, 6), (3, 31), 118),
    ("summer", (4, 15), (7, 20), 124),
)
EXCLUSION_REASONS = ("PP", "PA", "VP", "VA", "BU", "DM", "DA")  # DfE suspension reason codes


@dataclass(frozen=True, slots=True)
class Term:
    label: str
    start: date
    end: date
    possible: int
    year_group: int


@dataclass(slots=True)
class _Stint:
    school: Partner
    entry: date
    leaving: date | None = None
    attendance: dict[int, list[int]] = field(
        default_factory=dict
    )  # academic year -> [possible, auth, unauth]
    exclusions: list[dict[str, Any]] = field(default_factory=list)


def reception_year(born: date) -> int:
    """Children start Reception in the September after they turn four."""
    return born.year + 4 if born.month < 9 else born.year + 5


def terms(born: date) -> list[Term]:
    first = reception_year(born)
    out: list[Term] = []
    for year_group in range(12):  # Reception to Year 11
        academic = first + year_group
        for season, (m1, d1), (m2, d2), possible in TERMS:
            year = academic if season == "autumn" else academic + 1
            label = f"{year}-{season}"
            out.append(Term(label, date(year, m1, d1), date(year, m2, d2), possible, year_group))
    return out


class Education:
    def __init__(self, world: World, rng: random.Random, upns: Upns) -> None:
        self.world = world
        self.rng = rng
        self.upns = upns

    def _school(self, family: Family, child: Person, term: Term) -> Partner:
        home = family.residence_on(term.start).district.name
        schools = self.world.directory.primaries if term.year_group <= 6 else self.world.directory.secondaries
        return stable_pick(schools[home], family.family_id, child.person_id, home)

    def events(self, family: Family) -> list[LifeEvent]:
        out: list[LifeEvent] = []
        for child in family.children:
            out += self._pupil(family, child)
        return [e for e in out if self.world.within(e.at.date())]

    def _pupil(self, family: Family, child: Person) -> list[LifeEvent]:
        rng = self.rng
        school_terms = [
            t for t in terms(child.birth_date) if t.end >= self.world.start and t.start <= self.world.end
        ]
        if not school_terms:
            return []
        absence = min(0.6, rng.betavariate(1.2, 22) * (1 + 2.5 * family.need))
        out: list[LifeEvent] = []
        stints: list[_Stint] = []
        for term in school_terms:
            school = self._school(family, child, term)
            if not stints or stints[-1].school.code != school.code:
                if stints:
                    leaving = (
                        date(term.start.year, 7, 18)
                        if term.year_group == 7 and term.label.endswith("autumn")
                        else term.start - days(7)
                    )
                    stints[-1].leaving = leaving
                    out.append(self._transfer(family, child, stints, school, leaving))
                # the first school of the window took the pupil in Reception or Year 7, before it
                first_group = 0 if term.year_group <= 6 else 7
                entry = (
                    date(reception_year(child.birth_date) + first_group, 9, 3) if not stints else term.start
                )
                stints.append(_Stint(school, entry))
                if child.upn is None:
                    assert school.estab is not None
                    child.upn = self.upns.issue(school.estab, term.start.year)
            stint = stints[-1]
            missed = min(term.possible, round(term.possible * absence * rng.uniform(0.5, 1.5)))
            authorised = round(missed * rng.uniform(0.4, 0.9))
            academic = term.start.year if term.label.endswith("autumn") else term.start.year - 1
            totals = stint.attendance.setdefault(academic, [0, 0, 0])
            for i, value in enumerate((term.possible, authorised, missed - authorised)):
                totals[i] += value
            if term.year_group >= 7 and rng.random() < (0.01 + 0.08 * family.need):
                stint.exclusions.append(
                    {
                        "Category": "FIXD",
                        "StartDate": (term.start + days(rng.randint(5, 60))).isoformat(),
                        "Reason": rng.choice(EXCLUSION_REASONS),
                        "Sessions": rng.randint(2, 10),
                    }
                )
            out.append(
                LifeEvent(
                    "attendance",
                    moment(rng, term.end + days(3)),
                    child,
                    family,
                    school,
                    "attendance-csv",
                    "attendance",
                    {
                        "term": term.label,
                        "possible": term.possible,
                        "authorised": authorised,
                        "unauthorised": missed - authorised,
                    },
                )
            )
        return out

    def _transfer(
        self, family: Family, child: Person, stints: list[_Stint], dest: Partner, day: date
    ) -> LifeEvent:
        """The CTF the leaving school sends: school history, SEN, recent attendance, suspensions,
        and the parents and carers the school holds as contacts."""
        leaving = stints[-1]
        history = [
            [
                ("LEA", LA_CODE),
                ("Estab", s.school.estab),
                ("SchoolName", s.school.name),
                ("EntryDate", s.entry.isoformat()),
                ("LeavingDate", s.leaving.isoformat() if s.leaving else None),
            ]
            for s in stints
        ]
        sen = []
        if child.send != "N" and child.send_from and child.send_from <= day:
            sen = [[("StartDate", child.send_from.isoformat()), ("SENprovision", child.send)]]
        attendance = [
            [
                ("Year", year),
                ("LEA", LA_CODE),
                ("Estab", leaving.school.estab),
                ("SessionsPossible", t[0]),
                ("SessionsAuthorised", t[1]),
                ("SessionsUnauthorised", t[2]),
            ]
            for year, t in sorted(leaving.attendance.items())[-2:]
        ]
        exclusions = [list(e.items()) for e in leaving.exclusions]
        return LifeEvent(
            "transfer",
            moment(self.rng, day, 16, 17),
            child,
            family,
            leaving.school,
            "ctf",
            f"to-{dest.code}",
            {"history": history, "sen": sen, "attendance": attendance, "exclusions": exclusions},
            tuple(family.carers_of(child, day)),
        )
