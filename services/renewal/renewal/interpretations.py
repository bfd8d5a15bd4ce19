"""Choices the sources leave open, as named settings (env ``RENEWAL_INTERPRETATIONS__<NAME>``).

Each field cites the place in the spec (``renewal.md``) that marks it **Interpretation**, or
the gap in the source it fills. The status engine takes this model as a parameter.
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
