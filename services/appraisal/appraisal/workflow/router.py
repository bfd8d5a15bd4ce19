"""HTTP for the stage transitions of subjects (who, when, why), one or many at once."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from appraisal.access import Reader, Writer
from appraisal.schemes.state import interpretations_of
from appraisal.workflow import service
from appraisal.years import repository
from appraisal.years.params import SchemeQuery, SubjectPath, YearPath, year_context
from appraisal.years.schemas import BulkTransitionCreate, TransitionCreate, TransitionRead
from appraisal.years.service import find_subject
from shared.db import SessionDep
from shared.idempotency import IdempotencyDep
from shared.months import policy_today
from shared.problems import problem_responses

router = APIRouter(prefix="/api/appraisal/v1", tags=["workflow"])


@router.post(
    "/years/{year}/subjects/{subject}/transitions",
    status_code=201,
    response_model=TransitionRead,
    summary="Move a subject to its next stage, or reopen a published result (with a reason)",
    responses=problem_responses(403, 404, 409, 422),
)
async def create_transition(
    year: YearPath,
    subject: SubjectPath,
    data: TransitionCreate,
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
    [moved] = await service.move(
        session,
        context=context,
        codes=[found.code],
        data=data,
        principal=principal,
        interpretations=interpretations_of(request),
        today=policy_today(),
    )
    return await idempotency.respond(201, service.transition_read(found, moved))


@router.post(
    "/years/{year}/transitions",
    status_code=201,
    response_model=list[TransitionRead],
    summary="Move several subjects (default all) to a stage at once: all move or none",
    responses=problem_responses(403, 404, 409, 422),
)
async def create_transitions(
    year: YearPath,
    data: BulkTransitionCreate,
    request: Request,
    session: SessionDep,
    principal: Writer,
    idempotency: IdempotencyDep,
    scheme: SchemeQuery = None,
) -> Response:
    context = await year_context(request, session, principal, year, scheme)
    if replay := await idempotency.replay():
        return replay
    moved = await service.move(
        session,
        context=context,
        codes=data.subjects,
        data=data,
        principal=principal,
        interpretations=interpretations_of(request),
        today=policy_today(),
    )
    subjects = {s.id: s for s in await repository.subjects_of(session, context.year.id)}
    return await idempotency.respond(
        201, [service.transition_read(subjects[item.subject_id], item) for item in moved]
    )


@router.get(
    "/years/{year}/subjects/{subject}/transitions",
    response_model=list[TransitionRead],
    summary="A subject's stage history: every move with who, when and why",
    responses=problem_responses(404, 409),
)
async def list_transitions(
    year: YearPath,
    subject: SubjectPath,
    request: Request,
    session: SessionDep,
    principal: Reader,
    scheme: SchemeQuery = None,
) -> list[TransitionRead]:
    context = await year_context(request, session, principal, year, scheme)
    found = await find_subject(session, context, principal, subject)
    rows = await repository.transitions_of(session, [found.id])
    return [service.transition_read(found, row) for row in rows]
