"""``GET /api/{service}/v1/events``: the outbox as a feed of CloudEvents, in commit-safe order.

An identity value is taken at INSERT but becomes visible at COMMIT, so a reader that follows
``sequence > :last`` passes for ever an event whose transaction commits after a later one's.
This feed orders by (transaction id, sequence) and serves only events below a *horizon*: the
oldest transaction id still running among the transactions that hold a lock on a relation of
this service's schema (else the next transaction id to be assigned). Every transaction below
the horizon that could write this outbox has finished, and every one that finishes later has
an id at or above it, so nothing can appear behind a cursor.

Only this schema's writers count (``pg_locks``), not every transaction of the cluster
(``pg_snapshot_xmin``): a long batch of another service, or of another database on the same
server, does not hold this feed back. This rests on each service writing its own schema only
(the database roles enforce it: a runtime role has rights on its own schema alone); a
transaction gets its id at its first write, after the lock of the relation it writes. A long
transaction of this service delays its feed (lag); it never makes a reader skip an event.
"""

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import Row, Table, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from shared.access import in_scope
from shared.auth import Principal, require_scope
from shared.errors import InvalidInput
from shared.events.envelope import START, Position, access_rows, cloud_event
from shared.logs import request_id_var
from shared.problems import problem_responses

MAX_LIMIT = 1000
MAX_WAIT_SECONDS = 30
LAST_SEQUENCE = 2**63 - 1
# a waiting reader is woken by this process's own commits of events (shared.events.commits), and
# looks at least this often besides: for events written through another replica, and for one
# that a transaction still running held back at the previous look
LOOK_SECONDS = 1.0


@dataclass(frozen=True)
class Batch:
    rows: list[Row[Any]]
    next: Position


# xids in pg_locks are 32-bit; the outbox keeps xid8 (with its epoch): a running xid lies
# within 2^31 below the next xid, so its full value is the next xid minus the distance
_HORIZON = text(
    """
    WITH next AS (SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xid),
    writers AS (
        SELECT DISTINCT x.transactionid::text::bigint AS xid
        FROM pg_locks x
        JOIN pg_locks r ON r.virtualtransaction = x.virtualtransaction
        JOIN pg_class c ON c.oid = r.relation
        WHERE x.locktype = 'transactionid' AND x.mode = 'ExclusiveLock' AND x.granted
          AND x.pid IS DISTINCT FROM pg_backend_pid()
          AND r.locktype = 'relation'
          AND r.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND c.relnamespace = CAST(:schema AS regnamespace)
    )
    SELECT least(
        next.xid, min(next.xid - (((next.xid % 4294967296) - writers.xid + 4294967296) % 4294967296))
    )
    FROM next LEFT JOIN writers ON true
    GROUP BY next.xid
    """
)


async def horizon(session: AsyncSession, outbox: Table) -> int:
    """The oldest transaction id still running that could write ``outbox`` (see the module)."""
    value = await session.scalar(_HORIZON, {"schema": outbox.schema})
    return int(value or 0)


def full_type(service: str, name: str) -> str:
    return name if name.startswith("civic.") else f"civic.{service}.{name}"


async def read_batch(
    session: AsyncSession,
    outbox: Table,
    *,
    after: Position,
    limit: int,
    types: Sequence[str] = (),
    principal: Principal | None = None,
) -> Batch:
    """Events after ``after`` (at most ``limit``), of ``types`` (all when empty), that
    ``principal`` may see (all when None), and the position to read from next."""
    below = await horizon(session, outbox)
    query = select(outbox).where(
        tuple_(outbox.c.transaction_id, outbox.c.sequence) > tuple_(after.transaction_id, after.sequence),
        outbox.c.transaction_id < below,
    )
    if types:
        query = query.where(outbox.c.type.in_(list(types)))
    if principal is not None:
        query = query.where(in_scope(outbox.c.jurisdiction, principal))
    query = query.order_by(outbox.c.transaction_id, outbox.c.sequence).limit(limit)
    rows = list(await session.execute(query))
    if len(rows) == limit:
        return Batch(rows, Position(rows[-1].transaction_id, rows[-1].sequence))
    # every matching event below the horizon has been read: the cursor may move up to it
    return Batch(rows, max(after, Position(below - 1, LAST_SEQUENCE)) if below > 0 else after)


class EventPage(BaseModel):
    items: list[dict[str, Any]] = Field(
        description="CloudEvents 1.0 (JSON format) with the extensions jurisdiction and sequence, "
        "in commit order"
    )
    next_cursor: str = Field(description="Pass as `after` to read on; opaque")


def parse_cursor(after: str | None) -> Position:
    if after is None or after == "":
        return START
    try:
        return Position.parse(after)
    except ValueError:
        raise InvalidInput.field("query.after", "not a cursor this feed gave") from None


def parse_types(service: str, types: list[str] | None) -> list[str]:
    names = [t.strip() for value in types or [] for t in value.split(",") if t.strip()]
    for name in names:
        if not name.isascii() or not all(c.isalnum() or c in "._-" for c in name) or len(name) > 128:
            raise InvalidInput.field("query.types", "event types are names like enrolment.started")
    return [full_type(service, name) for name in names]


def events_router(service: str, outbox: Table) -> APIRouter:
    router = APIRouter(prefix=f"/api/{service}/v1", tags=["events"])
    ReaderDep = Annotated[Principal, Depends(require_scope(f"{service}:read"))]  # noqa: N806

    @router.get(
        "/events",
        response_model=EventPage,
        summary="Change events (CloudEvents 1.0) after a cursor, in commit order; long polling with wait",
        responses=problem_responses(422),
    )
    async def list_events(
        request: Request,
        principal: ReaderDep,
        after: Annotated[
            str | None,
            Query(max_length=64, description="`next_cursor` of the previous page; none: from the start"),
        ] = None,
        types: Annotated[
            list[str] | None,
            Query(
                description="only these types (`enrolment.started` or the full `civic.…` type; "
                "comma-separated or repeated)"
            ),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
        wait: Annotated[
            int,
            Query(
                ge=0, le=MAX_WAIT_SECONDS, description="seconds to hold the request until an event arrives"
            ),
        ] = 0,
    ) -> Response:
        cursor = parse_cursor(after)
        wanted = parse_types(service, types)
        database = request.app.state.database
        deadline = time.monotonic() + wait
        while True:
            written = database.outbox_commits.next()  # taken before the look: no commit slips by
            # a short transaction per look: a waiting reader holds no snapshot open
            async with database.sessions() as session:
                batch = await read_batch(
                    session, outbox, after=cursor, limit=limit, types=wanted, principal=principal
                )
            if batch.rows or time.monotonic() >= deadline:
                break
            if await request.is_disconnected():
                # the reader went away (it stopped, or its replica is shutting down): no one waits
                # for the answer, and a server stopping waits for this request to end
                break
            cursor = batch.next
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    written.wait(), timeout=min(LOOK_SECONDS, max(0.0, deadline - time.monotonic()))
                )
        personal = principal.has_scope(f"{service}:pii")
        vault = getattr(request.app.state, "citizen_id_vault", None)
        items = [cloud_event(row, service=service, vault=vault, personal=personal) for row in batch.rows]
        log = getattr(request.app.state, "personal_data_access_table", None)
        if personal and log is not None:
            shown = access_rows(
                batch.rows,
                actor=principal.actor,
                client_id=principal.client_id,
                path=request.url.path,
                request_id=request_id_var.get(),
            )
            if shown:  # who was shown which number, as every answer that reveals one
                async with database.sessions() as session, session.begin():
                    await session.execute(log.insert(), shown)
        # built directly (the envelope is plain JSON already): no model validation per event
        return JSONResponse({"items": items, "next_cursor": str(batch.next)})

    return router
