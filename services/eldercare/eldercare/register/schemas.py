"""Request and response models of the register."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import Field, StrictBool

from eldercare.evaluations.profile import FamilyPlanningSpecial, LivingArrangement, PensionScheme, Sex, Tekun
from shared.citizen_ids import CitizenId
from shared.jurisdictions import JurisdictionCode
from shared.schemas import CalendarDate, Name, NotABool, RequestModel, ResponseModel

AbilityLevel = Annotated[int, Field(ge=0, le=4), NotABool]
DisabilityGrade = Annotated[int, Field(ge=1, le=4), NotABool]


class CircumstanceFields(RequestModel):
    """The assessed circumstances: the evaluation profile's fields other than birth date and sex
    (see ``POST /evaluations``); every field is optional and defaults to false / null."""

    pension_age_reached: StrictBool = False
    pension_scheme: PensionScheme | None = None
    ability_level: AbilityLevel | None = Field(
        default=None, description="GB/T 42195-2022: 0 能力完好 … 4 完全失能"
    )
    self_care_unable: StrictBool = Field(default=False, description="certified unable to care for self")
    has_disability_certificate: StrictBool = False
    disability_grade: DisabilityGrade | None = None
    needs_long_term_care: StrictBool = False
    dibao: StrictBool = False
    tekun: Tekun | None = None
    low_income_edge: StrictBool = False
    expenditure_hardship: StrictBool = False
    relapsed_into_poverty: StrictBool = Field(default=False, description="返贫致贫人口")
    at_risk_of_relapse: StrictBool = Field(default=False, description="农村易返贫致贫人口")
    still_in_hardship: StrictBool = False
    living_arrangement: LivingArrangement | None = None
    family_planning_special: FamilyPlanningSpecial | None = None
    special_contribution_group: StrictBool = False
    has_able_supporter: StrictBool = False
    homeless: StrictBool = False
    usual_resident: StrictBool | None = Field(
        default=None, description="常住居民 of the jurisdiction (item 6); null: unknown"
    )


class CircumstancesCreate(CircumstanceFields):
    """A new version of a person's circumstances, in force from ``effective_from``."""

    effective_from: CalendarDate
    reference: Name | None = Field(default=None, description="the assessment or decision it comes from")


class PersonCreate(RequestModel):
    jurisdiction: JurisdictionCode = Field(description="the person's county, district or zone")
    name: Name
    citizen_id: CitizenId
    birth_date: CalendarDate | None = Field(
        default=None, description="read from the citizen ID number when not given; must agree with it"
    )
    sex: Sex | None = Field(default=None, description="read from the citizen ID number when not given")
    circumstances: CircumstancesCreate


class PersonUpdate(RequestModel):
    """Correct the name, or record that the person left the register (nothing is deleted)."""

    name: Name | None = None
    left_on: CalendarDate | None = None
    left_reason: Name | None = None


class CircumstancesRead(ResponseModel):
    effective_from: dt.date
    superseded_from: dt.date | None
    pension_age_reached: bool
    pension_scheme: PensionScheme | None
    ability_level: int | None
    self_care_unable: bool
    has_disability_certificate: bool
    disability_grade: int | None
    needs_long_term_care: bool
    dibao: bool
    tekun: Tekun | None
    low_income_edge: bool
    expenditure_hardship: bool
    relapsed_into_poverty: bool
    at_risk_of_relapse: bool
    still_in_hardship: bool
    living_arrangement: LivingArrangement | None
    family_planning_special: FamilyPlanningSpecial | None
    special_contribution_group: bool
    has_able_supporter: bool
    homeless: bool
    usual_resident: bool | None
    reference: str | None
    recorded_by: str
    recorded_at: dt.datetime


class PersonRead(ResponseModel):
    id: uuid.UUID
    jurisdiction: str
    name: str
    citizen_id: str = Field(description="Masked (4117**********0012) unless you hold eldercare:pii.")
    birth_date: dt.date
    sex: Sex | None
    left_on: dt.date | None
    left_reason: str | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    circumstances: CircumstancesRead | None = Field(
        description="the version in force today (null when every version starts later)"
    )
