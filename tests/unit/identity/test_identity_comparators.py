"""Each comparator and the Fellegi-Sunter score on hand-made synthetic values."""

from __future__ import annotations

import pytest

from schemas.envelope import Identifier
from schemas.identifiers import NHS_NUMBER
from services.identity.blocking import index_keys, query_keys, soundex
from services.identity.comparators import (
    Level,
    compare_birth_date,
    compare_family,
    compare_given,
    compare_postcode,
    compare_sex,
    fold,
    names_swapped,
)
from services.identity.facts import Facts
from services.identity.scoring import LINK_AT, REVIEW_AT, Outcome, compare, decide


def facts(
    given: str, family: str, born: str, *, sex: str = "female", postcode: str = "CO15 1AB", nhs: str = ""
) -> Facts:
    ids = [Identifier(system="urn:test", value=f"{given}-{born}")]
    if nhs:
        ids.insert(0, Identifier(system=NHS_NUMBER, value=nhs))
    return Facts(
        identifiers=tuple(ids),
        given=fold(given),
        family=fold(family),
        birth_date=born,
        sex=sex,
        postcode=postcode,
    )


def test_fold_drops_accents_case_and_punctuation() -> None:
    assert fold("  Zoë O'Brien-Smith ") == "zoe o brien smith"


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("amy", "amy", Level.EXACT),
        ("william", "bill", Level.NICKNAME),
        ("jon", "jonathan", Level.NICKNAME),
        ("catherine", "catherina", Level.CLOSE),
        ("j", "james", Level.PARTIAL),
        ("mary ann", "ann", Level.PARTIAL),
        ("mark", "mary", Level.DIFFERENT),
        ("", "amy", Level.MISSING),
    ],
)
def test_given_names(a: str, b: str, level: Level) -> None:
    assert compare_given(a, b) == level


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("smith", "smith", Level.EXACT),
        ("smith", "smtih", Level.CLOSE),
        ("smith jones", "jones", Level.PARTIAL),
        ("smith", "patel", Level.DIFFERENT),
    ],
)
def test_family_names(a: str, b: str, level: Level) -> None:
    assert compare_family(a, b) == level


def test_names_in_the_other_order_are_recognised() -> None:
    assert names_swapped("smith", "amy", "amy", "smith")
    assert not names_swapped("amy", "smith", "amy", "smith")


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("2019-05-02", "2019-05-02", Level.EXACT),
        ("2019-05-02", "2019-02-05", Level.TRANSPOSED),
        ("2019-05-12", "2019-05-21", Level.TRANSPOSED),
        ("2019-05-02", "2019-05-09", Level.PARTIAL),
        ("2019-05-02", "2018-05-02", Level.PARTIAL),
        ("1990-05-02", "2019-05-02", Level.DIFFERENT),
        ("2019-05-02", "2017-11-23", Level.DIFFERENT),
        ("", "2019-05-02", Level.MISSING),
    ],
)
def test_birth_dates(a: str, b: str, level: Level) -> None:
    assert compare_birth_date(a, b) == level


def test_sex_unknown_is_not_a_disagreement() -> None:
    assert compare_sex("female", "female") == Level.EXACT
    assert compare_sex("female", "male") == Level.DIFFERENT
    assert compare_sex("unknown", "male") == Level.MISSING


def test_postcodes() -> None:
    assert compare_postcode("CO15 1AB", "CO15 1AB") == Level.EXACT
    assert compare_postcode("CO15 1AB", "CO15 1XY") == Level.PARTIAL
    assert compare_postcode("CO15 1AB", "CM1 2AB") == Level.DIFFERENT


def test_soundex() -> None:
    assert soundex("smith") == soundex("smyth") == "s530"
    assert soundex("ashcraft") == "a261"


@pytest.mark.parametrize(
    "other",
    [
        facts("Amy", "Smtih", "2019-05-02", postcode="CM1 2AB"),  # typo, then a move
        facts("Amy", "Smith", "2019-02-05", postcode="CM1 2AB"),  # day and month swapped, then a move
        facts("Smith", "Amy", "2019-05-02"),  # names the other way round
        facts("Amy", "Smith", "2018-05-02", postcode="CO15 1XY"),  # one digit of the year
    ],
)
def test_same_person_with_one_slip_links(other: Facts) -> None:
    score = compare(facts("Amy", "Smith", "2019-05-02"), other)
    assert score.total >= LINK_AT
    assert decide(score) == Outcome.LINK


def test_twins_are_never_linked_nor_queued() -> None:
    score = compare(facts("Amy", "Smith", "2019-05-02"), facts("Lily", "Smith", "2019-05-02"))
    assert score.total >= REVIEW_AT  # everything else agrees: why the guard exists
    assert decide(score) == Outcome.DISTINCT


def test_parent_and_child_of_the_same_name_are_distinct() -> None:
    assert (
        decide(compare(facts("Sam", "Smith", "1990-05-02"), facts("Sam", "Smith", "2019-05-02")))
        != Outcome.LINK
    )


def test_different_nhs_numbers_are_never_linked_automatically() -> None:
    score = compare(
        facts("Amy", "Smith", "2019-05-02", nhs="9990000018"),
        facts("Amy", "Smith", "2019-05-02", nhs="9990000026"),
    )
    assert decide(score) != Outcome.LINK


def test_a_weak_match_goes_to_review() -> None:
    score = compare(
        facts("Amy", "Smith", "2019-05-02"), facts("Amy", "Jones", "2019-05-02", postcode="CM1 2AB")
    )
    assert decide(score) == Outcome.REVIEW
    assert score.explain()["family"] == ["different", round(score.fields["family"][1], 2)]


def test_blocking_finds_transposed_dates_and_swapped_names() -> None:
    stored = index_keys(facts("Amy", "Smith", "2019-05-02"))
    assert stored & query_keys(facts("Amy", "Smith", "2019-02-05", postcode=""))
    assert stored & query_keys(facts("Smith", "Amy", "2019-05-02", postcode=""))
    assert not stored & query_keys(facts("Ben", "Patel", "2001-01-01"))
