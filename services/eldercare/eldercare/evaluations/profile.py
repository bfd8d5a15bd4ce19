"""A person's circumstances as the evaluation reads them (the ``person`` object of the API).

The fields are exactly those of the spec's person table (``shared/spec/eldercare.md``,
"Contract endpoints"); every field but ``birth_date`` is optional and defaults to false
or null. Unknown fields are refused so that a misspelt circumstance is never silently
read as "false".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shared.errors import InvalidInput

EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)

Sex = Literal["male", "female"]
PensionScheme = Literal["employee", "resident"]
"""职工基本养老保险 (employee) or 城乡居民基本养老保险 (resident)."""
Tekun = Literal["dispersed", "concentrated"]
"""特困人员: 分散供养 (dispersed) or 集中供养 (concentrated)."""
LivingArrangement = Literal["alone", "empty_nest", "left_behind", "with_family"]
"""独居 / 空巢 / 留守 / living with family."""
FamilyPlanningSpecial = Literal["child_died", "child_disabled"]
"""计划生育特殊家庭: the only child died (独生子女死亡) or is disabled (伤残)."""

AbilityLevel = Annotated[StrictInt, Field(ge=0, le=4)]
"""GB/T 42195-2022: 0 能力完好, 1 轻度失能, 2 中度失能, 3 重度失能, 4 完全失能."""
DisabilityGrade = Annotated[StrictInt, Field(ge=1, le=4)]
"""残疾等级 on the 残疾人证, 1 (most severe) to 4."""


class PersonProfile(BaseModel):
    """老年人基本情况: the facts the catalogue's eligibility rules read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    birth_date: dt.date
    sex: Sex | None = None
    pension_age_reached: StrictBool = False
    pension_scheme: PensionScheme | None = None
    ability_level: AbilityLevel | None = None
    self_care_unable: StrictBool = Field(
        default=False, description="Certified by civil affairs as unable to care for self."
    )
    has_disability_certificate: StrictBool = False
    disability_grade: DisabilityGrade | None = None
    needs_long_term_care: StrictBool = False
    dibao: StrictBool = False
    tekun: Tekun | None = None
    low_income_edge: StrictBool = Field(default=False, description="低保边缘.")
    expenditure_hardship: StrictBool = Field(default=False, description="支出型困难.")
    relapsed_into_poverty: StrictBool = Field(
        default=False, description="返贫致贫人口 (relapsed into poverty): item 21's 80.00 premium subsidy."
    )
    at_risk_of_relapse: StrictBool = Field(
        default=False,
        description=(
            "农村易返贫致贫人口 (rural, at risk of relapse into poverty): item 21 under the rural "
            "revitalisation policy, whose amount the sources do not give."
        ),
    )
    still_in_hardship: StrictBool = Field(
        default=False, description="Still in hardship after receiving dibao (staff flag)."
    )
    living_arrangement: LivingArrangement | None = None
    family_planning_special: FamilyPlanningSpecial | None = None
    special_contribution_group: StrictBool = Field(
        default=False,
        description="One of the item-17 groups receiving state periodic pensions (抚恤补助).",
    )
    has_able_supporter: StrictBool = Field(
        default=False, description="Has a legal supporter (赡养人/扶养人) able to support them."
    )
    homeless: StrictBool = Field(default=False, description="生活无着的流浪乞讨.")
    usual_resident: StrictBool | None = Field(
        default=None,
        description=(
            "常住居民 of the jurisdiction (item 6: 「为辖区内65周岁及以上常住居民提供…」); null: "
            "unknown, and item 6 is given with a note saying the condition was not checked."
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _grade_implies_certificate(cls, data: Any) -> Any:
        # The grade is printed on the 残疾人证: a grade given without the certificate flag
        # implies it; an explicit ``false`` with a grade is refused below.
        if (
            isinstance(data, dict)
            and data.get("disability_grade") is not None
            and "has_disability_certificate" not in data
        ):
            return {**data, "has_disability_certificate": True}
        return data

    @field_validator("birth_date")
    @classmethod
    def _plausible_birth_date(cls, value: dt.date) -> dt.date:
        if value < EARLIEST_BIRTH_DATE:
            raise ValueError(f"must be on or after {EARLIEST_BIRTH_DATE.isoformat()}")
        return value

    @field_validator("disability_grade")
    @classmethod
    def _grade_needs_certificate(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and info.data.get("has_disability_certificate") is False:
            raise ValueError("a disability grade needs has_disability_certificate: true")
        return value


PROFILE_FIELDS: dict[str, Any] = dict(PersonProfile.model_fields)


def parse_profile(data: Mapping[str, Any], *, location: str = "person") -> PersonProfile:
    """Validate a person object; every problem becomes an InvalidInput error naming its field.

    ``location`` prefixes the field names (``person.ability_level``).
    """
    try:
        return PersonProfile.model_validate(data)
    except ValidationError as exc:
        errors = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            field = f"{location}.{where}" if where else location
            errors.append({"field": field, "message": error["msg"]})
        detail = "; ".join(f"{error['field']}: {error['message']}" for error in errors[:5])
        raise InvalidInput(detail, errors=errors) from exc


def check_profile_on(profile: PersonProfile, on: dt.date, *, location: str = "person") -> None:
    """A person evaluated on ``on`` must already be born (InvalidInput naming birth_date)."""
    if profile.birth_date > on:
        raise InvalidInput.field(
            f"{location}.birth_date",
            f"birth date {profile.birth_date.isoformat()} is after the evaluation date {on.isoformat()}",
        )
