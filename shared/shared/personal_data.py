"""Who read a citizen ID number: every answer that reveals one in full is recorded.

Callers with ``{service}:pii`` see citizen ID numbers in full; everyone else sees them masked.
Each full number in an answer leaves a row in the service's ``personal_data_access`` log: who,
which record, when, the request id, the path, and the purpose the caller states in the
``Access-Purpose`` header (个人信息保护法: processing has a stated purpose and is recorded).
An account with ``{service}:audit`` reads the log at ``GET /api/{service}/v1/personal-data-access``.

A router declares ``personal_data: PersonalDataDep`` and passes it to the code that builds the
answer, which calls :meth:`PersonalDataReader.citizen_id` for each number; the rows are written
in the request's transaction when the handler returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel
from sqlalchemy import BigInteger, Column, DateTime, MetaData, String, Table, Text, func, select

from shared.auth import CurrentPrincipal, Principal, require_scope
from shared.citizen_ids import CitizenIdVault
from shared.db import SessionDep
from shared.errors import InvalidInput
from shared.logs import request_id_var
from shared.pagination import Page, PageDep
from shared.problems import problem_responses

PURPOSE_HEADER = "Access-Purpose"
MAX_PURPOSE_LENGTH = 200


def personal_data_access_table(metadata: MetaData) -> Table:
    """Append-only (the migration adds the trigger), like the audit log."""
    return Table(
        "personal_data_access",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("actor", String(200), nullable=False),
        Column("client_id", String(200)),
        Column("request_id", String(128)),
        Column("path", Text, nullable=False),
        Column("entity", String(64), nullable=False),
        Column("entity_id", String(200), nullable=False),
        Column("jurisdiction", String(32)),
        Column("purpose", String(MAX_PURPOSE_LENGTH), comment="as the caller stated; null when not stated"),
    )


@dataclass
class PersonalDataReader:
    """Reveals citizen ID numbers to callers who may see them, and records each one revealed."""

    principal: Principal
    vault: CitizenIdVault
    scope: str
    path: str
    purpose: str | None
    pending: list[dict[str, Any]] = field(default_factory=list)

    @property
    def may_reveal(self) -> bool:
        return self.principal.has_scope(self.scope)

    def citizen_id(
        self,
        *,
        cipher: bytes,
        masked: str,
        key_id: str | None,
        entity: str,
        entity_id: object,
        jurisdiction: str | None,
    ) -> str:
        """The number in full for a ``{service}:pii`` caller (recorded), else the masked form."""
        if not self.may_reveal:
            return masked
        shown = self.vault.reveal(cipher, masked, key_id)
        if shown != masked:
            self.pending.append(
                {
                    "actor": self.principal.actor,
                    "client_id": self.principal.client_id,
                    "request_id": request_id_var.get(),
                    "path": self.path,
                    "entity": entity,
                    "entity_id": str(entity_id),
                    "jurisdiction": jurisdiction,
                    "purpose": self.purpose,
                }
            )
        return shown


AccessPurpose = Annotated[
    str | None,
    Header(
        alias=PURPOSE_HEADER,
        max_length=MAX_PURPOSE_LENGTH,
        description="Why you read personal data, recorded with every citizen ID number the answer shows "
        "in full. HTTP headers carry only ASCII: percent-encode other text as UTF-8 "
        "(低保年审 → %E4%BD%8E%E4%BF%9D%E5%B9%B4%E5%AE%A1).",
    ),
]


async def personal_data_reader(
    request: Request, session: SessionDep, principal: CurrentPrincipal, purpose: AccessPurpose = None
) -> AsyncIterator[PersonalDataReader]:
    service = request.app.state.settings.service_name
    try:
        stated = unquote(purpose, errors="strict").strip() or None if purpose else None
    except UnicodeDecodeError as exc:
        raise InvalidInput.field("header.access-purpose", "percent-encoded text must be UTF-8") from exc
    reader = PersonalDataReader(
        principal=principal,
        vault=request.app.state.citizen_id_vault,
        scope=f"{service}:pii",
        path=request.url.path,
        purpose=stated,
    )
    yield reader
    # after the handler, before the request's session commits (its teardown runs after this one)
    if reader.pending:
        table: Table = request.app.state.personal_data_access_table
        await session.execute(table.insert(), reader.pending)


PersonalDataDep = Annotated[PersonalDataReader, Depends(personal_data_reader, scope="function")]


class PersonalDataAccess(BaseModel):
    id: int
    occurred_at: dt.datetime
    actor: str
    client_id: str | None
    request_id: str | None
    path: str
    entity: str
    entity_id: str
    jurisdiction: str | None
    purpose: str | None


def personal_data_access_router(service: str, table: Table) -> APIRouter:
    router = APIRouter(prefix=f"/api/{service}/v1", tags=[f"{service}-audit"])
    auditor = Depends(require_scope(f"{service}:audit"))

    @router.get(
        "/personal-data-access",
        response_model=Page[PersonalDataAccess],
        summary="Who saw which citizen ID number in full, when and why (for auditors)",
        responses=problem_responses(422),
    )
    async def list_personal_data_access(
        session: SessionDep,
        page: PageDep,
        principal: Principal = auditor,
        entity_id: Annotated[str | None, Query(max_length=200)] = None,
        actor: Annotated[str | None, Query(max_length=200)] = None,
    ) -> Page[PersonalDataAccess]:
        query = select(table)
        if not principal.sees_everything:
            query = query.where(table.c.jurisdiction.in_(principal.visible_jurisdictions()))
        if entity_id is not None:
            query = query.where(table.c.entity_id == entity_id)
        if actor is not None:
            query = query.where(table.c.actor == actor)
        total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await session.execute(query.order_by(table.c.id.desc()).limit(page.limit).offset(page.offset))
        return Page.of([PersonalDataAccess.model_validate(row._mapping) for row in rows], total, page)

    return router
