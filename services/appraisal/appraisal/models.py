"""Every table of the appraisal schema, imported once so metadata and Alembic see them all."""

from appraisal.assessment.models import (
    MidYearReview,
    ReviewOpinion,
    ScoreEntry,
    SelfEvaluation,
    StatusEvaluation,
)
from appraisal.evaluation.models import (
    Adjustment,
    CircumstanceFinding,
    Incident,
    PublishedResult,
    Result,
)
from appraisal.evidence.models import EvidenceFile
from appraisal.rectification.models import RectificationReport
from appraisal.years.models import AppraisalYear, Indicator, RulesPublication, Subject, Transition

__all__ = [
    "Adjustment",
    "AppraisalYear",
    "CircumstanceFinding",
    "EvidenceFile",
    "Incident",
    "Indicator",
    "MidYearReview",
    "PublishedResult",
    "RectificationReport",
    "Result",
    "ReviewOpinion",
    "RulesPublication",
    "ScoreEntry",
    "SelfEvaluation",
    "StatusEvaluation",
    "Subject",
    "Transition",
]
