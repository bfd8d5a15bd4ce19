"""The records of the stages before the comprehensive evaluation, each written in its stage
by the people the sources name (Panjin art. 7, Zhumadian art. 7)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from appraisal.assessment import repository
from appraisal.assessment.models import (
    MidYearReview,
    ReviewOpinion,
    ScoreEntry,
    SelfEvaluation,
    StatusEvaluation,
)
from appraisal.assessment.repository import OpinionRow, ScoreRow
from appraisal.assessment.schemas import (
    MidYearReviewCreate,
    MidYearReviewRead,
    ReviewOpinionCreate,
    ReviewOpinionRead,
    ScoreEntryCreate,
    ScoreEntryRead,
    ScoreEntryUpdate,
    SelfEvaluationCreate,
    SelfEvaluationItem,
    SelfEvaluationItemRead,
    SelfEvaluationRead,
    SelfEvaluationUpdate,
    StatusEvaluationCreate,
    StatusEvaluationRead,
)
from appraisal.evidence import repository as evidence_files
from appraisal.evidence.service import evidence_read
from appraisal.grading.points import points_text
from appraisal.workflow.guards import require_before_evaluation, require_stage
from appraisal.workflow.states import Stage
from appraisal.years import repository as years
from appraisal.years import roles
from appraisal.years.models import Indicator, Subject
from appraisal.years.service import YearContext, find_subject
from shared.auth import Principal
from shared.errors import Conflict, Forbidden, NotFound
from shared.writes import WriteContext


async def _indicator(session: AsyncSession, context: YearContext, code: str) -> Indicator:
    indicator = await years.indicator_by_code(session, context.year.id, code)
    if indicator is None:
        raise NotFound(f"No indicator {code} in {context.label}.")
    return indicator


def _within_max(indicator: Indicator, points: Decimal, field: str) -> None:
    if points > indicator.max_points:
        raise Conflict(
            f"{field}: {points_text(points)} exceeds the {points_text(indicator.max_points)} points "
            f"of indicator {indicator.code}."
        )


def _scores_for(principal: Principal, context: YearContext, department: str) -> bool:
    """City staff, or the department responsible for the indicator."""
    if roles.is_city_staff(principal, context.year):
        return True
    return roles.is_department_user(principal, context.year) and department in principal.units


def _subject_label(context: YearContext, subject: Subject) -> str:
    return f"{context.year.scheme}:{context.year.year}:{subject.code}"


def score_entry_read(entry: ScoreEntry, subject: Subject, indicator: Indicator) -> ScoreEntryRead:
    return ScoreEntryRead(
        id=entry.id,
        subject=subject.code,
        indicator=indicator.code,
        department=entry.department,
        points=entry.points,
        method=entry.method,
        note=entry.note,
        recorded_by=entry.recorded_by,
        version=entry.version,
        created_at=entry.created_at,
    )


def _entry_json(entry: ScoreEntry) -> dict[str, Any]:
    return {
        "department": entry.department,
        "points": points_text(entry.points),
        "method": entry.method,
        "note": entry.note,
        "version": entry.version,
    }


async def record_score(
    *, write: WriteContext, context: YearContext, data: ScoreEntryCreate
) -> tuple[ScoreEntry, Subject, Indicator]:
    """日常考核: the department responsible for the indicator (or city staff) scores a subject."""
    session, principal = write.session, write.principal
    subject = await find_subject(session=session, context=context, principal=principal, code=data.subject)
    indicator = await _indicator(session, context, data.indicator)
    if not _scores_for(principal, context, indicator.department):
        raise Forbidden(f"Indicator {indicator.code} is scored by {indicator.department}.")
    require_before_evaluation(context, subject, "The daily assessment")
    _within_max(indicator, data.points, "body.points")
    entry = ScoreEntry(
        year_id=context.year.id,
        subject_id=subject.id,
        indicator_id=indicator.id,
        department=indicator.department,
        points=data.points,
        method=data.method,
        note=data.note,
        recorded_by=principal.actor,
    )
    await write.add(
        entry, conflict=f"{subject.code} already has points for {indicator.code}; change them with PATCH."
    )
    await write.record(
        action="create",
        entity="score_entry",
        entity_id=str(entry.id),
        jurisdiction=subject.jurisdiction,
        after={"subject": subject.code, "indicator": indicator.code, **_entry_json(entry)},
        event=None,
    )
    return entry, subject, indicator


async def find_score(
    *,
    session: AsyncSession,
    context: YearContext,
    entry_id: uuid.UUID,
    principal: Principal,
) -> ScoreRow:
    """A score entry the caller may see (city staff, or its own department), else 404."""
    row = await repository.score_entry(session, context.year.id, entry_id)
    if row is None or not _scores_for(principal, context, row[0].department):
        raise NotFound(f"No score entry {entry_id} in {context.label}.")
    return row


async def update_score(
    *,
    write: WriteContext,
    context: YearContext,
    entry: ScoreEntry,
    subject: Subject,
    indicator: Indicator,
    data: ScoreEntryUpdate,
) -> ScoreEntry:
    write.expect_current(entry)
    principal = write.principal
    require_before_evaluation(context, subject, "The daily assessment")
    before = _entry_json(entry)
    if data.points is not None:
        _within_max(indicator, data.points, "body.points")
        entry.points = data.points
    if data.method is not None:
        entry.method = data.method
    if "note" in data.model_fields_set:
        entry.note = data.note
    entry.recorded_by = principal.actor
    await write.flush()
    await write.record(
        action="update",
        entity="score_entry",
        entity_id=str(entry.id),
        jurisdiction=subject.jurisdiction,
        before=before,
        after=_entry_json(entry),
        event=None,
    )
    return entry


def _departments_seen(principal: Principal, context: YearContext) -> list[str] | None:
    """Whose score entries and opinions the caller sees: every department's (None) for city
    staff, its own for a member department, none for anyone else."""
    if roles.is_city_staff(principal, context.year):
        return None
    if roles.is_department_user(principal, context.year):
        return list(principal.units)
    return []


async def list_scores(
    *,
    session: AsyncSession,
    context: YearContext,
    principal: Principal,
    subject: str | None,
    indicator: str | None,
) -> list[ScoreRow]:
    """City staff see every entry; a department its own; anyone else none."""
    departments = _departments_seen(principal, context)
    if departments == []:
        return []
    return await repository.score_entries(
        session, context.year.id, departments=departments, subject=subject, indicator=indicator
    )


async def record_mid_year_review(
    *, write: WriteContext, context: YearContext, subject: Subject, data: MidYearReviewCreate
) -> MidYearReview:
    principal = write.principal
    roles.require_city_staff(principal, context.year, "The mid-year review")
    require_stage(context, subject, Stage.MID_YEAR_REVIEW, "The mid-year review")
    review = MidYearReview(
        subject_id=subject.id,
        reviewed_on=data.reviewed_on,
        key_tasks=data.key_tasks,
        last_year_rectified=data.last_year_rectified,
        findings=data.findings,
        recorded_by=principal.actor,
    )
    await write.add(review, conflict=f"The mid-year review of {subject.code} is already recorded.")
    await write.record(
        action="create",
        entity="mid_year_review",
        entity_id=_subject_label(context, subject),
        jurisdiction=subject.jurisdiction,
        after=data.model_dump(mode="json"),
        event=None,
    )
    return review


async def record_status_evaluation(
    *, write: WriteContext, context: YearContext, subject: Subject, data: StatusEvaluationCreate
) -> StatusEvaluation:
    """The city's food-safety office and the member departments survey and sample (art. 7(三))."""
    principal = write.principal
    year = context.year
    if not (roles.is_city_staff(principal, year) or roles.is_department_user(principal, year)):
        raise Forbidden("The status evaluation is recorded by the city's office and member departments.")
    require_stage(context, subject, Stage.STATUS_EVALUATION, "The status evaluation")
    figures = StatusEvaluation(
        subject_id=subject.id,
        satisfaction=data.satisfaction,
        food_sampling_pass_rate=data.food_sampling_pass_rate,
        farm_produce_monitoring_pass_rate=data.farm_produce_monitoring_pass_rate,
        note=data.note,
        recorded_by=principal.actor,
    )
    await write.add(figures, conflict=f"The status evaluation of {subject.code} is already recorded.")
    await write.record(
        action="create",
        entity="status_evaluation",
        entity_id=_subject_label(context, subject),
        jurisdiction=subject.jurisdiction,
        after=data.model_dump(mode="json"),
        event=None,
    )
    return figures


async def _self_items(
    session: AsyncSession, context: YearContext, items: Sequence[SelfEvaluationItem]
) -> list[dict[str, Any]]:
    indicators = {item.code: item for item in await years.indicators_of(session, context.year.id)}
    seen: set[str] = set()
    stored = []
    for index, item in enumerate(items):
        indicator = indicators.get(item.indicator)
        if indicator is None:
            raise NotFound(f"body.items.{index}.indicator: no indicator {item.indicator} in {context.label}.")
        if item.indicator in seen:
            raise Conflict(f"body.items.{index}.indicator: {item.indicator} appears twice.")
        seen.add(item.indicator)
        _within_max(indicator, item.points, f"body.items.{index}.points")
        stored.append({"indicator": item.indicator, "points": points_text(item.points), "note": item.note})
    return stored


def _self_json(evaluation: SelfEvaluation) -> dict[str, Any]:
    return {"statement": evaluation.statement, "items": evaluation.items, "version": evaluation.version}


async def submit_self_evaluation(
    *, write: WriteContext, context: YearContext, subject: Subject, data: SelfEvaluationCreate
) -> SelfEvaluation:
    """自评 by the subject itself, which answers for its truth (art. 7(四))."""
    session, principal = write.session, write.principal
    roles.require_own_record(principal, context.year, subject, "The self-evaluation")
    require_stage(context, subject, Stage.SELF_EVALUATION, "The self-evaluation")
    evaluation = SelfEvaluation(
        subject_id=subject.id,
        statement=data.statement,
        items=await _self_items(session, context, data.items),
        submitted_by=principal.actor,
    )
    await write.add(
        evaluation,
        conflict=f"{subject.code} has already submitted its self-evaluation; change it with PATCH.",
    )
    await write.record(
        action="create",
        entity="self_evaluation",
        entity_id=_subject_label(context, subject),
        jurisdiction=subject.jurisdiction,
        after=_self_json(evaluation),
        event=None,
    )
    return evaluation


async def find_self_evaluation(
    *,
    session: AsyncSession,
    context: YearContext,
    subject: Subject,
    principal: Principal,
) -> SelfEvaluation:
    """The subject's self-evaluation, for those who read its records."""
    if not roles.reads_own_records(principal, context.year, subject):
        raise NotFound(f"No subject {subject.code} in {context.label}.")
    evaluation = await repository.self_evaluation(session, subject.id)
    if evaluation is None:
        raise NotFound(f"{subject.code} has not submitted its self-evaluation.")
    return evaluation


async def update_self_evaluation(
    *,
    write: WriteContext,
    context: YearContext,
    subject: Subject,
    evaluation: SelfEvaluation,
    data: SelfEvaluationUpdate,
) -> SelfEvaluation:
    write.expect_current(evaluation)
    session, principal = write.session, write.principal
    roles.require_own_record(principal, context.year, subject, "The self-evaluation")
    require_stage(context, subject, Stage.SELF_EVALUATION, "The self-evaluation")
    before = _self_json(evaluation)
    if data.statement is not None:
        evaluation.statement = data.statement
    if data.items is not None:
        evaluation.items = await _self_items(session, context, data.items)
    evaluation.submitted_by = principal.actor
    await write.flush()
    await write.record(
        action="update",
        entity="self_evaluation",
        entity_id=_subject_label(context, subject),
        jurisdiction=subject.jurisdiction,
        before=before,
        after=_self_json(evaluation),
        event=None,
    )
    return evaluation


async def record_review_opinion(
    *, write: WriteContext, context: YearContext, data: ReviewOpinionCreate
) -> OpinionRow:
    """年终评审: the department responsible for the indicator reviews it for a subject."""
    session, principal = write.session, write.principal
    subject = await find_subject(session=session, context=context, principal=principal, code=data.subject)
    indicator = await _indicator(session, context, data.indicator)
    if not _scores_for(principal, context, indicator.department):
        raise Forbidden(f"Indicator {indicator.code} is reviewed by {indicator.department}.")
    require_stage(context, subject, Stage.DEPARTMENT_REVIEW, "The department review")
    _within_max(indicator, data.points, "body.points")
    opinion = ReviewOpinion(
        year_id=context.year.id,
        subject_id=subject.id,
        indicator_id=indicator.id,
        department=indicator.department,
        opinion=data.opinion,
        points=data.points,
        recorded_by=principal.actor,
    )
    await write.add(opinion, conflict=f"{indicator.code} of {subject.code} already has a review opinion.")
    await write.record(
        action="create",
        entity="review_opinion",
        entity_id=str(opinion.id),
        jurisdiction=subject.jurisdiction,
        after={
            "subject": subject.code,
            "indicator": indicator.code,
            "opinion": data.opinion,
            "points": points_text(data.points),
        },
        event=None,
    )
    return opinion, subject, indicator


async def list_review_opinions(
    *, session: AsyncSession, context: YearContext, principal: Principal
) -> list[OpinionRow]:
    """City staff see every opinion; a department its own; anyone else none."""
    departments = _departments_seen(principal, context)
    if departments == []:
        return []
    return await repository.review_opinions(session, context.year.id, departments=departments)


async def mid_year_review(*, session: AsyncSession, subject: Subject) -> MidYearReview:
    review = await repository.mid_year_review(session, subject.id)
    if review is None:
        raise NotFound(f"No mid-year review of {subject.code} is recorded.")
    return review


async def status_evaluation(*, session: AsyncSession, subject: Subject) -> StatusEvaluation:
    figures = await repository.status_evaluation(session, subject.id)
    if figures is None:
        raise NotFound(f"No status evaluation of {subject.code} is recorded.")
    return figures


def review_read(subject: Subject, review: MidYearReview) -> MidYearReviewRead:
    return MidYearReviewRead(
        subject=subject.code,
        reviewed_on=review.reviewed_on,
        key_tasks=review.key_tasks,
        last_year_rectified=review.last_year_rectified,
        findings=review.findings,
        recorded_by=review.recorded_by,
        created_at=review.created_at,
    )


def figures_read(subject: Subject, figures: StatusEvaluation) -> StatusEvaluationRead:
    return StatusEvaluationRead(
        subject=subject.code,
        satisfaction=figures.satisfaction,
        food_sampling_pass_rate=figures.food_sampling_pass_rate,
        farm_produce_monitoring_pass_rate=figures.farm_produce_monitoring_pass_rate,
        note=figures.note,
        recorded_by=figures.recorded_by,
        created_at=figures.created_at,
    )


def opinion_read(opinion: ReviewOpinion, subject: Subject, indicator: Indicator) -> ReviewOpinionRead:
    return ReviewOpinionRead(
        id=opinion.id,
        subject=subject.code,
        indicator=indicator.code,
        department=opinion.department,
        opinion=opinion.opinion,
        points=opinion.points,
        recorded_by=opinion.recorded_by,
        created_at=opinion.created_at,
    )


async def self_evaluation_read(
    *, session: AsyncSession, subject: Subject, evaluation: SelfEvaluation
) -> SelfEvaluationRead:
    """The self-evaluation with the evidence files that back it."""
    files = await evidence_files.files_of(session, subject.id)
    return SelfEvaluationRead(
        subject=subject.code,
        statement=evaluation.statement,
        items=[SelfEvaluationItemRead.model_validate(item) for item in evaluation.items],
        submitted_by=evaluation.submitted_by,
        version=evaluation.version,
        created_at=evaluation.created_at,
        evidence=[evidence_read(subject, item) for item in files if item.purpose == "self_evaluation"],
    )
