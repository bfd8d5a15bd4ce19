"""The stateless calculator's request (one shape per program) and answer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from shared.jurisdictions import JurisdictionCode
from shared.money import Money, NonNegativeMoney
from shared.months import Month
from shared.schemas import NotABool, RequestModel, ResponseModel


class CalculationBase(RequestModel):
    jurisdiction: JurisdictionCode
    month: Month
    residence: Literal["urban", "rural"] | None = Field(
        default=None,
        description=(
            "the household's registration, urban (城市) or rural (农村): required where the city sets "
            'the two standards apart (welfare.md, "Urban and rural standards"); Panjin\'s is one'
        ),
    )


class DibaoCalculation(CalculationBase):
    program: Literal["dibao"]
    household_size: Annotated[int, Field(ge=1, le=50), NotABool] = Field(
        description="household members covered (n)"
    )
    per_capita_income: NonNegativeMoney = Field(description="assessed monthly income per person (I)")


class PersonCalculation(CalculationBase):
    program: Literal["tekun", "orphan_concentrated", "orphan_scattered"]


class RetireeCalculation(CalculationBase):
    program: Literal["retiree_1960s"]
    tier: Annotated[int, Field(ge=1, le=4), NotABool]


CalculationRequest = Annotated[
    DibaoCalculation | PersonCalculation | RetireeCalculation, Field(discriminator="program")
]


class CalculationResult(ResponseModel):
    program: str
    jurisdiction: str
    month: Month
    amount: Money
    eligible: bool
    reason: str | None = Field(default=None, description="why the amount is zero, when it is")
    trace: dict[str, Any] = Field(description="formula, inputs, parameters with version and citation")
