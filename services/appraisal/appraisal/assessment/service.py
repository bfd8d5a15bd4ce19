"""The records of the stages before the comprehensive evaluation, each written in its stage
by the people the sources name (Panjin art. 7, Zhumadian art. 7)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from appraisal.assessment.models import (
    MidYearReview,
    ReviewOpinion,
    ScoreEntry,
    SelfEvaluation,
    StatusEvaluation,
)
from appraisal.assessment.schemas import (
    MidYearReviewCreate,
    ReviewOpinionCreate,
    ScoreEntryCreate,
    ScoreEntryRead,
    ScoreEntryUpdate,
    SelfEvaluationCreate,
    SelfEvaluationItem,
    SelfEvaluationUpdate,
    StatusEvaluationCreate,
)
from appraisal.db import audit_log, flush_or_conflict
from appraisal.grading.points import points_text
from appraisal.workflow.states import REOPEN_TO, Stage
from appraisal.years import repository, roles
from appraisal.years.models import Indicator, Subject
from appraisal.years.service import YearContext, find_subject
from shared.audit import record_audit
from shared.auth import Principal
from shared.errors import Conflict, Forbidden, NotFound


def require_stage(context: YearContext, subject: Subject, stage: Stage, what: str) -> None:
    if subject.stage != stage.value:
        step = next(item for item in context.scheme.workflow if item.stage == stage)
        raise Conflict(
            f"{what} is recorded at the stage {stage.value} ({step.name}, {step.citation}); "
            f"{subject.code} is at {subject.stage}."
        )


def require_before_evaluation(context: YearContext, subject: Subject, what: str) -> None:
    order = context.scheme.stage_order()
    if order.index(Stage(subject.stage)) >= order.index(REOPEN_TO):
        raise Conflict(
            f"{what} closes when the comprehensive evaluation starts; {subject.code} is at {subject.stage}."
        )


async def _indicator(session: AsyncSession, context: YearContext, code: str) -> Indicator:
    indicator = await repository.indicator_by_code(session, context.year.id, code)
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
    session: AsyncSession, *, context: YearContext, data: ScoreEntryCreate, principal: Principal
) -> tuple[ScoreEntry, Subject, Indicator]:
    """日常考核: the department responsible for the indicator (or city staff) scores a subject."""
    subject = await find_subject(session, context, principal, data.subject)
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
        version=1,
    )
    session.add(entry)
    await flush_or_conflict(
        session, f"{subject.code} already has points for {indicator.code}; change them with PATCH."
    )
    await record_audit(
        session,
        audit_log,
        principal=principal,
        action="create",
        entity="score_entry",
        entity_id=str(entry.id),
        jurisdiction=subject.jurisdiction,
        after={"subject": subject.code, "indicator": indicator.code, **_entry_json(entry)},
    )
    return entry, subject, indicator


async def find_score(
    session: AsyncSession, *, context: YearContext, entry_id: uuid.UUID, principal: Principal
) -> tuple[ScoreEntry, Subject, Indicator]:
    """A score entry the caller may see (city staff, or its own department), else 404."""
    row = (
        await session.execute(
            select(ScoreEntry, Subject, Indicator)
            .join(Subject, Subject.id == ScoreEntry.subject_id)
            .join(Indicator, Indicator.id == ScoreEntry.indicator_id)
            .where(ScoreEntry.id == entry_id, ScoreEntry.year_id == context.year.id)
        )
    ).one_or_none()
    if row is None or not _scores_for(principal, context, row[0].department):
        raise NotFound(f"No score entry {entry_id} in {context.label}.")
    return row[0], row[1], row[2]


async def update_score(
    session: AsyncSession,
    *,
    context: YearContext,
    entry: ScoreEntry,
    subject: Subject,
    indicator: Indicator,
    data: ScoreEntryUpdate,
    principal: Principal,
) -> ScoreEntry:
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
    entry.version += 1
    await session.flush()
    await record_audit(
        session,
        audit_log,
        principal=principal,
        action="update",
        entity="score_entry",
        entity_id=str(entry.id),
        jurisdiction=subject.jurisdiction,
        before=before,
        after=_entry_json(entry),
    )
    return entry


async def list_scores(
    session: AsyncSession,
    *,
    context: YearContext,
    principal: Principal,
    subject: str | None,
    indicator: str | None,
) -> Sequence[tuple[ScoreEntry, Subject, Indicator]]:
    """City staff see every entry; a department its own; anyone else none."""
    query = (
        select(ScoreEntry, Subject, Indicator)
        .join(Subject, Subject.id == ScoreEntry.subject_id)
        .join(Indicator, Indicator.id == ScoreEntry.indicator_id)
        .where(ScoreEntry.year_id == context.year.id)
    )
    if not roles.is_city_staff(principal, context.year):
        if not roles.is_department_user(principal, context.year):
            return []
        query = query.where(ScoreEntry.department.in_(principal.units))
    if subject is not None:
        query = query.where(Subject.code == subject)
    if indicator is not None:
        query = query.where(Indicator.code == indicator)
    rows = await session.execute(query.order_by(Subject.code, Indicator.code))
    return [(row[0], row[1], row[2]) for row in rows.all()]


async def record_mid_year_review(
    session: AsyncSession,
    *,
    context: YearContext,
    subject: Subject,
    data: MidYearReviewCreate,
    principal: Principal,
) -> MidYearReview:
    roles.require_city_staff(principal, context.year, "The mid-year review")
    require_stage(context, subject, Stage.MID_YEAR_REVIEW, "The mid-year review")
    review = MidYearReview(
        subject_id=subject.id,
        reviewed_on=data.reviewed_on,
        key_tasks=data.key_tasks,
        last_year_rectified=data.last_year_rectified,
        findings=data.findings,
        recorded_by=principal.actor,
        version=1,
    )
    session.add(review)
    await flush_or_conflict(session, f"The mid-year review of {subject.code} is already recorded.")
    await record_audit(
        session,
        audit_log,
        principal=principal,
        action="create",
        entity="mid_year_review",
        entity_id=_subject_label(context, subject),
        jurisdiction=subject.jurisdiction,
        after=data.model_dump(mode="json"),
    )
    return review


async def record_status_evaluation(
    session: AsyncSession,
    *,
    context: YearContext,
    subject: Subject,
    data: StatusEvaluationCreate,
    principal: Principal,
) -> StatusEvaluation:
    """The city's food-safety office and the member departments survey and sample (art. 7(三))."""
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
        version=1,
    )
    session.add(figures)
    await flush_or_conflict(session, f"The status evaluation of {subject.code} is already recorded.")
    await record_audit(
        session,
        audit_log,
        principal=principal,
        action="create",
        entity="status_evaluation",
        entity_id=_subject_label(context, subject),
        jurisdiction=subject.jurisdiction,
        after=data.model_dump(mode="json"),
    )
    return figures


async def _self_items(
    session: AsyncSession, context: YearContext, items: Sequence[SelfEvaluationItem]
) -> list[dict[str, Any]]:
    indicators = {item.code: item for item in await repository.indicators_of(session, context.year.id)}
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
    session: AsyncSession,
    *,
    context: YearContext,
    subject: Subject,
    data: SelfEvaluationCreate,
    principal: Principal,
) -> SelfEvaluation:
    """自评 by the subject itself, which answers for its truth (art. 7(四))."""
    roles.require_own_record(principal, context.year, subject, "The self-evaluation")
    require_stage(context, subject, Stage.SELF_EVALUATION, "The self-evaluation")
    evaluation = SelfEvaluation(
        subject_id=subject.id,
        statement=data.statement,
        items=await _self_items(session, context, data.items),
        submitted_by=principal.actor,
        version=1,
    )
    session.add(evaluation)
    await flush_or_conflict(
        session, f"{subject.code} has already submitted its self-evaluation; change it with PATCH."
    )
    await record_audit(
        session,
        audit_log,
        principal=principal,
        action="create",
        entity="self_evaluation",
        entity_id=_subject_label(context, subject),
        jurisdiction=subject.jurisdiction,
        after=_self_json(evaluation),
    )
    return evaluation


async def find_self_evaluation(
    session: AsyncSession, *, context: YearContext, subject: Subject, principal: Principal
) -> SelfEvaluation:
    if not roles.reads_own_records(principal, context.year, subject):
        raise NotFound(f"No subject {subject.code} in {context.label}.")
    evaluation = await session.scalar(select(SelfEvaluation).where(SelfEvaluation.subject_id == subject.id))
    if evaluation is None:
        raise NotFound(f"{subject.code} has not submitted its self-evaluation.")
    return evaluation


async def update_self_evaluation(
    session: AsyncSession,
    *,
    context: YearContext,
    subject: Subject,
    evaluation: SelfEvaluation,
    data: SelfEvaluationUpdate,
    principal: Principal,
) -> SelfEvaluation:
    roles.require_own_record(principal, context.year, subject, "The self-evaluation")
    require_stage(context, subject, Stage.SELF_EVALUATION, "The self-evaluation")
    before = _self_json(evaluation)
    if data.statement is not None:
        evaluation.statement = data.statement
    if data.items is not None:
        evaluation.items = await _self_items(session, context, data.items)
    evaluation.submitted_by = principal.actor
    evaluation.version += 1
    await session.flush()
    await record_audit(
        session,
        audit_log,
        principal=principal,
        action="update",
        entity="self_evaluation",
        entity_id=_subject_label(context, subject),
        jurisdiction=subject.jurisdiction,
        before=before,
        after=_self_json(evaluation),
    )
    return evaluation


async def record_review_opinion(
    session: AsyncSession, *, context: YearContext, data: ReviewOpinionCreate, principal: Principal
) -> tuple[ReviewOpinion, Subject, Indicator]:
    """年终评审: the department responsible for the indicator reviews it for a subject."""
    subject = await find_subject(session, context, principal, data.subject)
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
    session.add(opinion)
    await flush_or_conflict(session, f"{indicator.code} of {subject.code} already has a review opinion.")
    await record_audit(
        session,
        audit_log,
        principal=principal,
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
    )
    return opinion, subject, indicator


async def list_review_opinions(
    session: AsyncSession, *, context: YearContext, principal: Principal
) -> Sequence[tuple[ReviewOpinion, Subject, Indicator]]:
    query = (
        select(ReviewOpinion, Subject, Indicator)
        .join(Subject, Subject.id == ReviewOpinion.subject_id)
        .join(Indicator, Indicator.id == ReviewOpinion.indicator_id)
        .where(ReviewOpinion.year_id == context.year.id)
    )
    if not roles.is_city_staff(principal, context.year):
        if not roles.is_department_user(principal, context.year):
            return []
        query = query.where(ReviewOpinion.department.in_(principal.units))
    rows = await session.execute(query.order_by(Subject.code, Indicator.code))
    return [(row[0], row[1], row[2]) for row in rows.all()]
