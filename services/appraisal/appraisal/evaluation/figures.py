"""Each subject's figures for the grading, gathered from the year's stored records: indicator
points (the review opinion's where there is one, else the daily assessment's), bonuses and
deductions, circumstances and the incidents counted in the year, with the list of problems
(问题清单) they make."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from appraisal.assessment import repository as assessment
from appraisal.evaluation import repository
from appraisal.evaluation.circumstances import circumstance_effect
from appraisal.evaluation.schemas import ProblemItem
from appraisal.grading.points import plain_points, points_text
from appraisal.grading.schemas import AppliedRule, RuleName
from appraisal.schemes.pack import Scheme
from appraisal.years import repository as years
from appraisal.years.models import Subject
from appraisal.years.service import YearContext

ZERO = Decimal(0)
POINT_FIELDS = ("base", "ad_hoc", "bonus", "provincial_bonus", "deductions", "provincial_deduction")


@dataclass
class Figures:
    """A subject's points for the grading rules, and the notes on how they were reached."""

    base: Decimal = ZERO
    ad_hoc: Decimal = ZERO
    bonus: Decimal = ZERO
    provincial_bonus: Decimal = ZERO
    deductions: Decimal = ZERO
    provincial_deduction: Decimal = ZERO
    downgrade_circumstances: set[str] = field(default_factory=set)
    veto: bool = False
    notes: list[AppliedRule] = field(default_factory=list)
    problems: list[ProblemItem] = field(default_factory=list)


async def gather_figures(
    *, session: AsyncSession, context: YearContext, subjects: Sequence[Subject]
) -> dict[uuid.UUID, Figures]:
    """Every subject's figures from the stored records, a handful of queries for the year."""
    year, scheme = context.year, context.scheme
    subject_ids = [subject.id for subject in subjects]
    figures = {subject.id: Figures() for subject in subjects}
    indicators = {item.id: item for item in await years.indicators_of(session, year.id)}
    points: dict[tuple[uuid.UUID, uuid.UUID], Decimal] = {}
    for subject_id, indicator_id, value in await assessment.score_points(session, year.id):
        points[(subject_id, indicator_id)] = value
    for subject_id, indicator_id, value in await assessment.review_points(session, year.id):
        points[(subject_id, indicator_id)] = value  # the year-end review settles the points
    for (subject_id, indicator_id), value in points.items():
        if subject_id not in figures:
            continue
        if indicators[indicator_id].component == "base":
            figures[subject_id].base += value
        else:
            figures[subject_id].ad_hoc += value

    for adjustment in await repository.adjustments_of(session, subject_ids):
        item = figures[adjustment.subject_id]
        if adjustment.component == "bonus":
            if adjustment.provincial:
                item.provincial_bonus += adjustment.points
            else:
                item.bonus += adjustment.points
        else:
            if adjustment.provincial:
                item.provincial_deduction += adjustment.points
            else:
                item.deductions += adjustment.points
            item.problems.append(
                ProblemItem(
                    kind="deduction",
                    detail=f"{points_text(adjustment.points)} points: {adjustment.reason}",
                    citation=None,
                )
            )
    for finding in await repository.findings_of(session, subject_ids):
        _apply_circumstance(scheme, figures[finding.subject_id], finding.circumstance, finding.evidence)
    by_code = {subject.code: subject.id for subject in subjects}
    for incident in await repository.incidents_counted_in(session, year.scheme, year.year):
        incident_subject = by_code.get(incident.subject_code)
        if incident_subject is None:
            continue
        item = figures[incident_subject]
        item.problems.append(
            ProblemItem(
                kind="incident",
                detail=f"{incident.occurred_on.isoformat()}: {incident.description} ({incident.attribution})",
                citation=incident.citation,
            )
        )
        if incident.effect == "deduction" and incident.points is not None:
            item.deductions += incident.points
        elif incident.circumstance is not None:
            _apply_circumstance(scheme, item, incident.circumstance, incident.description)
    for item in figures.values():
        for name in POINT_FIELDS:
            setattr(item, name, plain_points(getattr(item, name)))
        _cap(item, scheme)
    return figures


def _apply_circumstance(scheme: Scheme, item: Figures, circumstance_id: str, evidence: str) -> None:
    catalogue, effect = circumstance_effect(scheme, circumstance_id)
    if effect == "veto":
        item.veto = True
    else:
        item.downgrade_circumstances.add(catalogue.id)
    item.problems.append(
        ProblemItem(kind=effect, detail=f"{catalogue.text}: {evidence}", citation=catalogue.citation)
    )


CAP_RULES: dict[str, RuleName] = {
    "base": "base_cap",
    "ad_hoc": "ad_hoc_cap",
    "bonus": "bonus_cap",
    "deductions": "deductions_cap",
}


def _cap(item: Figures, scheme: Scheme) -> None:
    """Sums of several entries above a cap count up to the cap (the grading refuses more)."""
    caps = scheme.score.caps
    for name, cap in (
        ("base", caps.base),
        ("ad_hoc", caps.ad_hoc),
        ("bonus", caps.bonus),
        ("deductions", caps.deductions),
    ):
        value: Decimal = getattr(item, name)
        if cap.max is not None and value > cap.max:
            setattr(item, name, cap.max)
            item.notes.append(
                AppliedRule(
                    rule=CAP_RULES[name],
                    detail=f"recorded {name} {points_text(value)} counted up to the cap of "
                    f"{points_text(cap.max)}",
                    citation=cap.citation,
                )
            )
