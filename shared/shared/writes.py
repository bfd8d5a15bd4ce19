"""The one write path: every create, update and state change of every service goes through it.

A router declares ``write: WriteDep`` and hands it to one service function; the service
applies its rules and calls the methods below, which own the guarantees every write gives:

- ``await write.replay()`` (router, first): a POST that repeats an ``Idempotency-Key`` gets the
  first answer again, status, body and headers; the same key with another body is 422. The key
  row is claimed in the request's transaction, so a concurrent twin waits for it.
- ``write.expect_current(record)`` (service, before changing a record): the ``If-Match`` header
  must name the record's current version (428 without it, 412 when stale).
- ``await write.add(record)`` / ``await write.flush()``: the INSERT/UPDATE. Records are
  :class:`shared.db.Versioned`, so each UPDATE is a compare-and-set on the version and a
  concurrent change that committed first makes it 412 instead of a lost update; a unique
  violation (a concurrent twin without an Idempotency-Key) is 409 with the service's message.
- ``await write.record(...)``: the audit row and, when the change is one other systems may care
  about, its event in the outbox — in the same transaction as the change, so neither exists
  without the other.
- ``await write.respond(...)`` (router, last): the answer, stored under the Idempotency-Key.

The request boundary (:func:`shared.db.session_dependency`) commits or rolls back. Jobs that
write outside a request build a context with :meth:`WriteContext.for_job`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol
from urllib.parse import parse_qsl, urlencode

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.dml import Insert

from shared.auth import CurrentPrincipal, Principal
from shared.concurrency import IfMatch, etag_for, require_if_match
from shared.db import SessionDep, get_database
from shared.errors import Conflict, InvalidInput, PreconditionFailed
from shared.events.commits import mark_written
from shared.logs import request_id_var
from shared.records import PlatformTables

logger = logging.getLogger("shared.writes")

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
# headers of a first answer that a replay repeats
_REPLAYED_HEADERS = ("etag", "location", "content-type")
# SQLSTATEs of a row that collides with another: unique violation, exclusion violation
_COLLISION_SQLSTATES = frozenset({"23505", "23P01"})


class HasVersion(Protocol):
    id: Any
    version: int


class Encrypted(Protocol):
    """A citizen ID number as the vault keeps it (:class:`shared.citizen_ids.ProtectedId`)."""

    @property
    def cipher(self) -> bytes: ...
    @property
    def key_id(self) -> str | None: ...
    @property
    def masked(self) -> str: ...


@dataclass(frozen=True)
class Sealed:
    """A citizen ID number as a record stores it: ciphertext, masked form, key id if known."""

    cipher: bytes
    masked: str
    key_id: str | None = None


PERSONAL_KEY = "_personal"
"""Where an outbox row keeps its encrypted personal values (only the feed of a caller with
``{service}:pii`` reveals them, into ``data``)."""


@dataclass(frozen=True)
class Event:
    """A change other systems may care about, written to the outbox with the change.

    ``type`` is the noun and verb (``enrolment.started``); the full CloudEvents type is
    ``civic.{service}.{type}``. ``subject`` is the record's path. ``data`` carries record ids
    and facts, never a citizen ID number; ``personal`` carries those, encrypted as the vault
    keeps them, and only a reader with ``{service}:pii`` sees them (in ``data``).
    """

    type: str
    subject: str
    data: dict[str, Any]
    jurisdiction: str | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    personal: Mapping[str, Encrypted] | None = None

    def stored_data(self) -> dict[str, Any]:
        """``data`` as the outbox keeps it (personal values encrypted, apart)."""
        data: dict[str, Any] = jsonable_encoder(self.data)
        if self.personal:
            data[PERSONAL_KEY] = {
                name: {
                    "cipher": base64.b64encode(value.cipher).decode(),
                    "key_id": value.key_id,
                    "masked": value.masked,
                }
                for name, value in self.personal.items()
            }
        return data


def system_principal(name: str) -> Principal:
    """The actor of writes no request causes (a job, a scheduler): platform-wide."""
    return Principal(subject=f"system:{name}", roles=frozenset(), scopes=frozenset(), jurisdictions=("*",))


def sqlstate_of(error: IntegrityError) -> str | None:
    """The SQLSTATE of the driver error behind ``error`` (asyncpg's, through SQLAlchemy)."""
    for candidate in (error.orig, getattr(error.orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


def is_collision(error: IntegrityError) -> bool:
    """A unique or exclusion constraint refused the row: another record holds the same key."""
    return sqlstate_of(error) in _COLLISION_SQLSTATES


def normalised_query(query: str) -> str:
    """A query string as one text whatever the order of its parameters or their encoding
    (``b=2&a=%31`` and ``a=1&b=2`` are the same); empty for none."""
    return urlencode(sorted(parse_qsl(query, keep_blank_values=True)))


def request_fingerprint(method: str, path: str, body: bytes, query: str = "") -> str:
    """The same request, whatever the JSON key order or spacing. The query string counts
    (normalised): ``?scheme=`` chooses the city an appraisal write goes to, so one key sent
    with another query is another request."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":"))
        payload = canonical.encode()
    except ValueError:
        payload = body
    target = path + (f"?{normalised}" if (normalised := normalised_query(query)) else "")
    return hashlib.sha256(method.encode() + b" " + target.encode() + b"\n" + payload).hexdigest()


def idempotency_owner(principal: Principal) -> str:
    return f"{principal.client_id or '-'}:{principal.subject}"


@dataclass
class WriteContext:
    """One request's (or one job step's) writes; see the module docstring."""

    session: AsyncSession
    principal: Principal
    tables: PlatformTables
    service: str
    sessions: async_sessionmaker[AsyncSession] | None = None
    if_match: str | None = None
    idempotency_key: str | None = None
    method: str = "POST"
    path: str = ""
    request_hash: str = ""
    claimed: bool = False

    @classmethod
    def for_job(
        cls,
        *,
        session: AsyncSession,
        principal: Principal,
        tables: PlatformTables,
        service: str,
        sessions: async_sessionmaker[AsyncSession] | None = None,
    ) -> WriteContext:
        """A context for a background job's writes: no Idempotency-Key, no If-Match."""
        return cls(session=session, principal=principal, tables=tables, service=service, sessions=sessions)

    # -- Idempotency-Key ---------------------------------------------------------------------

    async def replay(self) -> Response | None:
        """The stored answer when this key was already used, else None (and the key is claimed)."""
        if self.idempotency_key is None:
            return None
        table = self.tables.idempotency_keys
        owner = idempotency_owner(self.principal)
        claim = (
            insert(table)
            .values(
                owner=owner,
                key=self.idempotency_key,
                method=self.method,
                path=self.path,
                request_hash=self.request_hash,
                status_code=0,
                response_body=b"",
            )
            .on_conflict_do_nothing()
            .returning(table.c.key)
        )
        if (await self.session.execute(claim)).first() is not None:
            self.claimed = True
            return None
        row = (
            await self.session.execute(
                select(table).where(table.c.owner == owner, table.c.key == self.idempotency_key)
            )
        ).one()
        if row.request_hash != self.request_hash or row.path != self.path:
            raise InvalidInput(
                "This Idempotency-Key was already used with a different request.",
                errors=[{"field": "header.idempotency-key", "message": "re-used with another body"}],
            )
        headers = dict(row.response_headers or {})
        media_type = headers.pop("content-type", "application/json")
        headers["Idempotent-Replayed"] = "true"
        return Response(
            content=row.response_body, status_code=row.status_code, media_type=media_type, headers=headers
        )

    async def respond(
        self,
        status_code: int,
        body: Any,
        *,
        record: HasVersion | None = None,
        location: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> JSONResponse:
        """The JSON answer (``ETag`` of ``record``, ``Location``), stored under the key if any."""
        all_headers = dict(headers or {})
        if record is not None:
            all_headers["ETag"] = etag_for(record.id, record.version)
        if location is not None:
            all_headers["Location"] = location
        response = JSONResponse(jsonable_encoder(body), status_code=status_code, headers=all_headers)
        if self.idempotency_key is not None:
            table = self.tables.idempotency_keys
            stored = {k: v for k, v in response.headers.items() if k in _REPLAYED_HEADERS}
            answer = {
                "status_code": status_code,
                "response_body": bytes(response.body),
                "response_headers": stored,
            }
            if self.claimed:
                # the key this request claimed in replay(): its answer, for the retries
                await self.session.execute(
                    table.update()
                    .where(
                        table.c.owner == idempotency_owner(self.principal),
                        table.c.key == self.idempotency_key,
                    )
                    .values(**answer)
                )
            else:
                # a key that no replay() claimed (an operation that does not replay): kept only
                # when new, so that it never overwrites the answer of the request that used it
                await self.session.execute(
                    insert(table)
                    .values(
                        owner=idempotency_owner(self.principal),
                        key=self.idempotency_key,
                        method=self.method,
                        path=self.path,
                        request_hash=self.request_hash,
                        **answer,
                    )
                    .on_conflict_do_nothing()
                )
        return response

    # -- compare-and-set, collisions ------------------------------------------------------

    def expect_current(self, record: HasVersion) -> None:
        """Refuse the change unless ``If-Match`` names the version of ``record`` just read."""
        require_if_match(self.if_match, record.id, record.version)

    async def add(self, record: object, *, conflict: str | None = None) -> None:
        """INSERT ``record`` now; a row with the same key is 409 (``conflict`` says why)."""
        self.session.add(record)
        await self.flush(conflict=conflict)

    async def flush(self, *, conflict: str | None = None) -> None:
        """Send pending changes: stale version → 412, key collision → 409 (``conflict`` message)."""
        try:
            await self.session.flush()
        except StaleDataError as exc:
            raise stale_precondition() from exc
        except IntegrityError as exc:
            if not is_collision(exc):
                raise
            raise Conflict(conflict or collision_detail(exc)) from exc

    # -- audit and outbox ----------------------------------------------------------------

    async def record(
        self,
        *,
        action: str,
        entity: str,
        entity_id: object,
        jurisdiction: str | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        event: Event | None,
    ) -> None:
        """The audit row of this change, and its event in the outbox, in this transaction
        (one statement for both: the event costs the write no extra round trip).

        ``event`` has no default: every write says which event it publishes, or ``None`` for a
        change no other system is told about (the spec's event types say which), so a new
        write cannot forget its event by omission (mypy refuses a call without it)."""
        audit = self.tables.audit_log.insert().values(
            self._audit_values(action, entity, entity_id, jurisdiction, before, after)
        )
        if event is None:
            await self.session.execute(audit)
        else:
            await self.session.execute(self._outbox_insert(event).add_cte(audit.cte("audit_row")))

    async def emit(self, event: Event) -> None:
        """Only the event (for changes whose audit row is written elsewhere, e.g. by a job)."""
        await self.session.execute(self._outbox_insert(event))

    def _outbox_insert(self, event: Event) -> Insert:
        outbox = self.tables.outbox
        if outbox is None:
            raise RuntimeError(f"{self.service} has no outbox table")
        mark_written(self.session)  # readers waiting on the feed are woken at its commit
        return outbox.insert().values(
            id=event.id,
            type=f"civic.{self.service}.{event.type}",
            subject=event.subject,
            jurisdiction=event.jurisdiction,
            data=event.stored_data(),
            actor=self.principal.actor,
            request_id=request_id_var.get(),
        )

    async def record_apart(
        self,
        *,
        action: str,
        entity: str,
        entity_id: object,
        jurisdiction: str | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        """An audit row committed on its own, for a refused request that changes nothing
        else (e.g. who was told a citizen ID number is registered elsewhere)."""
        if self.sessions is None:
            raise RuntimeError("record_apart needs the service's session factory")
        async with self.sessions() as session, session.begin():
            await session.execute(
                self.tables.audit_log.insert().values(
                    self._audit_values(action, entity, entity_id, jurisdiction, None, after)
                )
            )

    def _audit_values(
        self,
        action: str,
        entity: str,
        entity_id: object,
        jurisdiction: str | None,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> dict[str, Any]:
        return {
            "actor": self.principal.actor,
            "client_id": self.principal.client_id,
            "request_id": request_id_var.get(),
            "action": action,
            "entity": entity,
            "entity_id": str(entity_id),
            "jurisdiction": jurisdiction,
            "before": jsonable_encoder(before) if before is not None else None,
            "after": jsonable_encoder(after) if after is not None else None,
        }


def stale_precondition() -> PreconditionFailed:
    return PreconditionFailed("The record has changed since you read it; read it again and retry.")


def collision_detail(error: IntegrityError) -> str:
    """A message for a collision the service did not name: the constraint, never the values."""
    cause = getattr(error.orig, "__cause__", None)
    constraint = getattr(cause, "constraint_name", None)
    if constraint:
        return f"A record with the same key already exists ({constraint})."
    return "A record with the same key already exists."


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=IDEMPOTENCY_HEADER,
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        description="Send the same key again to repeat the request safely: the same key with the "
        "same body answers the first answer again (header Idempotent-Replayed: true); the same key "
        "with another body is 422. Keys are kept per caller.",
    ),
]


async def request_content(request: Request) -> bytes:
    """The request's content for its fingerprint: the raw body, or — when the framework has
    already parsed a form (file uploads) and the stream is spent — the form's fields and the
    SHA-256 of each file, in order."""
    try:
        return await request.body()
    except RuntimeError:
        form = await request.form()  # parsed before, kept on the request
    parts: list[str] = []
    for name, value in form.multi_items():
        if isinstance(value, str):
            parts.append(f"{name}={value}")
        else:
            await value.seek(0)
            digest = hashlib.sha256(await value.read()).hexdigest()
            await value.seek(0)
            parts.append(f"{name}=file:{value.filename}:{digest}")
    return "\n".join(parts).encode()


async def write_context(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> WriteContext:
    if idempotency_key is not None and not idempotency_key.isprintable():
        raise InvalidInput.field("header.idempotency-key", "must be printable characters")
    body = await request_content(request) if idempotency_key is not None else b""
    return WriteContext(
        session=session,
        principal=principal,
        tables=request.app.state.platform_tables,
        service=request.app.state.settings.service_name,
        sessions=get_database(request).sessions,
        idempotency_key=idempotency_key,
        method=request.method,
        path=request.url.path,
        request_hash=(
            request_fingerprint(request.method, request.url.path, body, request.url.query)
            if idempotency_key
            else ""
        ),
    )


WriteDep = Annotated[WriteContext, Depends(write_context)]
"""A request's write path: Idempotency-Key, compare-and-set, 409s, audit, outbox."""


async def update_context(write: WriteDep, if_match: IfMatch = None) -> WriteContext:
    write.if_match = if_match
    return write


UpdateDep = Annotated[WriteContext, Depends(update_context)]
"""The write path of an update: as :data:`WriteDep`, and ``If-Match`` is required (428/412)."""
