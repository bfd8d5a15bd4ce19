"""``Idempotency-Key`` on POST: same key + same body → the same response, once.

The key row is inserted in the same transaction as the write it protects. A second
request with the same key waits on the primary key until the first commits, then
replays its stored response; if the first rolled back, the second does the work.
A key re-used with another body is refused with 422.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import CurrentPrincipal, Principal
from shared.db import SessionDep
from shared.errors import InvalidInput
from shared.writes import request_fingerprint

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
REPLAYED_HEADERS = ("etag", "location", "content-type")


@dataclass
class Idempotency:
    session: AsyncSession
    table: Table | None
    owner: str
    key: str | None
    method: str
    path: str
    request_hash: str

    async def replay(self) -> Response | None:
        """The stored response when this key was already used, else None (and claim the key)."""
        if self.key is None or self.table is None:
            return None
        claim = (
            insert(self.table)
            .values(
                owner=self.owner,
                key=self.key,
                method=self.method,
                path=self.path,
                request_hash=self.request_hash,
                status_code=0,
                response_body=b"",
            )
            .on_conflict_do_nothing()
            .returning(self.table.c.key)
        )
        if (await self.session.execute(claim)).first() is not None:
            return None
        row = (
            await self.session.execute(
                select(self.table).where(self.table.c.owner == self.owner, self.table.c.key == self.key)
            )
        ).one()
        if row.request_hash != self.request_hash or row.path != self.path:
            raise InvalidInput(
                "This Idempotency-Key was already used with a different request.",
                errors=[{"field": "header.idempotency-key", "message": "re-used with another body"}],
            )
        headers = dict(getattr(row, "response_headers", None) or {})
        media_type = headers.pop("content-type", "application/json")
        headers["Idempotent-Replayed"] = "true"
        return Response(
            content=row.response_body, status_code=row.status_code, media_type=media_type, headers=headers
        )

    async def respond(
        self, status_code: int, body: Any, headers: dict[str, str] | None = None
    ) -> JSONResponse:
        """Build the JSON response and store it under the key (same transaction as the write)."""
        content = jsonable_encoder(body)
        response = JSONResponse(content, status_code=status_code, headers=headers)
        if self.key is not None and self.table is not None:
            await self.session.execute(
                self.table.update()
                .where(self.table.c.owner == self.owner, self.table.c.key == self.key)
                .values(
                    status_code=status_code,
                    response_body=bytes(response.body),
                    # the replay repeats the first answer's ETag and Location too
                    response_headers={k: v for k, v in response.headers.items() if k in REPLAYED_HEADERS},
                )
            )
        return response


def owner_of(principal: Principal) -> str:
    return f"{principal.client_id or '-'}:{principal.subject}"


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=HEADER,
        description="Send the same key again to repeat the request safely: the same key with the "
        "same body answers the first answer again (header Idempotent-Replayed: true); the same key "
        "with another body is 422. Keys are kept per caller.",
        json_schema_extra={"minLength": 1, "maxLength": MAX_KEY_LENGTH},
    ),
]


async def idempotency_dependency(
    request: Request, session: SessionDep, principal: CurrentPrincipal, key: IdempotencyKeyHeader = None
) -> Idempotency:
    # declared (so the OpenAPI document tells it); checked here, with the same message as before
    if key is not None and (not key or len(key) > MAX_KEY_LENGTH or not key.isprintable()):
        raise InvalidInput.field("header.idempotency-key", f"must be 1–{MAX_KEY_LENGTH} printable characters")
    body = await request.body()
    return Idempotency(
        session=session,
        table=getattr(request.app.state, "idempotency_table", None),
        owner=owner_of(principal),
        key=key,
        method=request.method,
        path=request.url.path,
        request_hash=request_fingerprint(request.method, request.url.path, body, request.url.query),
    )


IdempotencyDep = Annotated[Idempotency, Depends(idempotency_dependency)]
