"""Request and response of the stateless grading endpoint (评分定级).

``POST /api/appraisal/v1/grading`` takes a scheme id and the subjects' points and
answers each subject's total, rank, grade and the rules applied with their citations.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Literal

from pydantic import (
    BeforeValidator,
    Field,
    PlainSerializer,
    StrictBool,
    WithJsonSchema,
)

from appraisal.schemes.enums import scheme_enum
from shared.schemas import Code, NotABool, RequestModel, ResponseModel

Grade = Literal["A", "B", "C", "D"]
"""考核等级: A is best; D only by a veto circumstance."""

GRADE_ORDER: tuple[Grade, ...] = ("A", "B", "C", "D")

POINTS_LIMIT = Decimal(1_000_000)
TENTH = Decimal("0.1")
_POINTS_TEXT = re.compile(r"^-?(0|[1-9][0-9]{0,5})(\.[0-9]{1,6})?$")
"""Up to six digits before the point (no leading zeros, as the schema's pattern says) and six
after; a sign only so that "-1" is refused as negative rather than as malformed."""
_POINTS_MESSAGE = 'must be a number of points such as 92.5 or a numeric string such as "92.5"'


def parse_points(value: object) -> Decimal:
    """Points arrive as JSON numbers or numeric strings; never booleans, NaN or words."""
    if isinstance(value, bool):
        raise ValueError(f"{_POINTS_MESSAGE}, not true/false")
    if isinstance(value, float):
        value = repr(value)  # shortest repr: 92.5 stays 92.5, not 92.4999…
    elif isinstance(value, str):
        if not _POINTS_TEXT.match(value):
            raise ValueError(_POINTS_MESSAGE)
    elif not isinstance(value, int | Decimal):
        raise ValueError(_POINTS_MESSAGE)
    try:
        points = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(_POINTS_MESSAGE) from exc
    if not points.is_finite():
        raise ValueError(f"{_POINTS_MESSAGE}; NaN and infinity are not points")
    if points < 0:
        raise ValueError("must not be negative")
    if points > POINTS_LIMIT:
        raise ValueError(f"must not exceed {POINTS_LIMIT}")
    return points


def round_total(value: Decimal) -> Decimal:
    """One decimal place, half up (the contract's total); never "-0.0"."""
    rounded = value.quantize(TENTH, rounding=ROUND_HALF_UP)
    return rounded if rounded != 0 else Decimal("0.0")


Points = Annotated[
    Decimal,
    BeforeValidator(parse_points),
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 1_000_000},
                {"type": "string", "pattern": r"^(0|[1-9][0-9]{0,5})(\.[0-9]{1,6})?$"},
            ],
            "examples": [92.5, "92.5"],
        }
    ),
]
"""Non-negative points: a JSON number or a numeric string."""

Total = Annotated[
    Decimal,
    PlainSerializer(lambda value: str(round_total(value)), return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+\.[0-9]$", "examples": ["107.5"]}),
]
"""A total with one decimal place, sent as a string ("107.5")."""

DowngradeCount = Annotated[int, Field(ge=0, le=100), NotABool]

RuleName = Literal[
    "score",
    "base_cap",
    "ad_hoc_cap",
    "bonus_cap",
    "deductions_cap",
    "double_counting_bonus",
    "bonus_total_cap",
    "double_counting_deduction",
    "ranking",
    "grade_band",
    "downgrade",
    "downgrade_floor",
    "veto",
    "zone_exclusion",
    "subject_kind_exclusion",
]


class GradingSubject(RequestModel):
    """One appraised subject's points for the year (考核对象)."""

    id: Code = Field(description="Subject id, e.g. the county code 211102.")
    base: Points = Field(description="基准分: basic work, key work, food-safety status (≤ 100).")
    ad_hoc: Points = Field(default=Decimal(0), description="即时性工作 points (≤ the scheme's cap).")
    bonus: Points = Field(default=Decimal(0), description="加分项 points the city gave (≤ 5).")
    provincial_bonus: Points = Field(
        default=Decimal(0),
        description="Points the province gave the city that concern this subject (counted double).",
    )
    deductions: Points = Field(default=Decimal(0), description="减分项 points the city deducted.")
    provincial_deduction: Points = Field(
        default=Decimal(0),
        description="Points the province deducted from the city that concern this subject (counted double).",
    )
    downgrades: DowngradeCount = Field(
        default=0, description="Number of downgrade circumstances (降级情形) found."
    )
    veto: StrictBool = Field(default=False, description="Whether a veto circumstance (否决情形) was found.")
    zone: StrictBool = Field(
        default=False, description="A development zone's management committee (开发区管委会)."
    )


class GradingRequest(RequestModel):
    scheme: Code = Field(description="Scheme id, e.g. panjin or zhumadian.", json_schema_extra=scheme_enum())
    subjects: list[GradingSubject] = Field(min_length=1, max_length=500)


class AppliedRule(ResponseModel):
    """A rule the grading applied to a subject, with the article it comes from."""

    rule: RuleName
    detail: str
    citation: str
    interpretation: str | None = Field(
        default=None, description="The interpretation setting this rule depends on, if any."
    )


class GradedSubject(ResponseModel):
    id: str
    total: Total
    rank: int | None
    grade: Grade | None
    applied: list[AppliedRule]


class GradingResponse(ResponseModel):
    results: list[GradedSubject]
