"""Run every component's migrations (each in its own schema)."""

from __future__ import annotations

from platformctl.components import COMPONENTS, Component
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
    for component in selected(names):
        migrations.upgrade(component.migrations_dir, database_url, component.schema, revision)


def downgrade_all(database_url: str, names: list[str] | None = None, revision: str = "base") -> None:
    for component in reversed(selected(names)):
        migrations.downgrade(component.migrations_dir, database_url, component.schema, revision)
