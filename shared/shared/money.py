"""Money is ``Decimal`` in CNY yuan, rounded ROUND_HALF_UP to 0.01 and sent as a string."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

CENT = Decimal("0.01")


def to_money(value: Decimal | int | str) -> Decimal:
    """Round to the fen (0.01 yuan), half up, as the spec's money rule says."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def money_str(value: Decimal) -> str:
    return str(to_money(value))


def _parse_money(value: object) -> Decimal:
    if isinstance(value, float):
        # floats are accepted from JSON numbers but converted through their shortest repr
        value = repr(value)
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError('must be a decimal amount such as "800.00"')
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError('must be a decimal amount such as "800.00"') from exc
    if not amount.is_finite():
        raise ValueError("must be a finite amount")
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("must have at most two decimal places")
    if abs(amount) >= Decimal("1e12"):
        raise ValueError("is too large")
    return amount


Money = Annotated[
    Decimal,
    BeforeValidator(_parse_money),
    PlainSerializer(money_str, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["800.00"]}),
]
"""A money field: accepts "800.00" (or a number), serialises as "800.00"."""
