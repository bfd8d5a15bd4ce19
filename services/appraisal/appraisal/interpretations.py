"""Interpretations (解释口径) of the appraisal sources where they leave a question open.

Each is a setting with the default the spec (``shared/spec/appraisal.md``) chooses; the
pure rule modules (``grading/rules.py``, ``consequences/rules.py``) take an
:class:`AppraisalInterpretations` as a parameter.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from appraisal.grading.schemas import Grade

BandGrade = Literal["B", "C"]


class AppraisalInterpretations(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rank_beyond_bands_grade: BandGrade = Field(
        default="C",
        description=(
            "Grade of a ranked subject whose rank no band of the source covers: Panjin art. 8 "
            "grades ranks 1–2 (A) and 3–4 (B) only, as Panjin has four county-level "
            "governments; the spec's Grade table chooses C for rank ≥ 5 (Interpretation). "
            "A scheme band marked `interpretation: rank_beyond_bands_grade` takes this grade."
        ),
    )
    doubled_bonus_respects_cap: bool = Field(
        default=True,
        description=(
            "Whether the bonus counted double under Panjin art. 10 and annex row 5 still "
            "respects the 5-point bonus cap of art. 8: bonus total = min(bonus + 2 × "
            "provincial bonus, 5). Spec 'Double counting' (Interpretation)."
        ),
    )
    several_downgrades_one_level: bool = Field(
        default=True,
        description=(
            "Whether several downgrade circumstances still lower the grade one level only "
            "(Panjin art. 8(三), Zhumadian art. 10: 「有下列情形之一的，考核等级下调一级」). "
            "When false each circumstance lowers one level, still never below C. "
            "Spec Grade section (Interpretation)."
        ),
    )

    def band_grade(self, name: str) -> Grade:
        """The grade that the interpretation ``name`` gives a scheme band."""
        if name == "rank_beyond_bands_grade":
            return self.rank_beyond_bands_grade
        raise KeyError(name)


BAND_INTERPRETATIONS: tuple[str, ...] = ("rank_beyond_bands_grade",)
"""Interpretation settings a scheme band may take its grade from."""
