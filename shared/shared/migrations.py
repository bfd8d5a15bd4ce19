"""Alembic for every service: one env implementation, a version table inside the schema.

A service's ``migrations/env.py`` is two lines: import its metadata and call
:func:`run_env`. Operators and tests call :func:`upgrade` / :func:`downgrade`.

Least privilege: migrations run as the schema's owner role and the service as a runtime
role with data rights only (``platformctl database provision`` creates both). Given the
runtime role, a migration run also grants it what it needs on the schema
(:func:`runtime_grants`): default privileges, so that every table a migration creates
later is readable and writable by the service with no GRANT of its own, and the same
rights on what exists already; ``alembic_version`` stays read-only for it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from shared.settings import async_database_url


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def runtime_grants(schema: str, runtime_role: str, *, owner: str | None = None) -> list[str]:
    """What the runtime role may do in the schema: use it, read and write rows, use sequences.

    ``owner``: whose future objects the default privileges cover (``FOR ROLE``); without
    it, the role running the statements (the owner, during a migration run). Idempotent.
    """
    s, rt = quote_identifier(schema), quote_identifier(runtime_role)
    for_role = f"FOR ROLE {quote_identifier(owner)} " if owner else ""
    return [
        f"GRANT USAGE ON SCHEMA {s} TO {rt}",
        f"ALTER DEFAULT PRIVILEGES {for_role}IN SCHEMA {s} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {rt}",
        f"ALTER DEFAULT PRIVILEGES {for_role}IN SCHEMA {s} GRANT USAGE, SELECT ON SEQUENCES TO {rt}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {rt}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {rt}",
        # the migration history is the owner's: the service may read it, not change it
        f"DO $$ BEGIN IF to_regclass('{s}.alembic_version') IS NOT NULL THEN "
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {s}.alembic_version FROM {rt}; "
        "END IF; END $$",
    ]


def alembic_config(
    migrations_dir: Path, database_url: str, schema: str, runtime_role: str | None = None
) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", async_database_url(database_url).replace("%", "%%"))
    config.set_main_option("version_schema", schema)
    if runtime_role:
        config.set_main_option("runtime_role", runtime_role)
    # Dated file names: 20241122_1200_<rev>_<slug>.py
    config.set_main_option(
        "file_template",
        "%%(year)d%%(month).2d%%(day).2d_%%(hour).2d%%(minute).2d_%%(rev)s_%%(slug)s",
    )
    return config


def upgrade(
    migrations_dir: Path,
    database_url: str,
    schema: str,
    revision: str = "head",
    *,
    runtime_role: str | None = None,
) -> None:
    """Migrate the schema to ``revision``; with ``runtime_role``, grant it its rights too."""
    command.upgrade(alembic_config(migrations_dir, database_url, schema, runtime_role), revision)


def downgrade(migrations_dir: Path, database_url: str, schema: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(migrations_dir, database_url, schema), revision)


def check(migrations_dir: Path, database_url: str, schema: str) -> None:
    """Raise when the models and the migrations have drifted apart (``alembic check``)."""
    command.check(alembic_config(migrations_dir, database_url, schema))


def _include_name(schema: str) -> Any:
    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        if type_ == "schema":
            return name == schema
        return True

    return include_name


def _run_sync(connection: Connection, metadata: MetaData, schema: str, runtime_role: str | None) -> None:
    # An owner role has no CREATE on the database: the schema exists already (provisioned)
    # and CREATE SCHEMA IF NOT EXISTS would still check that right, so look first.
    exists = connection.scalar(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema})
    if not exists:
        connection.execute(text(f"CREATE SCHEMA {quote_identifier(schema)}"))
    if runtime_role:
        for statement in runtime_grants(schema, runtime_role):
            connection.execute(text(statement))
    connection.commit()
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table_schema=schema,
        include_schemas=True,
        include_name=_include_name(schema),
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if runtime_role:
        # the tables this run created are covered by the default privileges when the owner
        # ran it; GRANT … ON ALL covers a run by anyone else, and the version table
        for statement in runtime_grants(schema, runtime_role):
            connection.execute(text(statement))
        connection.commit()


async def _run_async(url: str, metadata: MetaData, schema: str, runtime_role: str | None) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run_sync, metadata, schema, runtime_role)
    await engine.dispose()


def run_env(metadata: MetaData) -> None:
    """The body of every service's ``migrations/env.py``."""
    schema = metadata.schema
    assert schema is not None
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("sqlalchemy.url is not set for the migration run")
    if context.is_offline_mode():
        context.configure(
            url=url,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=True,
            include_name=_include_name(schema),
            literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_async(url, metadata, schema, context.config.get_main_option("runtime_role")))
