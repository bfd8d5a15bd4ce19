"""``GET /api/{service}/v1/audit-log``: the service's audit trail, for its administrators."""

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import Table, func, or_, select

from shared.auth import Principal, require_scope
from shared.db import SessionDep
from shared.pagination import Page, PageDep
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
    ) -> Page[AuditRecord]:
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
        total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await session.execute(query.order_by(table.c.id.desc()).limit(page.limit).offset(page.offset))
        items = [AuditRecord.model_validate(row._mapping) for row in rows]
        return Page.of(items, total, page)

    return router
