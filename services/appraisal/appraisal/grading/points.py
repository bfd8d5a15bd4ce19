"""JSON schemas for points with an upper bound, so that the OpenAPI states the caps.

Points travel as JSON numbers or numeric strings (the grading contract). A cap such as
"base ≤ 100" is a ``maximum`` for the number and a regular expression for the string:
a schema-valid request must never be refused for exceeding a cap the schema hides.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, WithJsonSchema

from appraisal.grading.schemas import POINTS_LIMIT, parse_points

FRACTION = r"(\.[0-9]{1,6})?"
ZERO_FRACTION = r"(\.0{1,6})?"


def _at_most_same_length(digits: str, *, leading: bool) -> str:
    """Digit strings as long as ``digits`` and not greater; no leading zero when ``leading``."""
    lowest = 1 if leading and len(digits) > 1 else 0
    first = int(digits[0])
    if len(digits) == 1:
        return f"[{lowest}-{first}]"
    options = []
    if first > lowest:
        options.append(f"[{lowest}-{first - 1}][0-9]{{{len(digits) - 1}}}")
    options.append(digits[0] + "(" + _at_most_same_length(digits[1:], leading=False) + ")")
    return "|".join(options)


def _integers_up_to(limit: int) -> str:
    """Whole numbers 0..``limit`` written without leading zeros."""
    digits = str(limit)
    options = ["[0-9]"] if len(digits) > 1 else []
    options += [f"[1-9][0-9]{{{length - 1}}}" for length in range(2, len(digits))]
    options.append(_at_most_same_length(digits, leading=True))
    return "|".join(options)


def points_pattern(maximum: Decimal | None) -> str:
    """A string pattern for non-negative points up to ``maximum`` (six decimals at most).

    A cap with a fraction (7.5) is stated as its whole part (7) for strings: stricter than
    the check, never laxer.
    """
    if maximum is None or maximum >= POINTS_LIMIT:
        return r"^(0|[1-9][0-9]{0,5})" + FRACTION + "$"
    whole = int(maximum)
    exact = f"{whole}{ZERO_FRACTION}"
    if whole == 0:
        return f"^(0{ZERO_FRACTION})$"
    return f"^(({_integers_up_to(whole - 1)}){FRACTION}|{exact})$"


def points_schema(maximum: Decimal | None) -> dict[str, Any]:
    """The OpenAPI schema of points up to ``maximum`` (None: the general limit)."""
    limit = POINTS_LIMIT if maximum is None else min(maximum, POINTS_LIMIT)
    number_maximum: int | float = int(limit) if limit == int(limit) else float(limit)
    return {
        "anyOf": [
            {"type": "number", "minimum": 0, "maximum": number_maximum},
            {"type": "string", "pattern": points_pattern(maximum)},
        ],
        "examples": [float(min(Decimal("92.5"), limit))],
    }


def plain_points(value: Decimal) -> Decimal:
    """Points without trailing zeros and never in exponent form: 2.500000 → 2.5, 100.0 → 100."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def points_text(value: Decimal) -> str:
    """Points as a plain decimal string without trailing zeros: 92.5, 100, 0.25."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def _at_most(maximum: Decimal, what: str) -> Callable[[Decimal], Decimal]:
    def check(value: Decimal) -> Decimal:
        if value > maximum:
            raise ValueError(f"must not exceed {points_text(maximum)} ({what})")
        return value

    return check


HUNDRED = Decimal(100)
HundredPoints = Annotated[
    Decimal,
    BeforeValidator(parse_points),
    AfterValidator(_at_most(HUNDRED, "100 points at most")),
    PlainSerializer(points_text, return_type=str, when_used="json"),
    WithJsonSchema(points_schema(HUNDRED)),
]
"""Points up to 100 (an indicator's points: the base is 100 in all; a percentage)."""


PointsOut = Annotated[
    Decimal,
    PlainSerializer(points_text, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "examples": ["92.5"]}),
]
"""Points in an answer: a decimal string ("92.5")."""
