"""HTTP for daily assessment scores, the mid-year review, the status evaluation, the
self-evaluation and the department review opinions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from appraisal.access import Reader, Writer
from appraisal.assessment import service
from appraisal.assessment.schemas import (
    MidYearReviewCreate,
    MidYearReviewRead,
    ReviewOpinionCreate,
    ReviewOpinionRead,
    ScoreEntryCreate,
    ScoreEntryRead,
    ScoreEntryUpdate,
    SelfEvaluationCreate,
    SelfEvaluationRead,
    SelfEvaluationUpdate,
    StatusEvaluationCreate,
    StatusEvaluationRead,
)
from appraisal.years.dependencies import CODE_PATTERN, SubjectDep, YearDep
from shared.concurrency import set_etag
from shared.db import SessionDep
from shared.pagination import Page, PageDep
from shared.problems import problem_responses
from shared.writes import UpdateDep, WriteDep

router = APIRouter(prefix="/api/appraisal/v1", tags=["assessment"])
CodeFilter = Annotated[str | None, Query(min_length=1, max_length=64, pattern=CODE_PATTERN)]


@router.post(
    "/years/{year}/score-entries",
    status_code=201,
    response_model=ScoreEntryRead,
    summary="Daily assessment (日常考核): a department's points for a subject on one indicator",
    responses=problem_responses(403, 404, 409, 422),
)
async def create_score_entry(
    principal: Writer,
    context: YearDep,
    data: ScoreEntryCreate,
    session: SessionDep,
    write: WriteDep,
) -> Response:
    if replay := await write.replay():
        return replay
    entry, subject, indicator = await service.record_score(write=write, context=context, data=data)
    return await write.respond(
        201,
        service.score_entry_read(entry, subject, indicator),
        record=entry,
    )


@router.get(
    "/years/{year}/score-entries",
    response_model=Page[ScoreEntryRead],
    summary="Score entries: city staff see all, a member department its own",
    responses=problem_responses(404, 409),
)
async def list_score_entries(
    principal: Reader,
    context: YearDep,
    session: SessionDep,
    page: PageDep,
    subject: CodeFilter = None,
    indicator: CodeFilter = None,
) -> Page[ScoreEntryRead]:
    rows = await service.list_scores(
        session=session, context=context, principal=principal, subject=subject, indicator=indicator
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
    principal: Reader, context: YearDep, entry_id: uuid.UUID, response: Response, session: SessionDep
) -> ScoreEntryRead:
    entry, subject, indicator = await service.find_score(
        session=session, context=context, entry_id=entry_id, principal=principal
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
    principal: Writer,
    context: YearDep,
    entry_id: uuid.UUID,
    data: ScoreEntryUpdate,
    response: Response,
    session: SessionDep,
    write: UpdateDep,
) -> ScoreEntryRead:
    entry, subject, indicator = await service.find_score(
        session=session, context=context, entry_id=entry_id, principal=principal
    )
    entry = await service.update_score(
        write=write,
        context=context,
        entry=entry,
        subject=subject,
        indicator=indicator,
        data=data,
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
    principal: Writer,
    context: YearDep,
    subject: SubjectDep,
    data: MidYearReviewCreate,
    session: SessionDep,
    write: WriteDep,
) -> Response:
    if replay := await write.replay():
        return replay
    review = await service.record_mid_year_review(write=write, context=context, subject=subject, data=data)
    return await write.respond(201, service.review_read(subject, review))


@router.get(
    "/years/{year}/subjects/{subject}/mid-year-review",
    response_model=MidYearReviewRead,
    summary="A subject's mid-year review",
    responses=problem_responses(404, 409),
)
async def read_mid_year_review(
    principal: Reader, subject: SubjectDep, session: SessionDep
) -> MidYearReviewRead:
    review = await service.mid_year_review(session=session, subject=subject)
    return service.review_read(subject, review)


@router.post(
    "/years/{year}/subjects/{subject}/status-evaluation",
    status_code=201,
    response_model=StatusEvaluationRead,
    summary="Record the status evaluation figures (satisfaction, sampling pass rates)",
    responses=problem_responses(403, 404, 409, 422),
)
async def create_status_evaluation(
    principal: Writer,
    context: YearDep,
    subject: SubjectDep,
    data: StatusEvaluationCreate,
    session: SessionDep,
    write: WriteDep,
) -> Response:
    if replay := await write.replay():
        return replay
    figures = await service.record_status_evaluation(write=write, context=context, subject=subject, data=data)
    return await write.respond(201, service.figures_read(subject, figures))


@router.get(
    "/years/{year}/subjects/{subject}/status-evaluation",
    response_model=StatusEvaluationRead,
    summary="A subject's status evaluation figures",
    responses=problem_responses(404, 409),
)
async def read_status_evaluation(
    principal: Reader, subject: SubjectDep, session: SessionDep
) -> StatusEvaluationRead:
    figures = await service.status_evaluation(session=session, subject=subject)
    return service.figures_read(subject, figures)


@router.post(
    "/years/{year}/subjects/{subject}/self-evaluation",
    status_code=201,
    response_model=SelfEvaluationRead,
    summary="Submit the subject's self-evaluation (自评), by the county itself",
    responses=problem_responses(403, 404, 409, 422),
)
async def create_self_evaluation(
    principal: Writer,
    context: YearDep,
    subject: SubjectDep,
    data: SelfEvaluationCreate,
    session: SessionDep,
    write: WriteDep,
) -> Response:
    if replay := await write.replay():
        return replay
    evaluation = await service.submit_self_evaluation(
        write=write, context=context, subject=subject, data=data
    )
    return await write.respond(
        201,
        await service.self_evaluation_read(session=session, subject=subject, evaluation=evaluation),
        record=evaluation,
    )


@router.get(
    "/years/{year}/subjects/{subject}/self-evaluation",
    response_model=SelfEvaluationRead,
    summary="A subject's self-evaluation with its evidence files",
    responses=problem_responses(404, 409),
)
async def read_self_evaluation(
    principal: Reader, context: YearDep, subject: SubjectDep, response: Response, session: SessionDep
) -> SelfEvaluationRead:
    evaluation = await service.find_self_evaluation(
        session=session, context=context, subject=subject, principal=principal
    )
    set_etag(response, evaluation.id, evaluation.version)
    return await service.self_evaluation_read(session=session, subject=subject, evaluation=evaluation)


@router.patch(
    "/years/{year}/subjects/{subject}/self-evaluation",
    response_model=SelfEvaluationRead,
    summary="Change the self-evaluation (during the self-evaluation stage)",
    responses=problem_responses(403, 404, 409, 412, 422, 428),
)
async def update_self_evaluation(
    principal: Writer,
    context: YearDep,
    subject: SubjectDep,
    data: SelfEvaluationUpdate,
    response: Response,
    session: SessionDep,
    write: UpdateDep,
) -> SelfEvaluationRead:
    evaluation = await service.find_self_evaluation(
        session=session, context=context, subject=subject, principal=principal
    )
    evaluation = await service.update_self_evaluation(
        write=write,
        context=context,
        subject=subject,
        evaluation=evaluation,
        data=data,
    )
    set_etag(response, evaluation.id, evaluation.version)
    return await service.self_evaluation_read(session=session, subject=subject, evaluation=evaluation)


@router.post(
    "/years/{year}/review-opinions",
    status_code=201,
    response_model=ReviewOpinionRead,
    summary="Department review (部门评审): an opinion and the settled points of one indicator",
    responses=problem_responses(403, 404, 409, 422),
)
async def create_review_opinion(
    principal: Writer,
    context: YearDep,
    data: ReviewOpinionCreate,
    session: SessionDep,
    write: WriteDep,
) -> Response:
    if replay := await write.replay():
        return replay
    opinion, subject, indicator = await service.record_review_opinion(write=write, context=context, data=data)
    return await write.respond(201, service.opinion_read(opinion, subject, indicator))


@router.get(
    "/years/{year}/review-opinions",
    response_model=Page[ReviewOpinionRead],
    summary="Review opinions: city staff see all, a member department its own",
    responses=problem_responses(404, 409),
)
async def list_review_opinions(
    principal: Reader, context: YearDep, session: SessionDep, page: PageDep
) -> Page[ReviewOpinionRead]:
    rows = await service.list_review_opinions(session=session, context=context, principal=principal)
    chosen = rows[page.offset : page.offset + page.limit]
    return Page.of([service.opinion_read(*row) for row in chosen], len(rows), page)
