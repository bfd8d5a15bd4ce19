"""Choices the sources leave open, as named settings (env ``RENEWAL_INTERPRETATIONS__<NAME>``).

Each field cites the place in the spec (``renewal.md``) that marks it **Interpretation**, or
the gap in the source it fills. The status rules and the equipment assessment take this model
as a parameter, and every answer that applies one names it with the value used
(``AppliedInterpretation``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class RenewalInterpretations(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    expected_progress: Literal["linear", "none"] = Field(
        default="linear",
        description=(
            "renewal.md, 'Status of a target on a date' (Interpretation): before a deadline, the value "
            "expected on a date grows linearly from the previous target (or the baseline) to this "
            "target, and a latest value behind it is 'at risk'. 'none' expects nothing before the "
            "deadline, so no target is ever 'at risk'."
        ),
    )
    baseline_dated: Literal["end_of_baseline_year", "plan_issue"] = Field(
        default="end_of_baseline_year",
        description=(
            "Where the expected line of a first target starts when its indicator has a baseline "
            "(e.g. 盘政发〔2024〕4号 一: 较2023年增长25%): at the end of the baseline year (the "
            "baseline is that year's figure) or at the plan's issue date. The plans do not say; "
            "renewal.md only says the line starts at the baseline."
        ),
    )
    cumulative_from_zero: bool = Field(
        default=True,
        description=(
            "A first cumulative target without a baseline (e.g. 盘政发〔2024〕4号 task 21: 26 boats "
            "by the end of 2024) counts from zero at the plan's issue date. When false, such a "
            "target has no expected line and is never 'at risk'."
        ),
    )
    undated_target_deadline: Literal["plan_horizon", "none"] = Field(
        default="plan_horizon",
        description=(
            "A target the source states without a date (驻政〔2023〕22号 二（一）2 and 4: 逐步实现…, "
            "逐步将气象网络带宽提升到…; 二（三）12: 实现…全覆盖) is judged against the plan's horizon "
            "(its last milestone, 到2035年) as its deadline: 'plan_horizon'. 'none' never makes such a "
            "target overdue or at risk. The plan file keeps deadline: null, as the source says."
        ),
    )
    farm_machinery_age_alone_suffices: bool = Field(
        default=True,
        description=(
            "盘政发〔2024〕4号 二（三）22: 加快15年以上的老旧拖拉机…等技术状况差、维修成本高的"
            "农业机械报废. Whether the age alone makes a machine due when the caller does not say whether it "
            "is 技术状况差 and 维修成本高 (true: those facts are assumed, as in the spec's example of a "
            "2008 tractor → renew). A fact given as false makes the machine not due either way."
        ),
    )
    plan_duty_due_day: int = Field(
        default=10,
        ge=1,
        le=28,
        description=(
            "驻政〔2023〕23号 三（六） sets a monthly bulletin (月通报) and a quarterly dispatch meeting "
            "(季调度) but no day by which units report: a report of a period under the plan's own "
            "reporting duties is due on this day of the month after the period."
        ),
    )
    plan_duty_grace_days: int = Field(
        default=0,
        ge=0,
        le=60,
        description=(
            "Days of grace after plan_duty_due_day before such a report is 'missing' (the plan names none)."
        ),
    )


class AppliedInterpretation(BaseModel):
    """An interpretation an answer applied, with the value used (the setting
    ``RENEWAL_INTERPRETATIONS__<NAME>``)."""

    name: str
    value: str | int | bool


def applied(interpretations: RenewalInterpretations, *names: str) -> list[AppliedInterpretation]:
    """The named interpretations with the values in force."""
    return [AppliedInterpretation(name=name, value=getattr(interpretations, name)) for name in names]
