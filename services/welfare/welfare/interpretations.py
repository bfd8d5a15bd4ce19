"""Choices the sources leave open, as named settings (env ``WELFARE_INTERPRETATIONS__<NAME>``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class WelfareInterpretations(BaseModel):
    orphan_arrangement_change_effective: Literal["next_month", "same_month"] = Field(
        default="next_month",
        description=(
            "welfare.md, orphans: a change of care arrangement (concentrated ↔ scattered) takes "
            "effect from the month after the change (Interpretation)."
        ),
    )
    standard_staleness_days: int = Field(
        default=400,
        ge=1,
        description=(
            "welfare.md: answers for dates more than this many days after a standard was last "
            "confirmed valid carry a warning (standards are revised yearly)."
        ),
    )
