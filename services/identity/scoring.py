"""Fellegi-Sunter scoring: how much more likely two records agree this way if they are one person.

For each field and agreement level, m = P(level | same person) and u = P(level | different
people); the weight is log2(m / u) and a pair's score is the sum over fields. The m values are
estimates of partner data quality (a first name is mistyped in about 4 % of records, a family
moves between two records in about 20 %); the u values are chance agreement in a county of about
1.5 million people (two strangers share a date of birth about 1 time in 3,000 within the ages a
family hub sees). A missing value weighs 0: it is evidence of nothing.

Thresholds (bits of evidence; see `decide`):
- LINK_AT = 17: exact name + date of birth (25.5) links even after a move (23.2); first name +
  date of birth (18.1) links only when nothing disagrees: a different family name and postcode
  bring it to 11.5, a possible match for a person to decide.
- REVIEW_AT = 10: below this the records share too little to show a person (a common name and a
  birth year); between the two a person decides.
Two guards sit beside the score, because family members share surname, address and often birth
date, which breaks the independence Fellegi-Sunter assumes: an automatic link needs the first
names not to disagree and the birth dates not to disagree (twins and siblings score high on
everything else), and differing NHS numbers are never linked automatically.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from services.identity.comparators import (
    Level,
    compare_birth_date,
    compare_family,
    compare_given,
    compare_postcode,
    compare_sex,
    names_swapped,
)
from services.identity.facts import Facts

LINK_AT = 17.0
REVIEW_AT = 10.0

_MU: dict[str, dict[Level, tuple[float, float]]] = {
    "given": {
        Level.EXACT: (0.88, 0.01),
        Level.NICKNAME: (0.03, 0.001),
        Level.CLOSE: (0.04, 0.003),
        Level.PARTIAL: (0.03, 0.01),
        Level.DIFFERENT: (0.02, 0.976),
    },
    "family": {
        Level.EXACT: (0.88, 0.005),
        Level.CLOSE: (0.04, 0.002),
        Level.PARTIAL: (0.03, 0.001),
        Level.DIFFERENT: (0.05, 0.992),
    },
    "birth_date": {
        Level.EXACT: (0.95, 0.0003),
        Level.TRANSPOSED: (0.02, 0.0003),
        Level.PARTIAL: (0.02, 0.03),
        Level.DIFFERENT: (0.01, 0.9694),
    },
    "sex": {Level.EXACT: (0.98, 0.5), Level.DIFFERENT: (0.02, 0.5)},
    "postcode": {
        Level.EXACT: (0.70, 0.001),
        Level.PARTIAL: (0.10, 0.01),
        Level.DIFFERENT: (0.20, 0.989),
    },
    "nhs_number": {Level.DIFFERENT: (0.001, 0.99)},
}
WEIGHTS: dict[str, dict[Level, float]] = {
    name: {level: math.log2(m / u) for level, (m, u) in levels.items()} for name, levels in _MU.items()
}
"""Weight in bits per field and level, computed once from the m/u table above."""


class Outcome(StrEnum):
    """What the resolver does with a scored pair."""

    LINK = "link"
    REVIEW = "review"
    DISTINCT = "distinct"


@dataclass(frozen=True)
class Score:
    """A scored comparison with the level and weight of each field, kept for the audit trail."""

    total: float
    fields: dict[str, tuple[str, float]] = field(default_factory=dict)

    def level(self, name: str) -> Level:
        return Level(self.fields.get(name, (Level.MISSING.value, 0.0))[0])

    def explain(self) -> dict[str, object]:
        return {"total": round(self.total, 2), **{k: [v[0], round(v[1], 2)] for k, v in self.fields.items()}}


def compare(a: Facts, b: Facts) -> Score:
    """Score two sets of facts field by field; names recorded in the other order count as agreeing."""
    if names_swapped(a.given, a.family, b.given, b.family):
        given = compare_given(a.given, b.family)
        family = compare_family(a.family, b.given.split()[0])
    else:
        given = compare_given(a.given, b.given)
        family = compare_family(a.family, b.family)
    levels = {
        "given": given,
        "family": family,
        "birth_date": compare_birth_date(a.birth_date, b.birth_date),
        "sex": compare_sex(a.sex, b.sex),
        "postcode": compare_postcode(a.postcode, b.postcode),
    }
    if a.nhs and b.nhs and a.nhs != b.nhs:
        levels["nhs_number"] = Level.DIFFERENT
    fields = {
        name: (level.value, WEIGHTS[name].get(level, 0.0))
        for name, level in levels.items()
        if level != Level.MISSING
    }
    return Score(total=sum(w for _, w in fields.values()), fields=fields)


def decide(score: Score) -> Outcome:
    """LINK above LINK_AT when the guards allow it, REVIEW above REVIEW_AT, else DISTINCT."""
    guarded = (
        score.level("given") in (Level.DIFFERENT, Level.MISSING)
        or score.level("birth_date") in (Level.DIFFERENT, Level.MISSING)
        or score.level("nhs_number") == Level.DIFFERENT
    )
    if score.total >= LINK_AT and not guarded:
        return Outcome.LINK
    if score.total >= REVIEW_AT and not _twin(score):
        return Outcome.REVIEW
    return Outcome.DISTINCT


def agrees_in_household(score: Score) -> bool:
    """Whether a person named beside a record's subject (a parent on NK1, a school contact, often
    with no birth date) is the member of the subject's household these facts score against:
    enough to link, first names agreeing, nothing contradicting. The household, found from
    stronger evidence, stands in for the birth date that `decide` requires."""
    return (
        score.total >= LINK_AT
        and score.level("given") not in (Level.DIFFERENT, Level.MISSING)
        and score.level("birth_date") != Level.DIFFERENT
        and score.level("nhs_number") != Level.DIFFERENT
    )


def _twin(score: Score) -> bool:
    """Same birth date, different first name: twins (or a sibling recorded with a wrong date);
    a person would only ever say no, so the pair is not queued."""
    return score.level("given") == Level.DIFFERENT and score.level("birth_date") == Level.EXACT
