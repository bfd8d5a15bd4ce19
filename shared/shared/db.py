"""Database access for a service: one async engine, sessions bound to the service schema.

Services never commit; the request boundary does (``session_dependency`` commits when
the handler returns and rolls back when it raises, before the response is sent).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from shared.settings import ServiceSettings

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def service_metadata(schema: str) -> MetaData:
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def make_engine(settings: ServiceSettings, schema: str) -> AsyncEngine:
    return create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        # no pre-ping round trip per request: a connection broken by a database restart fails
        # its request once and SQLAlchemy then discards the whole pool (disconnect handling)
        pool_recycle=1800,
        connect_args={
            "server_settings": {
                "search_path": str(schema),
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "timezone": "UTC",
                "application_name": settings.service_name,
            }
        },
    )


class Database:
    """The engine and session factory of one service; lives on ``app.state.database``."""

    def __init__(self, settings: ServiceSettings, schema: str) -> None:
        self.schema = str(schema)
        self.engine = make_engine(settings, schema)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def session_dependency(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_database(request).sessions() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


SessionDep = Annotated[AsyncSession, Depends(session_dependency, scope="function")]
"""A request's session: committed before the response is sent, rolled back on error."""
