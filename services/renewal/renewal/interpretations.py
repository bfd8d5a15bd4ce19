"""Choices the sources leave open, as named settings (env ``RENEWAL_INTERPRETATIONS__<NAME>``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class RenewalInterpretations(BaseModel):
    expected_progress: Literal["linear"] = Field(
        default="linear",
        description=(
            "renewal.md, status 'at risk': the expected value grows linearly from the previous "
            "target (or the baseline, or zero at the plan's issue) to this target (Interpretation)."
        ),
    )
