"""Field comparators: each turns two values into an agreement *level* that scoring weighs.

Levels, not raw similarities, are what Fellegi-Sunter needs: each level has its own m and u
probability (scoring.py). Partners spell the same person differently, so each comparator knows the
common ways a true match disagrees: nicknames and swapped name order, a day and month typed the
wrong way round, a postcode from before a move within the same district.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from rapidfuzz.distance import JaroWinkler

JW_CLOSE = 0.92
"""Jaro-Winkler at or above this for names is a typing error (Smith/Smtih 0.96, Jon/John 0.93),
below it different names that happen to share letters (Mark/Mary 0.88, Ellis/Ellie 0.92 is the
closest legitimate pair and is accepted as close, which its lower weight reflects)."""

NICKNAMES: dict[str, str] = {
    # informal or short form: the formal name it is usually recorded under
    "abbie": "abigail", "abby": "abigail", "alex": "alexander", "alf": "alfred", "alfie": "alfred",
    "andy": "andrew", "ben": "benjamin", "benji": "benjamin", "beth": "elizabeth", "betty": "elizabeth",
    "bill": "william", "billy": "william", "bob": "robert", "bobby": "robert", "cathy": "catherine",
    "charlie": "charles", "chris": "christopher", "dan": "daniel", "danny": "daniel", "dave": "david",
    "ed": "edward", "eddie": "edward", "ellie": "eleanor", "freddie": "frederick", "fred": "frederick",
    "harry": "henry", "izzy": "isabella", "bella": "isabella", "jack": "john", "jamie": "james",
    "jim": "james", "jimmy": "james", "jess": "jessica", "jo": "joanne", "joe": "joseph",
    "johnny": "john", "jon": "jonathan", "kate": "katherine", "katie": "katherine", "kath": "katherine",
    "liz": "elizabeth", "lizzie": "elizabeth", "libby": "elizabeth", "maggie": "margaret",
    "matt": "matthew", "meg": "margaret", "mike": "michael", "mick": "michael", "molly": "mary",
    "nat": "natalie", "nick": "nicholas", "olly": "oliver", "ollie": "oliver", "pat": "patricia",
    "peggy": "margaret", "rob": "robert", "robbie": "robert", "sam": "samuel", "sammy": "samuel",
    "steve": "stephen", "sue": "susan", "tom": "thomas", "tommy": "thomas", "tony": "anthony",
    "vicky": "victoria", "will": "william", "zach": "zachary",
}  # fmt: skip
_NOT_LETTERS = re.compile(r"[^a-z ]+")


class Level(StrEnum):
    """How two values agree, strongest first. MISSING: one side does not know (weight 0)."""

    EXACT = "exact"
    NICKNAME = "nickname"
    CLOSE = "close"
    TRANSPOSED = "transposed"
    PARTIAL = "partial"
    DIFFERENT = "different"
    MISSING = "missing"


def fold(text: str | None) -> str:
    """Lower case ASCII letters and single spaces: accents, hyphens and apostrophes fall away."""
    if not text:
        return ""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(_NOT_LETTERS.sub(" ", ascii_text).split())


def canonical_given(name: str) -> str:
    """The formal form of a folded first name, so Bill and William block and compare together."""
    return NICKNAMES.get(name, name)


def similarity(a: str, b: str) -> float:
    """Jaro-Winkler similarity in [0, 1] (prefix weight 0.1, the usual value)."""
    return float(JaroWinkler.normalized_similarity(a, b))


def compare_given(a: str, b: str) -> Level:
    """Given names, already folded: first names exact, nicknames of each other or a typo; an
    initial only, or a shared middle name, is PARTIAL."""
    if not a or not b:
        return Level.MISSING
    first_a, first_b = a.split(maxsplit=1)[0], b.split(maxsplit=1)[0]
    if first_a == first_b:
        return Level.EXACT
    if canonical_given(first_a) == canonical_given(first_b):
        return Level.NICKNAME
    if similarity(first_a, first_b) >= JW_CLOSE:
        return Level.CLOSE
    initial_only = (len(first_a) == 1 or len(first_b) == 1) and first_a[0] == first_b[0]
    middle_name_used = bool(set(a.split()) & set(b.split()))
    return Level.PARTIAL if initial_only or middle_name_used else Level.DIFFERENT


def compare_family(a: str, b: str) -> Level:
    """Family names, folded: exact, a typo, or one part of a double-barrelled name (Smith-Jones)."""
    if not a or not b:
        return Level.MISSING
    if a == b:
        return Level.EXACT
    if similarity(a, b) >= JW_CLOSE:
        return Level.CLOSE
    if set(a.split()) & set(b.split()):
        return Level.PARTIAL
    return Level.DIFFERENT


def names_swapped(given_a: str, family_a: str, given_b: str, family_b: str) -> bool:
    """True when one side recorded the name the other way round (family name in the given field)."""
    if not (given_a and family_a and given_b and family_b):
        return False
    return compare_given(given_a, family_b) in (Level.EXACT, Level.CLOSE) and compare_family(
        family_a, given_b.split(maxsplit=1)[0]
    ) in (Level.EXACT, Level.CLOSE)


def compare_birth_date(a: str, b: str) -> Level:
    """ISO dates: exact; day and month swapped, or two adjacent digits swapped (a typing slip);
    PARTIAL for one slip: the day or the month wrong, or one digit of the year; otherwise
    different (a parent and a child born on the same day of the year are different people)."""
    if not a or not b:
        return Level.MISSING
    if a == b:
        return Level.EXACT
    year_a, month_a, day_a = a.split("-")
    year_b, month_b, day_b = b.split("-")
    if year_a == year_b and month_a == day_b and day_a == month_b:
        return Level.TRANSPOSED
    digits_a, digits_b = a.replace("-", ""), b.replace("-", "")
    if _adjacent_swap(digits_a, digits_b):
        return Level.TRANSPOSED
    year_slip = sum(x != y for x, y in zip(year_a, year_b, strict=True)) == 1
    one_slip = (year_a == year_b and (month_a == month_b or day_a == day_b)) or (
        year_slip and month_a == month_b and day_a == day_b
    )
    return Level.PARTIAL if one_slip else Level.DIFFERENT


def _adjacent_swap(a: str, b: str) -> bool:
    diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return (
        len(diffs) == 2
        and diffs[1] == diffs[0] + 1
        and a[diffs[0]] == b[diffs[1]]
        and a[diffs[1]] == b[diffs[0]]
    )


def compare_sex(a: str, b: str) -> Level:
    """Administrative gender; `unknown` and `other` are treated as not known, not as different."""
    known = ("male", "female")
    if a not in known or b not in known:
        return Level.MISSING
    return Level.EXACT if a == b else Level.DIFFERENT


def compare_postcode(a: str, b: str) -> Level:
    """Normalised UK postcodes: exact; same sector (CO15 1xx, a few hundred homes) is PARTIAL;
    anything else DIFFERENT, whose small weight (scoring.py) lets a family that moved still match."""
    if not a or not b:
        return Level.MISSING
    if a == b:
        return Level.EXACT
    if a[:-2] == b[:-2]:
        return Level.PARTIAL
    return Level.DIFFERENT
