"""Citizen ID numbers and money amounts are read one way everywhere: whatever Unicode digits,
white space or look-alikes arrive, the text either becomes the one ASCII form or is refused."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from shared.citizen_ids import CitizenId, CitizenIdError, birth_date_in, check_digit, normalise, sex_in
from shared.money import Money, NonNegativeMoney
from shared.months import Month, YearMonth
from shared.testing import citizen_id

VALID = "211102198001011233"
FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")


def test_the_fixture_number_is_valid() -> None:
    assert check_digit(VALID[:17]) == VALID[17]
    assert normalise(VALID) == VALID


@pytest.mark.parametrize(
    "text",
    [
        VALID.translate(FULLWIDTH),  # ２１１１０２…
        f"  {VALID}\n",
        f"\u3000{VALID}\t",  # ideographic space around it
        VALID[:9] + VALID[9:].translate(FULLWIDTH),  # mixed
    ],
)
def test_forms_of_one_number_become_that_number(text: str) -> None:
    assert normalise(text) == VALID
    assert TypeAdapter(CitizenId).validate_python(text) == VALID


def test_a_lower_case_x_is_read_as_upper_case() -> None:
    number = next(n for n in (citizen_id("1950-01-01") for _ in range(200)) if n.endswith("X"))
    assert normalise(number.lower()) == number
    assert normalise(number[:-1] + "ｘ") == number  # fullwidth x


@pytest.mark.parametrize(
    "text",
    [
        VALID.translate(ARABIC_INDIC),
        VALID.translate(DEVANAGARI),
        VALID[:5] + VALID[5:].translate(ARABIC_INDIC),
        VALID[:9] + " " + VALID[9:],
        VALID + "0",
        VALID[:-1],
        VALID[:-1] + "7",  # wrong check digit
        "211102198013011233",  # month 13
        "",
        "２１１１",
        "X" * 18,
    ],
)
def test_anything_else_is_refused_without_repeating_it(text: str) -> None:
    with pytest.raises(CitizenIdError) as refused:
        normalise(text)
    assert text.strip() == "" or text.strip() not in str(refused.value)
    with pytest.raises(ValidationError):
        TypeAdapter(CitizenId).validate_python(text)


def test_birth_date_and_sex_come_from_the_number() -> None:
    assert birth_date_in(VALID).isoformat() == "1980-01-01"
    assert sex_in(VALID) == "male"  # order code 123: odd


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=24))
def test_any_text_is_the_ascii_form_or_refused(text: str) -> None:
    try:
        number = normalise(text)
    except CitizenIdError:
        return
    assert number.isascii()
    assert len(number) == 18
    assert number[:17].isdigit()
    assert normalise(number) == number


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([VALID, "11010519491231002X"]),
    st.lists(st.sampled_from(["nfkc-width", "space", "lower", "arabic", "inner-space"]), max_size=3),
)
def test_one_person_is_never_two_numbers(number: str, disguises: list[str]) -> None:
    text = number
    for disguise in disguises:
        if disguise == "nfkc-width":
            text = text.translate(FULLWIDTH)
        elif disguise == "space":
            text = f" {text} "
        elif disguise == "lower":
            text = text.lower()
        elif disguise == "arabic":
            text = text.translate(ARABIC_INDIC)
        elif disguise == "inner-space":
            text = text[:3] + " " + text[3:]
    try:
        assert normalise(text) == number
    except CitizenIdError:
        assert any(d in ("arabic", "inner-space") for d in disguises)


@pytest.mark.parametrize(
    "text", ["１００", "٣٠٠", "100.00\n", "\n100.00", " 100", "-0", "-0.00", "1e2", "+5"]
)
def test_money_refuses_what_is_not_ascii_plain_amount(text: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Money).validate_python(text)
    with pytest.raises(ValidationError):
        TypeAdapter(NonNegativeMoney).validate_python(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=16))
def test_any_money_text_is_an_exact_ascii_amount_or_refused(text: str) -> None:
    try:
        amount = TypeAdapter(Money).validate_python(text)
    except ValidationError:
        return
    assert text.isascii()
    assert text == text.strip()
    assert amount == Decimal(text)
    assert not (amount.is_zero() and amount.is_signed())
    assert all(unicodedata.category(c) != "Nd" or c in "0123456789" for c in text)


@pytest.mark.parametrize("text", ["２０２５-０７", "٢٠٢٥-٠٧", "2025-07\n", " 2025-07", "2025-７"])
def test_months_are_ascii_digits_as_their_schema_says(text: str) -> None:
    """Months as the OpenAPI pattern declares them, like citizen IDs and money: a full-width,
    Arabic-Indic or newline-ended month is refused, not read as another spelling of 2025-07."""
    with pytest.raises(ValueError):
        YearMonth.parse(text)
    with pytest.raises(ValidationError):
        TypeAdapter(Month).validate_python(text)
    assert YearMonth.parse("2025-07") == YearMonth(2025, 7)
