"""HTTP for daily assessment scores, the mid-year review, the status evaluation, the
self-evaluation and the department review opinions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from appraisal.access import Reader, Writer
from appraisal.assessment import service
from appraisal.assessment.models import MidYearReview, ReviewOpinion, SelfEvaluation, StatusEvaluation
from appraisal.assessment.schemas import (
    EvidenceRead,
    MidYearReviewCreate,
    MidYearReviewRead,
    ReviewOpinionCreate,
    ReviewOpinionRead,
    ScoreEntryCreate,
    ScoreEntryRead,
    ScoreEntryUpdate,
    SelfEvaluationCreate,
    SelfEvaluationItemRead,
    SelfEvaluationRead,
    SelfEvaluationUpdate,
    StatusEvaluationCreate,
    StatusEvaluationRead,
)
from appraisal.evidence import service as evidence
from appraisal.years.models import Indicator, Subject
from appraisal.years.params import CODE_PATTERN, SchemeQuery, SubjectPath, YearPath, year_context
from appraisal.years.service import find_subject
from shared.concurrency import IfMatch, etag_for, require_if_match, set_etag
from shared.db import SessionDep
from shared.errors import NotFound
from shared.idempotency import IdempotencyDep
from shared.pagination import Page, PageDep
from shared.problems import problem_responses

router = APIRouter(prefix="/api/appraisal/v1", tags=["assessment"])
CodeFilter = Annotated[str | None, Query(min_length=1, max_length=64, pattern=CODE_PATTERN)]


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
    session: SessionDep, subject: Subject, evaluation: SelfEvaluation
) -> SelfEvaluationRead:
    files = await evidence.list_files(session, subject)
    return SelfEvaluationRead(
        subject=subject.code,
        statement=evaluation.statement,
        items=[SelfEvaluationItemRead.model_validate(item) for item in evaluation.items],
        submitted_by=evaluation.submitted_by,
        version=evaluation.version,
        created_at=evaluation.created_at,
        evidence=[
            EvidenceRead(
                id=f.id,
                subject=subject.code,
                purpose=f.purpose,
                filename=f.filename,
                content_type=f.content_type,
                size=f.size,
                sha256=f.sha256,
                uploaded_by=f.uploaded_by,
                uploaded_at=f.uploaded_at,
            )
            for f in files
            if f.purpose == "self_evaluation"
        ],
    )


@router.post(
    "/years/{year}/score-entries",
    status_code=201,
    response_model=ScoreEntryRead,
    summary="Daily assessment (日常考核): a department's points for a subject on one indicator",
    responses=problem_responses(403, 404, 409, 422),
)
async def create_score_entry(
    year: YearPath,
    data: ScoreEntryCreate,
    request: Request,
    session: SessionDep,
    principal: Writer,
    idempotency: IdempotencyDep,
    scheme: SchemeQuery = None,
) -> Response:
    context = await year_context(request, session, principal, year, scheme)
    if replay := await idempotency.replay():
        return replay
    entry, subject, indicator = await service.record_score(
        session, context=context, data=data, principal=principal
    )
    return await idempotency.respond(
        201,
        service.score_entry_read(entry, subject, indicator),
        headers={"ETag": etag_for(entry.id, entry.version)},
    )


@router.get(
    "/years/{year}/score-entries",
    response_model=Page[ScoreEntryRead],
    summary="Score entries: city staff see all, a member department its own",
    responses=problem_responses(404, 409),
)
async def list_score_entries(
    year: YearPath,
    request: Request,
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    scheme: SchemeQuery = None,
    subject: CodeFilter = None,
    indicator: CodeFilter = None,
) -> Page[ScoreEntryRead]:
    context = await year_context(request, session, principal, year, scheme)
    rows = await service.list_scores(
        session, context=context, principal=principal, subject=subject, indicator=indicator
    )
    chosen = rows[page.offset : page.offset + page.limit]
    return Page.of([service.score_entry_read(*row) for row in chosen], len(rows), page)


@router.get(
    "/years/{year}/score-entries/{entry_id}",
    response_model=ScoreEntryRead,
    summary="A score entry (city staff, or the department that made it)",
    responses=problem_responses(404, 409),
)
async def read_score_entry(
    year: YearPath,
    entry_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    scheme: SchemeQuery = None,
) -> ScoreEntryRead:
    context = await year_context(request, session, principal, year, scheme)
    entry, subject, indicator = await service.find_score(
        session, context=context, entry_id=entry_id, principal=principal
    )
    set_etag(response, entry.id, entry.version)
    return service.score_entry_read(entry, subject, indicator)


@router.patch(
    "/years/{year}/score-entries/{entry_id}",
    response_model=ScoreEntryRead,
    summary="Change a score entry (before the comprehensive evaluation)",
    responses=problem_responses(403, 404, 409, 412, 422, 428),
)
async def update_score_entry(
    year: YearPath,
    entry_id: uuid.UUID,
    data: ScoreEntryUpdate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
    scheme: SchemeQuery = None,
    if_match: IfMatch = None,
) -> ScoreEntryRead:
    context = await year_context(request, session, principal, year, scheme)
    entry, subject, indicator = await service.find_score(
        session, context=context, entry_id=entry_id, principal=principal
    )
    require_if_match(if_match, entry.id, entry.version)
    entry = await service.update_score(
        session,
        context=context,
        entry=entry,
        subject=subject,
        indicator=indicator,
        data=data,
        principal=principal,
    )
    set_etag(response, entry.id, entry.version)
    return service.score_entry_read(entry, subject, indicator)


@router.post(
    "/years/{year}/subjects/{subject}/mid-year-review",
    status_code=201,
    response_model=MidYearReviewRead,
    summary="Record the mid-year review (年中评价 / 年中督促) of a subject",
    responses=problem_responses(403, 404, 409, 422),
)
async def create_mid_year_review(
    year: YearPath,
    subject: SubjectPath,
    data: MidYearReviewCreate,
    request: Request,
    session: SessionDep,
    principal: Writer,
    idempotency: IdempotencyDep,
    scheme: SchemeQuery = None,
) -> Response:
    context = await year_context(request, session, principal, year, scheme)
    found = await find_subject(session, context, principal, subject)
    if replay := await idempotency.replay():
        return replay
    review = await service.record_mid_year_review(
        session, context=context, subject=found, data=data, principal=principal
    )
    return await idempotency.respond(201, _review_read(found, review))


def _review_read(subject: Subject, review: MidYearReview) -> MidYearReviewRead:
    return MidYearReviewRead(
        subject=subject.code,
        reviewed_on=review.reviewed_on,
        key_tasks=review.key_tasks,
        last_year_rectified=review.last_year_rectified,
        findings=review.findings,
        recorded_by=review.recorded_by,
        created_at=review.created_at,
    )


@router.get(
    "/years/{year}/subjects/{subject}/mid-year-review",
    response_model=MidYearReviewRead,
    summary="A subject's mid-year review",
    responses=problem_responses(404, 409),
)
async def read_mid_year_review(
    year: YearPath,
    subject: SubjectPath,
    request: Request,
    session: SessionDep,
    principal: Reader,
    scheme: SchemeQuery = None,
) -> MidYearReviewRead:
    context = await year_context(request, session, principal, year, scheme)
    found = await find_subject(session, context, principal, subject)
    review = await session.scalar(select(MidYearReview).where(MidYearReview.subject_id == found.id))
    if review is None:
        raise NotFound(f"No mid-year review of {found.code} is recorded.")
    return _review_read(found, review)


@router.post(
    "/years/{year}/subjects/{subject}/status-evaluation",
    status_code=201,
    response_model=StatusEvaluationRead,
    summary="Record the status evaluation figures (satisfaction, sampling pass rates)",
    responses=problem_responses(403, 404, 409, 422),
)
async def create_status_evaluation(
    year: YearPath,
    subject: SubjectPath,
    data: StatusEvaluationCreate,
    request: Request,
    session: SessionDep,
    principal: Writer,
    idempotency: IdempotencyDep,
    scheme: SchemeQuery = None,
) -> Response:
    context = await year_context(request, session, principal, year, scheme)
    found = await find_subject(session, context, principal, subject)
    if replay := await idempotency.replay():
        return replay
    figures = await service.record_status_evaluation(
        session, context=context, subject=found, data=data, principal=principal
    )
    return await idempotency.respond(201, _figures_read(found, figures))


def _figures_read(subject: Subject, figures: StatusEvaluation) -> StatusEvaluationRead:
    return StatusEvaluationRead(
        subject=subject.code,
        satisfaction=figures.satisfaction,
        food_sampling_pass_rate=figures.food_sampling_pass_rate,
        farm_produce_monitoring_pass_rate=figures.farm_produce_monitoring_pass_rate,
        note=figures.note,
        recorded_by=figures.recorded_by,
        created_at=figures.created_at,
    )


@router.get(
    "/years/{year}/subjects/{subject}/status-evaluation",
    response_model=StatusEvaluationRead,
    summary="A subject's status evaluation figures",
    responses=problem_responses(404, 409),
)
async def read_status_evaluation(
    year: YearPath,
    subject: SubjectPath,
    request: Request,
    session: SessionDep,
    principal: Reader,
    scheme: SchemeQuery = None,
) -> StatusEvaluationRead:
    context = await year_context(request, session, principal, year, scheme)
    found = await find_subject(session, context, principal, subject)
    figures = await session.scalar(select(StatusEvaluation).where(StatusEvaluation.subject_id == found.id))
    if figures is None:
        raise NotFound(f"No status evaluation of {found.code} is recorded.")
    return _figures_read(found, figures)


@router.post(
    "/years/{year}/subjects/{subject}/self-evaluation",
    status_code=201,
    response_model=SelfEvaluationRead,
    summary="Submit the subject's self-evaluation (自评), by the county itself",
    responses=problem_responses(403, 404, 409, 422),
)
async def create_self_evaluation(
    year: YearPath,
    subject: SubjectPath,
    data: SelfEvaluationCreate,
    request: Request,
    session: SessionDep,
    principal: Writer,
    idempotency: IdempotencyDep,
    scheme: SchemeQuery = None,
) -> Response:
    context = await year_context(request, session, principal, year, scheme)
    found = await find_subject(session, context, principal, subject)
    if replay := await idempotency.replay():
        return replay
    evaluation = await service.submit_self_evaluation(
        session, context=context, subject=found, data=data, principal=principal
    )
    return await idempotency.respond(
        201,
        await self_evaluation_read(session, found, evaluation),
        headers={"ETag": etag_for(evaluation.id, evaluation.version)},
    )


@router.get(
    "/years/{year}/subjects/{subject}/self-evaluation",
    response_model=SelfEvaluationRead,
    summary="A subject's self-evaluation with its evidence files",
    responses=problem_responses(404, 409),
)
async def read_self_evaluation(
    year: YearPath,
    subject: SubjectPath,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    scheme: SchemeQuery = None,
) -> SelfEvaluationRead:
    context = await year_context(request, session, principal, year, scheme)
    found = await find_subject(session, context, principal, subject)
    evaluation = await service.find_self_evaluation(
        session, context=context, subject=found, principal=principal
    )
    set_etag(response, evaluation.id, evaluation.version)
    return await self_evaluation_read(session, found, evaluation)


@router.patch(
    "/years/{year}/subjects/{subject}/self-evaluation",
    response_model=SelfEvaluationRead,
    summary="Change the self-evaluation (during the self-evaluation stage)",
    responses=problem_responses(403, 404, 409, 412, 422, 428),
)
async def update_self_evaluation(
    year: YearPath,
    subject: SubjectPath,
    data: SelfEvaluationUpdate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
    scheme: SchemeQuery = None,
    if_match: IfMatch = None,
) -> SelfEvaluationRead:
    context = await year_context(request, session, principal, year, scheme)
    found = await find_subject(session, context, principal, subject)
    evaluation = await service.find_self_evaluation(
        session, context=context, subject=found, principal=principal
    )
    require_if_match(if_match, evaluation.id, evaluation.version)
    evaluation = await service.update_self_evaluation(
        session, context=context, subject=found, evaluation=evaluation, data=data, principal=principal
    )
    set_etag(response, evaluation.id, evaluation.version)
    return await self_evaluation_read(session, found, evaluation)


@router.post(
    "/years/{year}/review-opinions",
    status_code=201,
    response_model=ReviewOpinionRead,
    summary="Department review (部门评审): an opinion and the settled points of one indicator",
    responses=problem_responses(403, 404, 409, 422),
)
async def create_review_opinion(
    year: YearPath,
    data: ReviewOpinionCreate,
    request: Request,
    session: SessionDep,
    principal: Writer,
    idempotency: IdempotencyDep,
    scheme: SchemeQuery = None,
) -> Response:
    context = await year_context(request, session, principal, year, scheme)
    if replay := await idempotency.replay():
        return replay
    opinion, subject, indicator = await service.record_review_opinion(
        session, context=context, data=data, principal=principal
    )
    return await idempotency.respond(201, opinion_read(opinion, subject, indicator))


@router.get(
    "/years/{year}/review-opinions",
    response_model=Page[ReviewOpinionRead],
    summary="Review opinions: city staff see all, a member department its own",
    responses=problem_responses(404, 409),
)
async def list_review_opinions(
    year: YearPath,
    request: Request,
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    scheme: SchemeQuery = None,
) -> Page[ReviewOpinionRead]:
    context = await year_context(request, session, principal, year, scheme)
    rows = await service.list_review_opinions(session, context=context, principal=principal)
    chosen = rows[page.offset : page.offset + page.limit]
    return Page.of([opinion_read(*row) for row in chosen], len(rows), page)
