"""Run every component's migrations (each in its own schema), least privilege by default.

:func:`prepare` is what ``platformctl run``, ``migrate up`` and the tests use: with a role
that may (a superuser, as the embedded server gives), it provisions a runtime role and an
owner role per component (:mod:`platformctl.roles`), migrates each schema as its owner
and returns the URLs the components connect with, each as its own runtime role.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from platformctl import roles as db_roles
from platformctl.components import COMPONENTS, Component
from platformctl.database import database_name
from shared import migrations


def selected(names: list[str] | None) -> list[Component]:
    if not names:
        return list(COMPONENTS)
    known = {c.name: c for c in COMPONENTS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown component(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in names]


def upgrade_all(database_url: str, names: list[str] | None = None, revision: str = "head") -> None:
    """Migrate as the role in ``database_url`` itself, granting nobody anything (no roles)."""
    for component in selected(names):
        migrations.upgrade(component.migrations_dir, database_url, component.schema, revision)


def downgrade_all(database_url: str, names: list[str] | None = None, revision: str = "base") -> None:
    for component in reversed(selected(names)):
        migrations.downgrade(component.migrations_dir, database_url, component.schema, revision)


@dataclass
class PreparedDatabase:
    """A migrated platform database and how each component reaches it."""

    url: str  # the URL prepare was given (the superuser's under `make run` and `make test`)
    runtime_urls: dict[str, str] = field(default_factory=dict)  # component name → its own role's URL
    mode: str = "per-component"  # or "owner" (ran as one component's owner), "single"


def prepare(url: str, names: list[str] | None = None, revision: str = "head") -> PreparedDatabase:
    """Provision the roles (when the URL's role may) and migrate every schema as its owner.

    - the URL's role is the owner role of every named component (a deployment's migration
      step): migrate as it and grant the runtime role its rights;
    - ``CIVIC_DATABASE_ROLES=single``: migrate as the URL's role; every component uses it;
    - otherwise provision, then migrate as the owners; a role that may not provision ends
      the command with what it needs (:func:`platformctl.roles.refusal`).

    Call it outside a running event loop (Alembic runs its own).
    """
    components = selected(names)
    database = database_name(url)
    roles = db_roles.component_roles(database, components)
    user = asyncio.run(db_roles.connected_role(url))
    if all(r.owner == user for r in roles):
        for r in roles:
            migrations.upgrade(r.component.migrations_dir, url, r.schema, revision, runtime_role=r.runtime)
        return PreparedDatabase(url, mode="owner")
    if db_roles.single_role_mode():
        upgrade_all(url, names, revision)
        return PreparedDatabase(url, {c.name: url for c in components}, mode="single")
    passwords = db_roles.passwords_for(roles)
    try:
        asyncio.run(db_roles.provision(url, roles, passwords))
    except db_roles.ProvisioningRefused as exc:
        raise SystemExit(str(exc)) from exc
    prepared = PreparedDatabase(url)
    for r in roles:
        owner_url = db_roles.role_url(url, r.owner, passwords[r.owner])
        migrations.upgrade(r.component.migrations_dir, owner_url, r.schema, revision, runtime_role=r.runtime)
        prepared.runtime_urls[r.component.name] = db_roles.role_url(url, r.runtime, passwords[r.runtime])
    return prepared
