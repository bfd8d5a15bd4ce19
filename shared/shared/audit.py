"""The append-only audit record: actor, client, request id, time, before/after."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.logs import request_id_var


async def record_audit(
    session: AsyncSession,
    table: Table,
    *,
    principal: Principal,
    action: str,
    entity: str,
    entity_id: str,
    jurisdiction: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    await session.execute(
        table.insert().values(
            actor=principal.actor,
            client_id=principal.client_id,
            request_id=request_id_var.get(),
            action=action,
            entity=entity,
            entity_id=entity_id,
            jurisdiction=jurisdiction,
            before=before,
            after=after,
        )
    )
