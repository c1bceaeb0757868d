from __future__ import annotations

import pytest

from schemas.identifiers import (
    nhs_check_digit,
    nhs_number_is_valid,
    normalise_nhs_number,
    upn_check_letter,
    upn_is_valid,
)


@pytest.mark.parametrize("number", ["9000000009", "9434765919", "9999999999"])
def test_published_example_nhs_numbers_pass_the_modulus_11_check(number: str) -> None:
    assert nhs_number_is_valid(number)


@pytest.mark.parametrize(
    "number", ["9000000008", "943476591", "94347659190", "94347659l9", "", "٩٤٣٤٧٦٥٩١٩", " 943476591"]
)
def test_wrong_check_digit_length_or_characters_fail(number: str) -> None:
    assert not nhs_number_is_valid(number)


def test_a_remainder_of_ten_cannot_be_issued() -> None:
    # 000000001 weights to 2 -> 11 - 2 = 9 fine; find a prefix whose check would be 10.
    prefix = next(f"{n:09d}" for n in range(1000) if nhs_check_digit(f"{n:09d}") is None)
    assert not any(nhs_number_is_valid(prefix + str(d)) for d in range(10))


@pytest.mark.parametrize("digits", ["", "94347659", "9434765919"])
def test_a_check_digit_needs_exactly_nine_digits(digits: str) -> None:
    with pytest.raises(ValueError, match="nine digits"):
        nhs_check_digit(digits)


def test_spaces_and_dashes_are_normalised() -> None:
    assert normalise_nhs_number("943 476 5919") == "9434765919"
    assert normalise_nhs_number("943-476-5919") == "9434765919"


def test_upn_check_letter_follows_the_dfe_table() -> None:
    # Worked example from the DfE UPN guide: A + 881 (LA) 2201 (school) 19 (year) 001 (serial).
    body = "881220119001"
    letter = upn_check_letter(body)
    assert upn_is_valid(letter + body)
    wrong = "B" if letter != "B" else "C"
    assert not upn_is_valid(wrong + body)


def test_temporary_upn_ending_in_a_letter_is_checked_too() -> None:
    body = "88122011900A"
    assert upn_is_valid(upn_check_letter(body) + body)


@pytest.mark.parametrize("value", ["I881220119001", "A88122011900", "a881220119001", "A8812201190011"])
def test_malformed_upns_fail(value: str) -> None:
    assert not upn_is_valid(value)
