"""Request and response models of the register."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import Field

from shared.citizen_ids import CitizenId
from shared.jurisdictions import JurisdictionCode
from shared.money import Money, NonNegativeMoney
from shared.months import Month
from shared.schemas import Address, CalendarDate, Name, NotABool, RequestModel, ResponseModel

Program = Literal["dibao", "tekun", "orphan_concentrated", "orphan_scattered", "retiree_1960s"]
EnrolmentStatus = Literal["active", "suspended", "ended"]
TekunArrangement = Literal["scattered", "concentrated"]
"""特困人员 support: 分散供养 (``scattered``, at home) or 集中供养 (``concentrated``, in an institution)."""


Residence = Literal["urban", "rural"]
RESIDENCE_DESCRIPTION = (
    "urban (城市) or rural (农村): where the city sets urban and rural dibao standards apart, it selects "
    "the standard that prices the household's months (and its members' tekun and orphan allowances), "
    "and is required; where the standard is one (Panjin: 城乡统一), it is optional and ignored"
)


class HouseholdCreate(RequestModel):
    jurisdiction: JurisdictionCode
    address: Address
    residence: Residence | None = Field(
        default=None,
        description=RESIDENCE_DESCRIPTION + "; it holds for every month until a later one is recorded",
    )


class HouseholdUpdate(RequestModel):
    """Change the address, or record the household's residence from a month (at least one)."""

    address: Address | None = None
    residence: Residence | None = Field(default=None, description=RESIDENCE_DESCRIPTION)
    residence_from: Month | None = Field(
        default=None,
        description="the first month the residence holds; required once a residence is recorded (earlier "
        "months keep theirs). Omitted for a household's first residence: it then holds for every month",
    )
    residence_reference: Name | None = Field(
        default=None, description="the document that recorded the change (e.g. the 户口 transfer)"
    )


class ResidenceRead(ResponseModel):
    """A version of the household's residence."""

    residence: Residence
    effective_month: Month | None = Field(description="the first month it holds; null: every month before")
    superseded_from: Month | None = Field(description="the month the next version takes effect")
    reference: str | None
    recorded_by: str
    recorded_at: dt.datetime


class HouseholdRead(ResponseModel):
    id: uuid.UUID
    jurisdiction: str
    address: str
    residence: Residence | None = Field(
        default=None, description="the residence in force this month (Asia/Shanghai), if one is recorded"
    )
    residences: list[ResidenceRead] = Field(default=[], description="every version, oldest first")
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class PersonCreate(RequestModel):
    jurisdiction: JurisdictionCode
    household_id: uuid.UUID | None = None
    name: Name
    citizen_id: CitizenId
    birth_date: CalendarDate | None = None


class PersonRead(ResponseModel):
    id: uuid.UUID
    jurisdiction: str
    household_id: uuid.UUID | None
    name: str
    citizen_id: str = Field(description="Masked (2111**********1234) unless you hold welfare:pii.")
    birth_date: dt.date | None
    version: int
    created_at: dt.datetime


class Decision(RequestModel):
    """The approving decision: who decided, when, under which reference."""

    by: Name
    on: CalendarDate
    reference: Name


class EnrolmentBase(RequestModel):
    jurisdiction: JurisdictionCode
    start_month: Month
    decision: Decision


class DibaoEnrolmentCreate(EnrolmentBase):
    """A household in 居民最低生活保障 (dibao)."""

    program: Literal["dibao"]
    household_id: uuid.UUID
    covered_members: Annotated[int, Field(ge=1, le=50), NotABool] = Field(
        description="household members the enrolment covers"
    )
    per_capita_income: NonNegativeMoney = Field(
        description="assessed monthly income per person (核定家庭月人均收入)"
    )


class PersonEnrolmentCreate(EnrolmentBase):
    """A person in an orphan allowance (the program names the care arrangement: concentrated or
    scattered)."""

    program: Literal["orphan_concentrated", "orphan_scattered"]
    person_id: uuid.UUID


class TekunEnrolmentCreate(EnrolmentBase):
    """A person in extreme-poverty support (特困人员救助供养), with the care arrangement:
    分散供养 (scattered) or 集中供养 (concentrated); a change is recorded by
    ``POST /enrolments/{id}/care-arrangement``."""

    program: Literal["tekun"]
    person_id: uuid.UUID
    arrangement: TekunArrangement = Field(description="分散供养 (scattered) or 集中供养 (concentrated)")


class RetireeEnrolmentCreate(EnrolmentBase):
    """A worker downsized in the 1960s (60年代精简退职职工), by tier 1–4."""

    program: Literal["retiree_1960s"]
    person_id: uuid.UUID
    tier: Annotated[int, Field(ge=1, le=4), NotABool]


EnrolmentCreate = Annotated[
    DibaoEnrolmentCreate | PersonEnrolmentCreate | TekunEnrolmentCreate | RetireeEnrolmentCreate,
    Field(discriminator="program"),
]


class CareArrangementChange(RequestModel):
    """An orphan or a person in extreme-poverty support (特困) moves between institutional
    (concentrated, 集中供养) and family/kin or home (scattered, 分散供养) care."""

    arrangement: Literal["concentrated", "scattered"]
    changed_on: CalendarDate
    reference: Name


class EnrolmentUpdate(RequestModel):
    """Suspend, resume or end an enrolment. Ending sets the last paid month."""

    status: EnrolmentStatus | None = None
    end_month: Month | None = Field(default=None, description="last month paid; with status ended")
    suspended_from: Month | None = Field(
        default=None,
        description='with status "suspended": the first month not paid (default: the first month no '
        "payroll has paid yet). Months already paid from it on are booked back as overpayments pending "
        "staff review by the recalculation it starts",
    )
    resumed_from: Month | None = Field(
        default=None,
        description='with status "active" after a suspension: the first month paid again (default: this '
        "month). The months of the suspension are never paid, even when their payroll runs later",
    )


class SuspensionRead(ResponseModel):
    from_month: Month
    resumed_month: Month | None = Field(description="the first month paid again; null while suspended")
    recorded_by: str
    recorded_at: dt.datetime


class IncomeAssessmentCreate(RequestModel):
    per_capita_income: NonNegativeMoney
    effective_month: Month
    assessed_on: CalendarDate
    reference: Name


class IncomeAssessmentRead(ResponseModel):
    per_capita_income: Money
    effective_month: Month
    superseded_from: Month | None
    assessed_on: dt.date
    reference: str
    recorded_by: str
    recorded_at: dt.datetime


class EnrolmentRead(ResponseModel):
    id: uuid.UUID
    program: Program
    jurisdiction: str
    household_id: uuid.UUID | None
    person_id: uuid.UUID | None
    covered_members: int | None
    tier: int | None
    arrangement: TekunArrangement | None = Field(
        description="tekun only: 分散供养 (scattered) or 集中供养 (concentrated); null for other programs "
        "and for tekun enrolments recorded before the arrangement was"
    )
    start_month: Month
    end_month: Month | None
    status: EnrolmentStatus
    decision_by: str
    decision_on: dt.date
    decision_reference: str
    income_assessments: list[IncomeAssessmentRead] = []
    suspensions: list[SuspensionRead] = Field(
        default=[], description="the months the enrolment was (or is) suspended: never paid"
    )
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class EnrolmentLookup(RequestModel):
    """Whose enrolments, on which day. The citizen ID number travels in the body so it never
    appears in a URL or an access log."""

    citizen_id: CitizenId
    on: CalendarDate = Field(description="the day; the enrolments in force in its month are listed")


class EnrolmentInForce(ResponseModel):
    """An enrolment in force in the month looked up, for the person or for their household."""

    enrolment_id: uuid.UUID
    program: Program
    jurisdiction: str
    beneficiary: Literal["household", "person"] = Field(
        description="dibao enrols the household (every member counts); the other programs the person"
    )
    household_id: uuid.UUID | None
    arrangement: TekunArrangement | None = Field(
        default=None, description="tekun only: scattered (分散供养) or concentrated (集中供养)"
    )
    start_month: Month
    end_month: Month | None
    status: EnrolmentStatus


class EnrolmentLookupRead(ResponseModel):
    """What the welfare register holds in force for a person in a month, within the caller's area.

    A number nobody registered and a person registered outside the caller's area answer the
    same way (``person_id`` null, no enrolments, ``dibao`` false): the lookup never tells a
    caller more than their own area's register shows them.
    """

    citizen_id: str = Field(description="Masked (2111**********1234), never in clear.")
    on: dt.date
    month: str = Field(
        pattern=r"^\d{4}-\d{2}$", description="the month of the day looked up, whose enrolments count"
    )
    person_id: uuid.UUID | None = Field(description="the registered person, when in your area; else null")
    dibao: bool = Field(description="in a dibao (低保) enrolment in force that month (through the household)")
    enrolments: list[EnrolmentInForce]
