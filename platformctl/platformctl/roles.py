"""A database role per component: least privilege by default.

For a platform database ``D`` and each component ``C`` (the gateway and the four services):

- ``D_C`` (runtime role, e.g. ``civic_welfare``) is what the component's process connects
  as: it may use its own schema and read and write the rows of its tables, nothing else
  (no other schema, no DDL, no ``alembic_version`` writes);
- ``D_C_owner`` (e.g. ``civic_welfare_owner``) owns the schema and everything in it and
  runs the component's migrations; no process that serves requests has its password.

Role names carry the database name, so several platform databases on one server (the
tests' ``civic_test_<pid>`` side by side) never share a role.

:func:`provision` (as a superuser, or a role with CREATEROLE that owns the database)
creates what is missing and corrects what drifted, idempotently: roles, database rights
(``PUBLIC`` loses CONNECT and TEMPORARY; each role gets CONNECT, runtime roles TEMPORARY
for ``ON COMMIT DROP`` work tables), schemas owned by their owner role (objects another
role owns in them, e.g. from a database migrated before roles existed, are handed over),
the runtime grants with default privileges, and each runtime role's session settings
(search_path, statement_timeout, timezone), which a transaction-mode pooler needs since no
startup parameter passes it. :func:`provisioning_sql` prints the same for a DBA.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import asyncpg

from platformctl.components import COMPONENTS, Component
from platformctl.database import _asyncpg_dsn, database_name, with_database
from shared.migrations import quote_identifier, runtime_grants
from shared.settings import read_secret, secrets_dir, url_with_credentials

ROLES_MODE_VARIABLE = "CIVIC_DATABASE_ROLES"
MAX_IDENTIFIER = 63  # PostgreSQL's NAMEDATALEN - 1
DEFAULT_STATEMENT_TIMEOUT_MS = 30_000
# transaction-level advisory lock taken while provisioning ("civicrol")
LOCK_KEY = int.from_bytes(b"civicrol", "big") & 0x7FFF_FFFF_FFFF_FFFF


class ProvisioningRefused(RuntimeError):
    """The connecting role may not create roles or hand over schemas."""


@dataclass(frozen=True)
class ComponentRoles:
    component: Component
    runtime: str
    owner: str

    @property
    def schema(self) -> str:
        return self.component.schema


def role_prefix(database: str) -> str:
    """The database name as the start of a role name (lower case, ``[a-z0-9_]`` only)."""
    prefix = re.sub(r"[^a-z0-9_]", "_", database.lower())
    return prefix if re.match(r"[a-z_]", prefix) else f"_{prefix}"


def component_roles(database: str, components: Iterable[Component] = COMPONENTS) -> list[ComponentRoles]:
    prefix = role_prefix(database)
    found = []
    for component in components:
        runtime, owner = f"{prefix}_{component.name}", f"{prefix}_{component.name}_owner"
        if len(owner) > MAX_IDENTIFIER:
            raise ValueError(f"database name {database!r} is too long for role names ({owner})")
        found.append(ComponentRoles(component, runtime, owner))
    return found


def roles_of(database: str, name: str) -> ComponentRoles:
    (roles,) = component_roles(database, [c for c in COMPONENTS if c.name == name])
    return roles


def single_role_mode() -> bool:
    """``CIVIC_DATABASE_ROLES=single``: every component as the one role in DATABASE_URL."""
    mode = os.environ.get(ROLES_MODE_VARIABLE, "per-component").strip().lower()
    if mode not in {"per-component", "single"}:
        raise SystemExit(f"{ROLES_MODE_VARIABLE} must be per-component or single, not {mode!r}")
    return mode == "single"


# --- passwords ----------------------------------------------------------------------------


def derived_password(role: str) -> str:
    """The launcher's password for a role: HMAC of its name under a key kept in ``.data``.

    Stable across runs (the key is created once, mode 0600), different per role and per
    checkout, never written anywhere else.
    """
    from platformctl.supervisor import local_secret

    key = base64.b64decode(local_secret("database-roles.key"))
    digest = hmac.new(key, role.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def secret_names(component: Component) -> tuple[str, str]:
    """The secrets that give a deployment's role passwords: runtime, owner."""
    prefix = component.name.upper()
    return f"{prefix}_DATABASE_PASSWORD", f"{prefix}_DATABASE_OWNER_PASSWORD"


def passwords_for(roles: Sequence[ComponentRoles]) -> dict[str, str | None]:
    """Each role's password: the deployment's secret when there is one; under the launcher
    (no ``CIVIC_SECRETS_DIR``) one derived from the local key; else none (not changed)."""
    launcher = secrets_dir() is None
    found: dict[str, str | None] = {}
    for roles_ in roles:
        for role, name in zip((roles_.runtime, roles_.owner), secret_names(roles_.component), strict=True):
            found[role] = read_secret(name) or (derived_password(role) if launcher else None)
    return found


def role_url(url: str, role: str, password: str | None) -> str:
    return url_with_credentials(url, role, password or "")


# --- provisioning -------------------------------------------------------------------------


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _hand_over(schema: str, owner: str) -> str:
    """Give ``owner`` every table, view, sequence, function and type in ``schema``."""
    s, o = _literal(schema), _literal(owner)
    return f"""DO $$
DECLARE r record;
BEGIN
  FOR r IN
    SELECT c.oid::regclass AS object,
           CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                          WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS kind
    FROM pg_class c
    WHERE c.relnamespace = {s}::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      AND c.relowner <> {o}::regrole
      AND NOT (c.relkind = 'S' AND EXISTS (
        SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
          AND d.deptype IN ('a', 'i')))
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO %I', r.kind, r.object, {o});
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS object FROM pg_proc p
           WHERE p.pronamespace = {s}::regnamespace AND p.proowner <> {o}::regrole
  LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO %I', r.object, {o});
  END LOOP;
  FOR r IN SELECT t.oid::regtype AS object, CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END AS kind
           FROM pg_type t
           WHERE t.typnamespace = {s}::regnamespace AND t.typtype IN ('e', 'd', 'r', 'm')
             AND t.typowner <> {o}::regrole
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO %I', r.kind, r.object, {o});
  END LOOP;
END $$"""


def _ensure_role(role: str, password: str | None) -> list[str]:
    r = quote_identifier(role)
    statements = [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {_literal(role)}) "
        f"THEN CREATE ROLE {r} LOGIN; END IF; END $$",
        f"ALTER ROLE {r} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
    ]
    if password:
        statements.append(f"ALTER ROLE {r} PASSWORD {_literal(password)}")
    return statements


def provisioning_sql(
    database: str,
    roles: Sequence[ComponentRoles],
    passwords: Mapping[str, str | None] | None = None,
    *,
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
) -> list[str]:
    """Every statement, in order, that gives ``roles`` their rights in ``database``."""
    passwords = passwords or {}
    db = quote_identifier(database)
    statements: list[str] = []
    for r in roles:
        statements += _ensure_role(r.runtime, passwords.get(r.runtime))
        statements += _ensure_role(r.owner, passwords.get(r.owner))
    statements += [
        # PUBLIC may connect and create temporary tables by default: only our roles may
        f"REVOKE ALL ON DATABASE {db} FROM PUBLIC",
        "REVOKE ALL ON SCHEMA public FROM PUBLIC",
    ]
    for r in roles:
        rt, owner, schema = quote_identifier(r.runtime), quote_identifier(r.owner), quote_identifier(r.schema)
        statements += [
            f"GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {rt}",
            f"GRANT CONNECT ON DATABASE {db} TO {owner}",
            f"CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {owner}",
            f"ALTER SCHEMA {schema} OWNER TO {owner}",
            _hand_over(r.schema, r.owner),
            *runtime_grants(r.schema, r.runtime, owner=r.owner),
            f"ALTER ROLE {rt} IN DATABASE {db} SET search_path = {schema}",
            f"ALTER ROLE {rt} IN DATABASE {db} SET statement_timeout = {int(statement_timeout_ms)}",
            f"ALTER ROLE {rt} IN DATABASE {db} SET timezone = 'UTC'",
            f"ALTER ROLE {owner} IN DATABASE {db} SET search_path = {schema}",
        ]
    return statements


async def provision(
    url: str,
    roles: Sequence[ComponentRoles],
    passwords: Mapping[str, str | None] | None = None,
    *,
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
) -> None:
    """Apply :func:`provisioning_sql` to the database in ``url``, in one transaction.

    Raises :class:`ProvisioningRefused` when the connecting role lacks the rights.
    """
    database = database_name(url)
    statements = provisioning_sql(database, roles, passwords, statement_timeout_ms=statement_timeout_ms)
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        async with connection.transaction():
            # provisioners starting together (replicas, compose) take turns
            await connection.execute("SELECT pg_advisory_xact_lock($1)", LOCK_KEY)
            for statement in statements:
                await connection.execute(statement)
    except (asyncpg.InsufficientPrivilegeError, asyncpg.DependentObjectsStillExistError) as exc:
        user = await connection.fetchval("SELECT current_user")
        raise ProvisioningRefused(refusal(database, str(user), exc)) from exc
    finally:
        await connection.close()


def refusal(database: str, user: str, error: BaseException | str) -> str:
    return (
        f"database role {user!r} may not set up the platform's roles in {database!r} ({error}).\n"
        "Least privilege needs a role per component (a runtime role and a schema owner each). Either\n"
        f"  - give a DATABASE_URL whose role is a superuser, or has CREATEROLE and owns {database!r}, or\n"
        "  - let a DBA run the statements `python -m platformctl database sql` prints, then run this\n"
        "    again with the owner role's URL per component (deploy/README.md, 'Database roles'), or\n"
        f"  - set {ROLES_MODE_VARIABLE}=single to run every component as {user!r} (no isolation)."
    )


async def drop_roles(url: str, prefix: str) -> list[str]:
    """Drop every role whose name starts with ``prefix_`` (after their databases are gone)."""
    connection = await asyncpg.connect(_asyncpg_dsn(with_database(url, "postgres")))
    dropped = []
    try:
        pattern = prefix.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "\\_%"
        names = await connection.fetch("SELECT rolname FROM pg_roles WHERE rolname LIKE $1", pattern)
        for (name,) in names:
            try:
                await connection.execute(f"DROP ROLE {quote_identifier(name)}")
                dropped.append(name)
            except asyncpg.DependentObjectsStillExistError:
                pass  # still owns something in a database that outlived the run
    finally:
        await connection.close()
    return dropped


async def connected_role(url: str) -> str:
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        return str(await connection.fetchval("SELECT current_user"))
    finally:
        await connection.close()


PasswordSource = Callable[[Sequence[ComponentRoles]], Mapping[str, str | None]]
