"""HTTP of a kind of job: the answer to a request for a run, and the routes that follow runs.

A request for a run answers 202 with the queued run and its address
(:attr:`shared.jobs.JobKind.path`), and the run starts once that answer is sent
(:func:`accept_run`). :func:`add_job_status_routes` declares the routes that answer there,
``GET …/{run_id}`` (one run) and ``GET …`` (the runs of the caller's area, by status, in pages),
on the router of the kind's own HTTP module, so every kind's runs are followed the same way.
"""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Response

from shared.auth import Principal, require_scope
from shared.db import SessionDep
from shared.jobs import JobKind, JobRead, ServiceJobs, StatusFilter, run_in_scope, runs_in_scope
from shared.pagination import Page, PageDep
from shared.problems import problem_responses
from shared.writes import WriteContext


async def accept_run(
    write: WriteContext, background: BackgroundTasks, runner: ServiceJobs, run: Any, read_model: type[JobRead]
) -> Response:
    """202 with the run just recorded (as ``read_model``) and its ``Location``; ``runner`` starts
    it once the answer is sent, so after the request's transaction committed."""
    background.add_task(runner.start, run.id)
    return await write.respond(202, read_model.model_validate(run), location=runner.kind.location(run.id))


def add_job_status_routes(
    router: APIRouter,
    kind: JobKind,
    read_model: type[JobRead],
    *,
    scope: str,
    read_name: str,
    read_summary: str,
    list_name: str,
    list_summary: str,
) -> None:
    """Add the routes that read ``kind``'s runs as ``read_model`` to ``router`` (whose prefix
    begins the kind's path), for callers holding ``scope``. The names are the operations'
    (their operationIds are ``{tag}-{name}``)."""
    if not kind.path.startswith(f"{router.prefix}/") or not kind.path.endswith("/{id}"):
        raise ValueError(f"{kind.name}: {kind.path} is not an address below {router.prefix}")
    collection = kind.path.removeprefix(router.prefix).removesuffix("/{id}")
    # evaluated here (no postponed annotations in this module): the scope is the service's
    Reader = Annotated[Principal, Depends(require_scope(scope))]  # noqa: N806
    page_model: Any = Page[read_model]  # type: ignore[valid-type]  # the kind's own model

    @router.get(
        f"{collection}/{{run_id}}",
        name=read_name,
        response_model=read_model,
        summary=read_summary,
        responses=problem_responses(404),
    )
    async def read_run(run_id: uuid.UUID, session: SessionDep, principal: Reader) -> JobRead:
        return read_model.model_validate(
            await run_in_scope(session, kind, principal=principal, run_id=run_id)
        )

    @router.get(collection, name=list_name, response_model=page_model, summary=list_summary)
    async def list_runs(
        session: SessionDep,
        principal: Reader,
        page: PageDep,
        status: StatusFilter = None,
    ) -> Page[JobRead]:
        rows, total = await runs_in_scope(
            session, kind, principal=principal, page=page, statuses=status or ()
        )
        return Page.of([read_model.model_validate(row) for row in rows], total, page)
