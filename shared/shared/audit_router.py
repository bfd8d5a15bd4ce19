"""``GET /api/{service}/v1/audit-log``: the service's audit trail, for its administrators.

Beside limit/offset, ``/audit-log/by-cursor`` pages by keyset (``{items, next_cursor}``): the
log grows without bound, and an OFFSET deep into it reads every row before the page.
"""

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import Select, Table, func, or_, select

from shared.auth import Principal, require_scope
from shared.db import SessionDep
from shared.pagination import CursorDep, CursorPage, Page, PageDep, keyset, order_by
from shared.problems import problem_responses


class AuditRecord(BaseModel):
    id: int
    occurred_at: dt.datetime
    actor: str
    client_id: str | None
    request_id: str | None
    action: str
    entity: str
    entity_id: str
    jurisdiction: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def audit_router(service: str, table: Table) -> APIRouter:
    router = APIRouter(prefix=f"/api/{service}/v1", tags=["audit"])
    # evaluated here (no postponed annotations in this module): the scope names the service
    AdminDep = Annotated[Principal, Depends(require_scope(f"{service}:admin"))]  # noqa: N806

    @router.get(
        "/audit-log",
        response_model=Page[AuditRecord],
        summary="Audit trail of every write in this service (who, when, before/after)",
        responses=problem_responses(422),
    )
    async def list_audit_log(
        request: Request,
        session: SessionDep,
        principal: AdminDep,
        page: PageDep,
        entity: Annotated[str | None, Query(max_length=64)] = None,
        entity_id: Annotated[str | None, Query(max_length=200)] = None,
        sort: Annotated[
            Literal["-occurred_at", "occurred_at"],
            Query(description="Newest first (`-occurred_at`, the default) or oldest first."),
        ] = "-occurred_at",
    ) -> Page[AuditRecord]:
        query = visible(principal, entity, entity_id)
        total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await session.execute(
            query.order_by(order_by(sort, {"occurred_at": table.c.id})).limit(page.limit).offset(page.offset)
        )
        items = [AuditRecord.model_validate(row._mapping) for row in rows]
        return Page.of(items, total, page)

    @router.get(
        "/audit-log/by-cursor",
        response_model=CursorPage[AuditRecord],
        summary="Audit trail in keyset pages, newest first (no total; steady cost at any depth)",
        responses=problem_responses(422),
    )
    async def page_audit_log(
        session: SessionDep,
        principal: AdminDep,
        cursor: CursorDep,
        entity: Annotated[str | None, Query(max_length=64)] = None,
        entity_id: Annotated[str | None, Query(max_length=200)] = None,
    ) -> CursorPage[AuditRecord]:
        rows, next_cursor = await keyset(
            session, visible(principal, entity, entity_id), cursor, table.c.id, descending=True
        )
        return CursorPage(
            items=[AuditRecord.model_validate(row._mapping) for row in rows], next_cursor=next_cursor
        )

    def visible(principal: Principal, entity: str | None, entity_id: str | None) -> Select[Any]:
        query = select(table)
        if not principal.sees_everything:
            query = query.where(
                or_(
                    table.c.jurisdiction.in_(principal.visible_jurisdictions()),
                    table.c.actor == principal.actor,
                )
            )
        if entity is not None:
            query = query.where(table.c.entity == entity)
        if entity_id is not None:
            query = query.where(table.c.entity_id == entity_id)
        return query

    return router
