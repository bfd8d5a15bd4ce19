"""Interpretations (解释口径) of the appraisal sources where they leave a question open.

Each is a setting (``APPRAISAL_INTERPRETATIONS__<NAME>``) with the default the spec
(``shared/spec/appraisal.md``) chooses; the pure rule modules (``grading/scoring.py``,
``consequences/findings.py``) take an :class:`AppraisalInterpretations` as a parameter, and
every answer that applies one names it and the value used (:func:`stated`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from appraisal.grading.schemas import Grade

BandGrade = Literal["B", "C"]
TieRule = Literal["competition", "dense"]
Places = Annotated[int, Field(ge=1, le=100)]
PointsDrop = Annotated[Decimal, Field(gt=0, le=1000)]


class PlacesPerScheme(BaseModel):
    """A number of places: ``default`` for every scheme, ``schemes`` where a city differs.
    Set as a whole: ``…__DEFAULT=3`` and ``…__SCHEMES='{"panjin": 2}'``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default: Places
    schemes: dict[str, Places] = Field(default_factory=dict)

    def of(self, scheme: str) -> int:
        return self.schemes.get(scheme, self.default)


class PointsPerScheme(BaseModel):
    """A number of points: ``default`` for every scheme, ``schemes`` where a city differs.
    Set as a whole: ``…__DEFAULT=5`` and ``…__SCHEMES='{"panjin": 5}'``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default: PointsDrop
    schemes: dict[str, PointsDrop] = Field(default_factory=dict)

    def of(self, scheme: str) -> Decimal:
        return self.schemes.get(scheme, self.default)


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
    tie_rule: TieRule = Field(
        default="competition",
        description=(
            "How equal totals are ranked; neither document says (Panjin art. 8 「得分排在前2名」, "
            "Zhumadian art. 9 「考核得分排在前4名」). competition: they share the rank and leave a "
            "gap (1, 2, 2, 4), the spec's choice; dense: no gap (1, 2, 2, 3). Spec Grade and "
            "Consequences sections (Interpretation)."
        ),
    )
    large_rank_rise_places: PlacesPerScheme = Field(
        default=PlacesPerScheme(default=3, schemes={"panjin": 2}),
        description=(
            "How many places up on the year before is 「考核排名较上一年度提升较大」 (commendation: "
            "Panjin art. 13(二), Zhumadian art. 16(二)); neither document says. Two places in "
            "Panjin (four ranked counties), three elsewhere. Spec Consequences (Interpretation)."
        ),
    )
    large_rank_drop_places: PlacesPerScheme = Field(
        default=PlacesPerScheme(default=3, schemes={"panjin": 2}),
        description=(
            "How many places down on the year before is 「考核排名退步较大」 (interview of the county "
            "food-safety office head: Zhumadian art. 17 para. 3), for schemes that measure the drop "
            "by rank; the document does not say. Spec Consequences (Interpretation)."
        ),
    )
    large_score_drop_points: PointsPerScheme = Field(
        default=PointsPerScheme(default=Decimal(5)),
        description=(
            "How many points below the year before's total is 「考核成绩下降幅度较大」 (interview of "
            "the county food-safety office head: Panjin art. 14 para. 2), for schemes that measure "
            "the drop by score; the document does not say. Five points: the whole bonus range of "
            "art. 8. Spec Consequences (Interpretation)."
        ),
    )

    def band_grade(self, name: str) -> Grade:
        """The grade that the interpretation ``name`` gives a scheme band."""
        if name == "rank_beyond_bands_grade":
            return self.rank_beyond_bands_grade
        raise KeyError(name)


def stated(name: str, value: object) -> str:
    """How an answer names an interpretation it applied, with the value used:
    ``interpretation tie_rule = competition``."""
    shown = str(value).lower() if isinstance(value, bool) else str(value)
    return f"interpretation {name} = {shown}"


BAND_INTERPRETATIONS: tuple[str, ...] = ("rank_beyond_bands_grade",)
"""Interpretation settings a scheme band may take its grade from."""
