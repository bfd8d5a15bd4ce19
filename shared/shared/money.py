"""Money is ``Decimal`` in CNY yuan, rounded ROUND_HALF_UP to 0.01 and sent as a string."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, WithJsonSchema

CENT = Decimal("0.01")
# ASCII digits only (\d would take fullwidth and other scripts' digits) and nothing around them:
# fullmatch, because $ would also match before a trailing newline
_MONEY_TEXT = re.compile(r"-?[0-9]{1,12}(\.[0-9]{1,2})?")
MONEY_PATTERN = r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$"


def to_money(value: Decimal | int | str) -> Decimal:
    """Round to the fen (0.01 yuan), half up, as the spec's money rule says."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def money_str(value: Decimal) -> str:
    return str(to_money(value))


def _parse_money(value: object) -> Decimal:
    # JSON carries money as a string so no client loses precision: numbers are refused.
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str) and _MONEY_TEXT.fullmatch(value):
        amount = Decimal(value)
    else:
        raise ValueError(
            'must be an amount written as a string such as "800.00" '
            "(ASCII digits, at most 12 before the point and 2 after)"
        )
    if not amount.is_finite():
        raise ValueError("must be a finite amount")
    if amount.is_zero() and amount.is_signed():
        raise ValueError('must not be a negative zero; write "0.00"')
    return amount


Money = Annotated[
    Decimal,
    BeforeValidator(_parse_money),
    PlainSerializer(money_str, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": MONEY_PATTERN, "examples": ["800.00"]}),
]
"""A money field: accepts and serialises the string "800.00"."""


def _not_negative(amount: Decimal) -> Decimal:
    if amount < 0:
        raise ValueError("must not be negative")
    return amount


NonNegativeMoney = Annotated[
    Decimal,
    BeforeValidator(_parse_money),
    AfterValidator(_not_negative),
    PlainSerializer(money_str, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]{1,12}(\.[0-9]{1,2})?$", "examples": ["500.00"]}),
]
"""Money that cannot be negative (incomes, standards)."""
