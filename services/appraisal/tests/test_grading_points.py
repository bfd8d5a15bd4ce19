"""The schema's string patterns for capped points agree with the caps (no schema-valid string
is refused, no string above the cap passes)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from appraisal.grading.points import plain_points, points_pattern, points_text


@pytest.mark.parametrize("cap", [0, 1, 5, 9, 10, 15, 20, 99, 100, 101, 250])
def test_pattern_accepts_exactly_the_points_up_to_the_cap(cap: int) -> None:
    pattern = re.compile(points_pattern(Decimal(cap)))
    for whole in range(0, 1100):
        for fraction in ("", ".0", ".00", ".5", ".000001", ".999999"):
            text = f"{whole}{fraction}"
            assert bool(pattern.match(text)) == (Decimal(text) <= cap), (cap, text)


@pytest.mark.parametrize("text", ["01", "00", "-1", "1.", "", "1.1234567", "1e2", " 1"])
def test_pattern_refuses_what_the_parser_refuses(text: str) -> None:
    assert not re.match(points_pattern(Decimal(100)), text)


def test_a_cap_with_a_fraction_is_stated_by_its_whole_part_for_strings() -> None:
    pattern = re.compile(points_pattern(Decimal("7.5")))
    assert pattern.match("6.99")
    assert pattern.match("7")
    assert not pattern.match("7.5")  # stricter than the check, never laxer


def test_points_are_written_plainly() -> None:
    assert points_text(Decimal("92.500000")) == "92.5"
    assert points_text(Decimal("100.000000")) == "100"
    assert str(plain_points(Decimal("100.000000"))) == "100"
    assert str(plain_points(Decimal("2.500000"))) == "2.5"
