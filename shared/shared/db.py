"""Database access for a service: one async engine, sessions bound to the service schema.

Services never commit; the request boundary does (``session_dependency`` commits when
the handler returns and rolls back when it raises, before the response is sent), so a
write whose commit failed is never answered 2xx.

When the database goes away (restart, crash, failover) requests answer 503 problem+json
``database-unavailable`` with ``Retry-After`` instead of 500, and the engine recovers by
itself once the server is back: see :func:`make_engine`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import DateTime, Integer, MetaData, event, func, text
from sqlalchemy.engine import Dialect, ExceptionContext
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from shared.errors import DatabaseUnavailable
from shared.events.commits import OutboxCommits, session_info
from shared.settings import ServiceSettings

logger = logging.getLogger("shared.db")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def service_metadata(schema: str) -> MetaData:
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


class ServerDefaultsReturned:
    """For a service's declarative base (``class Base(ServerDefaultsReturned, DeclarativeBase)``):
    server-set values (timestamps) come back with RETURNING, so no lazy load follows a flush."""

    __mapper_args__ = {"eager_defaults": True}


class Timestamps:
    """``created_at`` and ``updated_at`` (set by the database) for a model."""

    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class CreatedAt:
    """``created_at`` (set by the database) for a model whose rows never change."""

    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Versioned:
    """A record updated only by compare-and-set on its ``version``.

    Every UPDATE the ORM emits for the record is ``… WHERE id = :id AND version = :read``
    and raises ``StaleDataError`` when no row matched: a concurrent change committed first.
    The write path (:mod:`shared.writes`) answers that 412, so no update is ever lost. The
    version starts at 1 and goes up by one with every update (``ETag`` is derived from it).
    """

    version: Mapped[int] = mapped_column(Integer, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805 - a class-level directive
        return {"version_id_col": cls.__table__.c.version, "eager_defaults": True}  # type: ignore[attr-defined]


# SQLSTATEs saying the server cannot serve this connection now, whatever the statement:
# class 08 (connection exceptions, also raised by the driver for a connection that died),
# 57P01/57P02 (shut down by the operator / after a crash), 57P03 (starting up or shutting
# down), 53300 (no connection slot free).
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def is_unavailable_error(error: BaseException) -> bool:
    """Whether a driver error means "the database is not there", not "this statement is wrong"."""
    sqlstate = getattr(error, "sqlstate", None)
    return isinstance(sqlstate, str) and (sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES)


def _connect(dialect: Dialect, record: Any, cargs: tuple[Any, ...], cparams: dict[str, Any]) -> Any:
    """Open a connection; no server listening (refused, no socket, timeout) is DatabaseUnavailable."""
    try:
        return dialect.connect(*cargs, **cparams)
    except OSError as exc:
        logger.warning("database unavailable: cannot connect (%s: %s)", type(exc).__name__, exc)
        raise DatabaseUnavailable from exc


def _translate_error(context: ExceptionContext) -> BaseException | None:
    """Connection-level failures of a statement, commit or connect become DatabaseUnavailable.

    SQLAlchemy has already judged ``is_disconnect`` (the driver reports the connection
    closed: a server restart or crash, or a terminated backend); the SQLSTATEs above add
    the server refusing connections while it shuts down or starts. Marking them as
    disconnects makes SQLAlchemy invalidate the pool. Other errors (constraint
    violations, timeouts, programming errors) keep their own exception. Cancellation
    (a BaseException) is never replaced.
    """
    error = context.original_exception
    if not isinstance(error, Exception):
        return None
    if not (context.is_disconnect or is_unavailable_error(error)):
        return None
    context.is_disconnect = True
    logger.warning("database unavailable: %s: %s", type(error).__name__, error)
    return DatabaseUnavailable()


def _discard_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """At checkout: a connection the driver already knows is closed is replaced, not used.

    A server restart closes every pooled connection, and asyncpg notices as soon as the
    event loop reads the close, so this costs no round trip (unlike ``pool_pre_ping``).
    Raising InvalidatePoolError makes the pool drop every connection made before now
    and hand out a fresh one (or fail with DatabaseUnavailable while the server is down).
    """
    is_closed = getattr(dbapi_connection.driver_connection, "is_closed", None)
    if is_closed is not None and is_closed():
        raise InvalidatePoolError("the server closed this pooled connection")


def connect_args(settings: ServiceSettings, schema: str) -> dict[str, Any]:
    """asyncpg's connection arguments for a service.

    Direct to PostgreSQL: the session's search_path, statement timeout, time zone and
    application name go as startup parameters. Through a pooler in transaction mode
    (``db_transaction_pooler``) a server connection serves many clients, one transaction
    at a time, so nothing may live in the session: no startup parameters (PgBouncer
    refuses unknown ones; the role's own settings, ``ALTER ROLE … IN DATABASE … SET``,
    give search_path, statement_timeout and timezone) and no named prepared statements
    (asyncpg's ``statement_cache_size=0`` makes them unnamed since asyncpg 0.31, and
    SQLAlchemy's own cache of them is off too).
    """
    if settings.db_transaction_pooler:
        return {"statement_cache_size": 0, "prepared_statement_cache_size": 0}
    return {
        "server_settings": {
            "search_path": str(schema),
            "statement_timeout": str(settings.db_statement_timeout_ms),
            "timezone": "UTC",
            "application_name": settings.service_name,
        }
    }


def make_engine(settings: ServiceSettings, schema: str) -> AsyncEngine:
    """The service's engine, pooled, with the database-unavailable handling installed.

    No ``pool_pre_ping``: it would cost one extra round trip on every checkout, i.e. on
    every request, on the hot path the gateway benchmark measures (measured on the embedded
    server's Unix socket: about +75 µs, +25 %, on a one-query request). Recovery after a
    database restart needs none: ``_discard_closed`` replaces connections the driver
    already saw closed (free), a connection that breaks mid-request fails that request
    with a 503 and SQLAlchemy then invalidates the whole pool, and while the server is
    down each request tries one fresh connect and answers 503 at once.
    """
    engine = create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_recycle=1800,
        connect_args=connect_args(settings, schema),
    )
    event.listen(engine.sync_engine, "do_connect", _connect)
    event.listen(engine.sync_engine, "handle_error", _translate_error)
    event.listen(engine.sync_engine.pool, "checkout", _discard_closed)
    return engine


class Database:
    """The engine and session factory of one service; lives on ``app.state.database``."""

    def __init__(self, settings: ServiceSettings, schema: str) -> None:
        self.schema = str(schema)
        self.engine = make_engine(settings, schema)
        # rung when a session of this process commits a change event (the feed's long polling)
        self.outbox_commits = OutboxCommits()
        self.sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, autoflush=False, info=session_info(self.outbox_commits)
        )

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


@contextlib.asynccontextmanager
async def request_session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A request's session from ``sessions``: committed when the handler returns, rolled back
    when it raises."""
    async with sessions() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


async def session_dependency(request: Request) -> AsyncIterator[AsyncSession]:
    async with request_session(get_database(request).sessions) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(session_dependency, scope="function")]
"""A request's session: committed before the response is sent, rolled back on error."""


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a name (the same in every process)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


async def hold_lock(session: AsyncSession, name: str) -> None:
    """A transaction-level advisory lock on ``name`` until commit or rollback: writes that check
    and then insert (no second enrolment for the same months) take it first, so that twins
    arriving together on any replica are decided one after the other. It needs no session
    state, so it works behind a transaction pooler."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(name)})
