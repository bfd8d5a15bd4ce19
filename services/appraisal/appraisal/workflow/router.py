"""HTTP for the stage transitions of subjects (who, when, why), one or many at once."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from appraisal.access import Reader, Writer
from appraisal.schemes.state import interpretations_of
from appraisal.workflow import service
from appraisal.years.dependencies import SubjectDep, YearDep
from appraisal.years.schemas import BulkTransitionCreate, TransitionCreate, TransitionRead
from shared.db import SessionDep
from shared.months import policy_today
from shared.pagination import Items
from shared.problems import problem_responses
from shared.writes import WriteDep

router = APIRouter(prefix="/api/appraisal/v1", tags=["workflow"])


@router.post(
    "/years/{year}/subjects/{subject}/transitions",
    status_code=201,
    response_model=TransitionRead,
    summary="Move a subject to its next stage, or reopen a published result (with a reason)",
    responses=problem_responses(403, 404, 409, 422),
)
async def create_transition(
    principal: Writer,
    context: YearDep,
    subject: SubjectDep,
    data: TransitionCreate,
    request: Request,
    session: SessionDep,
    write: WriteDep,
) -> Response:
    if replay := await write.replay():
        return replay
    [(moved, transition)] = await service.move(
        write=write,
        context=context,
        codes=[subject.code],
        data=data,
        interpretations=interpretations_of(request),
        today=policy_today(),
    )
    return await write.respond(201, service.transition_read(moved, transition))


@router.post(
    "/years/{year}/transitions",
    status_code=201,
    response_model=list[TransitionRead],
    summary="Move several subjects (default all) to a stage at once: all move or none",
    responses=problem_responses(403, 404, 409, 422),
)
async def create_transitions(
    principal: Writer,
    context: YearDep,
    data: BulkTransitionCreate,
    request: Request,
    session: SessionDep,
    write: WriteDep,
) -> Response:
    if replay := await write.replay():
        return replay
    moved = await service.move(
        write=write,
        context=context,
        codes=data.subjects,
        data=data,
        interpretations=interpretations_of(request),
        today=policy_today(),
    )
    return await write.respond(
        201, [service.transition_read(subject, transition) for subject, transition in moved]
    )


@router.get(
    "/years/{year}/subjects/{subject}/transitions",
    response_model=Items[TransitionRead],
    summary="A subject's stage history: every move with who, when and why",
    responses=problem_responses(404, 409),
)
async def list_transitions(
    principal: Reader, subject: SubjectDep, session: SessionDep
) -> Items[TransitionRead]:
    rows = await service.transitions_of(session=session, subject=subject)
    return Items.of([service.transition_read(subject, row) for row in rows])
