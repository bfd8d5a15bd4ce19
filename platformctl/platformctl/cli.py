"""``python -m platformctl``: what operators do by hand.

run                      start the whole platform (embedded PostgreSQL unless DATABASE_URL)
test [pytest args]       run the test suite against a fresh test database
migrate [up|down] [--component NAME ...] [--revision REV]
database provision [--component NAME ...]   create the roles per component, their grants
database sql [--database D]                 print the same statements for a DBA
backup [--output DIR]    a consistent dump of every schema with a manifest
restore BACKUP_DIR       load a backup into an empty platform database
accounts create --username U --display-name N [--scope S ...] [--jurisdiction J ...]
                    [--unit U ...] [--role R ...]
clients create --client-id C --name N [--scope S ...] [--jurisdiction J ...] [--rate-limit N]
clients eldercare-feed [--jurisdiction J ...]   eldercare's client for welfare's events (a new
                    secret, printed once: ELDERCARE_WELFARE_FEED_CLIENT_SECRET)
keys rotate | keys list
rotate-citizen-id-key [--component welfare|eldercare] [--batch-size N] [--max-batches N]
                    [--pause SECONDS] [--status] [--retire KEY_ID]
status                   the gateway's readiness and every schema's migration revision
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import datetime as dt
import getpass
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from platformctl import database, feed_client, migrate
from platformctl import roles as db_roles
from platformctl.components import COMPONENTS
from platformctl.supervisor import Supervisor, wait_until_ready
from shared.settings import async_database_url

if TYPE_CHECKING:
    from gateway.iam.passwords import SecretHasher

PLATFORM_DB = "civic"
TEST_DB = "civic_test"


def _platform_url() -> str:
    url = database.server_url()
    if os.environ.get("DATABASE_URL"):
        return url
    return database.with_database(url, PLATFORM_DB)


def _iam_url() -> str:
    """Where the gateway's schema is: the gateway's own settings inside its container
    (GATEWAY_DATABASE_URL, password from its secret), else the platform database."""
    if os.environ.get("GATEWAY_DATABASE_URL"):
        from gateway.config import GatewaySettings

        return GatewaySettings().database_url
    return _platform_url()


def _session_runner(url: str) -> Callable[[Callable[[AsyncSession], Awaitable[Any]]], Any]:
    # behind a transaction pooler (GATEWAY_DB_TRANSACTION_POOLER) no startup parameters and no
    # named statements; the models name their schema, so search_path only helps raw SQL
    pooled = os.environ.get("GATEWAY_DB_TRANSACTION_POOLER", "").lower() in {"1", "true", "yes"}
    arguments: dict[str, Any] = (
        {"statement_cache_size": 0, "prepared_statement_cache_size": 0}
        if pooled
        else {"server_settings": {"search_path": "iam"}}
    )

    def run(work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
        async def main() -> Any:
            engine = create_async_engine(async_database_url(url), connect_args=arguments)
            try:
                async with async_sessionmaker(engine, expire_on_commit=False)() as session:
                    result = await work(session)
                    await session.commit()
                    return result
            finally:
                await engine.dispose()

        return asyncio.run(main())

    return run


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


SOURCE_FOLDERS = ("shared", "gateway", "services", "platformctl")


def compile_sources() -> None:
    """Byte-compile the project's own packages and migrations (a look at each file's time when
    they are compiled already). Where the environment says not to write bytecode
    (PYTHONDONTWRITEBYTECODE), every process of the platform and every test worker would
    otherwise compile them again as it starts: about 0.2 CPU-seconds a process. Test modules are
    left to pytest, which compiles them its own way."""
    for folder in SOURCE_FOLDERS:
        compileall.compile_dir(
            database.REPO_ROOT / folder, quiet=2, rx=re.compile(r"[/\\](tests|node_modules)[/\\]")
        )


def cmd_run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    compile_sources()
    url = _platform_url()
    asyncio.run(database.ensure_database(url))
    print("Migrating every schema (a database role per component)…", flush=True)
    prepared = migrate.prepare(url)
    # eldercare's client for welfare's events, with the secret the launcher hands eldercare
    feed_client.ensure_feed_client(url, secret=feed_client.local_feed_secret())
    supervisor = Supervisor(url, database_urls=prepared.runtime_urls or None)
    os.environ.setdefault("BOOTSTRAP_ADMIN_USERNAME", "admin")
    supervisor.children[0].env.update(
        {k: v for k, v in os.environ.items() if k.startswith("BOOTSTRAP_ADMIN_")}
    )
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        supervisor.start_all()
        gateway = supervisor.gateway_url
        ready = wait_until_ready(f"{gateway}/readyz", timeout=args.ready_timeout)
        took = time.monotonic() - started
        state = "ready" if ready else "started, but /readyz is not yet all healthy"
        print(
            f"\nPlatform {state} in {took:.1f}s.\n"
            f"  Gateway:  {gateway}\n"
            f"  API docs: {gateway}/docs   (merged OpenAPI: {gateway}/openapi.json)\n"
            f"  Health:   {gateway}/readyz\n"
            "  Token:    curl -s -X POST "
            f"{gateway}/auth/token -d grant_type=password "
            f"-d username=$BOOTSTRAP_ADMIN_USERNAME -d password=$BOOTSTRAP_ADMIN_PASSWORD\n"
            "            (no BOOTSTRAP_ADMIN_PASSWORD: the first start printed a generated one)\n"
            "  Stop:     Ctrl-C\n",
            flush=True,
        )
        supervisor.watch()
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
    finally:
        supervisor.stop_all()
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    compile_sources()
    # a database of its own per run, so two test runs on one server do not meet
    url = database.with_database(database.server_url(), f"{TEST_DB}_{os.getpid()}")
    asyncio.run(database.ensure_database(url, recreate=True))
    env = dict(os.environ, DATABASE_URL=url)
    command = [sys.executable, "-m", "pytest", *args.pytest_args]
    print(f"Test database {database.database_name(url)} ready; running: {' '.join(command[2:])}", flush=True)
    try:
        return subprocess.call(command, env=env, cwd=database.REPO_ROOT)  # noqa: S603
    finally:
        asyncio.run(database.drop_database(url))
        # the roles the run made (named after its database and its side databases)
        asyncio.run(db_roles.drop_roles(url, db_roles.role_prefix(database.database_name(url))))


def cmd_migrate(args: argparse.Namespace) -> int:
    url = _platform_url()
    if args.direction == "up":
        if not _owner_of_each(url, args.component):
            asyncio.run(database.ensure_database(url))
        prepared = migrate.prepare(url, args.component, args.revision or "head")
        if prepared.mode == "per-component":
            prefix = db_roles.role_prefix(database.database_name(url))
            print(f"each component migrated as its owner role ({prefix}_<component>_owner)")
    else:
        asyncio.run(database.ensure_database(url))
        migrate.downgrade_all(url, args.component, args.revision or "base")
    print(f"migrate {args.direction}: done")
    return 0


def _owner_of_each(url: str, names: list[str] | None) -> bool:
    """Whether the URL names the owner role of each component (a deployment's migration step,
    which may not create databases); then the database must exist already."""
    user = database.url_user(url)
    roles = db_roles.component_roles(database.database_name(url), migrate.selected(names))
    return bool(user) and all(r.owner == user for r in roles)


def cmd_database(args: argparse.Namespace) -> int:
    components = migrate.selected(args.component)
    if args.action == "sql":
        name = args.database or database.database_name(_platform_url())
        roles = db_roles.component_roles(name, components)
        print(f"-- roles and rights of platform database {name!r}; run as a superuser, connected to it;")
        print("-- set the passwords with ALTER ROLE … PASSWORD afterwards (or use your secret store)")
        for statement in db_roles.provisioning_sql(name, roles):
            print(statement + ";")
        return 0
    url = _platform_url()
    asyncio.run(database.ensure_database(url))
    roles = db_roles.component_roles(database.database_name(url), components)
    try:
        asyncio.run(db_roles.provision(url, roles, db_roles.passwords_for(roles)))
    except db_roles.ProvisioningRefused as exc:
        print(exc, file=sys.stderr)
        return 1
    for r in roles:
        print(f"{r.component.name:<10} schema {r.schema:<10} runtime role {r.runtime}, owner role {r.owner}")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from platformctl import backup

    try:
        folder = asyncio.run(backup.backup(_platform_url(), Path(args.output)))
    except backup.BackupError as exc:
        print(exc, file=sys.stderr)
        return 1
    manifest = json.loads((folder / backup.MANIFEST).read_text())
    print(
        f"backup {folder}: {sum(manifest['rows'].values())} rows in {len(manifest['rows'])} tables, "
        f"{manifest['dump']['bytes']} bytes"
    )
    print(
        "Keep the citizen-ID keys (WELFARE_CITIZEN_ID_KEY, ELDERCARE_CITIZEN_ID_KEY) apart from it: "
        "the backup cannot be read without them."
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from platformctl import backup

    url = _platform_url()
    try:
        report = backup.restore(url, Path(args.backup))
    except backup.BackupError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(
        f"restored into {report.database}: {report.rows} rows in {report.tables} tables; revisions "
        + ", ".join(f"{name} {'/'.join(revs)}" for name, revs in report.revisions.items())
    )
    for warning in report.key_warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _grants(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "roles": args.role or [],
        "scopes": args.scope or [],
        "jurisdictions": args.jurisdiction or [],
        "units": args.unit or [],
    }


def _secret_hasher() -> SecretHasher:
    """The gateway's hasher with the gateway's settings (GATEWAY_PASSWORD_HASH_*)."""
    from gateway.config import GatewaySettings
    from gateway.iam.passwords import SecretHasher

    return SecretHasher.from_settings(GatewaySettings(database_url=_iam_url()))


def cmd_accounts(args: argparse.Namespace) -> int:
    from gateway.iam import service
    from gateway.iam.schemas import AccountCreate

    password = args.password or os.environ.get("ACCOUNT_PASSWORD") or getpass.getpass("Password: ")
    data = AccountCreate(
        username=args.username, display_name=args.display_name, password=password, **_grants(args)
    )
    hasher = _secret_hasher()
    account = _session_runner(_iam_url())(
        lambda session: service.create_account(session, hasher=hasher, data=data, actor=None)
    )
    print(f"account {account.username} created")
    return 0


def cmd_clients(args: argparse.Namespace) -> int:
    from gateway.iam import service
    from gateway.iam.schemas import ClientCreate

    if args.action == "eldercare-feed":
        from platformctl import feed_client

        secret = feed_client.ensure_feed_client(
            _iam_url(), secret=None, jurisdictions=args.jurisdiction or ()
        )
        print(json.dumps({"client_id": feed_client.CLIENT_ID, "client_secret": secret}))
        return 0

    data = ClientCreate(
        client_id=args.client_id,
        name=args.name,
        rate_limit_per_minute=args.rate_limit,
        **_grants(args),
    )
    hasher = _secret_hasher()
    client, secret = _session_runner(_iam_url())(
        lambda session: service.create_client(session, hasher=hasher, data=data, actor=None)
    )
    print(json.dumps({"client_id": client.client_id, "client_secret": secret}))
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from gateway.iam import keys
    from gateway.iam.models import SigningKey

    run = _session_runner(_iam_url())
    if args.action == "rotate":
        overlap = dt.timedelta(seconds=args.overlap_seconds)
        key = run(lambda session: keys.rotate(session, overlap=overlap))
        print(f"new signing key {key.kid}; gateways pick it up within 30 s")
        return 0

    async def listing(session: AsyncSession) -> list[SigningKey]:
        return list(await session.scalars(select(SigningKey).order_by(SigningKey.created_at)))

    for key in run(listing):
        print(f"{key.kid}\tcreated {key.created_at:%Y-%m-%d %H:%M}\tretired {key.retired_at or '-'}")
    return 0


def _personal_data_settings(component: str) -> Any:
    """The service's own settings (its environment and secret files); under ``make run`` its
    local keys and the platform database."""
    import importlib

    from platformctl.supervisor import local_secret_if_exists
    from shared.settings import read_secret

    prefix = component.upper()
    overrides: dict[str, Any] = {}
    if not os.environ.get(f"{prefix}_DATABASE_URL"):
        overrides["database_url"] = _platform_url()
    if not read_secret(f"{prefix}_CITIZEN_ID_KEY"):
        local = local_secret_if_exists(f"{component}-citizen-id.key")
        if local is None:
            raise SystemExit(f"{component}: no {prefix}_CITIZEN_ID_KEY (environment or secret file)")
        overrides["citizen_id_key"] = local
        lookup = local_secret_if_exists(f"{component}-citizen-id-lookup.key")
        if lookup is not None and not read_secret(f"{prefix}_CITIZEN_ID_LOOKUP_KEY"):
            overrides["citizen_id_lookup_key"] = lookup
    return importlib.import_module(f"{component}.config").Settings(**overrides)


def cmd_rotate_citizen_id_key(args: argparse.Namespace) -> int:
    from platformctl import rotation
    from shared.citizen_ids import vault_from

    failed = False
    for component in args.component or list(rotation.CIPHERTEXT_TABLES):
        settings = _personal_data_settings(component)
        vault = vault_from(settings)
        url = settings.database_url
        if args.status or args.retire:
            counts = asyncio.run(rotation.rows_per_key(url, component))
        else:

            def progress(report: rotation.RotationReport) -> None:
                print(
                    f"{report.component}: {report.moved} rows re-encrypted in {report.batches} batches",
                    flush=True,
                )

            report = asyncio.run(
                rotation.rotate(
                    url,
                    component,
                    vault,
                    batch_size=args.batch_size,
                    max_batches=args.max_batches,
                    pause_seconds=args.pause,
                    progress=progress,
                )
            )
            counts = report.rows_per_key
            state = "done" if report.finished else "stopped early; run again to resume"
            print(f"{component}: {report.moved} rows re-encrypted under {report.current_key} ({state})")
            if report.unreadable:
                failed = True
                print(
                    f"{component}: {len(report.unreadable)} rows no configured key opens (ids: "
                    f"{', '.join(report.unreadable[:20])}); add their key to "
                    f"{component.upper()}_CITIZEN_ID_PREVIOUS_KEYS and run again",
                    file=sys.stderr,
                )
        print(f"{component}: current key {vault.current.id}; rows per key:")
        for key_id, rows in sorted(counts.items()):
            configured = (
                "current"
                if key_id == vault.current.id
                else "previous"
                if key_id in vault.keys
                else "not configured"
            )
            print(f"  {key_id:<20} {rows:>10} rows  ({configured})")
        for key_id in vault.keys:
            if key_id != vault.current.id and key_id not in counts:
                print(f"  {key_id:<20} {0:>10} rows  (previous: may be retired)")
        if args.retire:
            if args.retire == vault.current.id:
                print(f"{component}: {args.retire} is the current key; it cannot be retired", file=sys.stderr)
                failed = True
            elif rotation.retirable(counts, args.retire):
                print(
                    f"{component}: no row uses {args.retire}: remove it from "
                    f"{component.upper()}_CITIZEN_ID_PREVIOUS_KEYS and restart the service"
                )
            else:
                using = counts.get(args.retire, 0) + counts.get(rotation.NO_KEY_ID, 0)
                print(
                    f"{component}: {args.retire} may still be in use by {using} rows: keep it and run "
                    "`platformctl rotate-citizen-id-key` first",
                    file=sys.stderr,
                )
                failed = True
    return 1 if failed else 0


def cmd_status(args: argparse.Namespace) -> int:
    url = _platform_url()

    async def revisions(session: AsyncSession) -> dict[str, str]:
        found = {}
        for component in COMPONENTS:
            try:
                found[component.name] = str(
                    await session.scalar(
                        text(f'SELECT version_num FROM "{component.schema}".alembic_version')
                    )
                )
            except Exception as exc:
                await session.rollback()
                cause = getattr(exc, "orig", exc)
                found[component.name] = f"unknown ({type(cause).__name__}: not migrated or not readable)"
        return found

    for name, revision in _session_runner(url)(revisions).items():
        print(f"schema of {name:<10} at revision {revision}")
    gateway = os.environ.get("GATEWAY_PUBLIC_URL", "http://127.0.0.1:8000")
    try:
        with urllib.request.urlopen(f"{gateway}/readyz", timeout=5) as response:  # noqa: S310
            print(f"gateway {gateway}: {response.read().decode()}")
    except urllib.error.HTTPError as exc:
        print(f"gateway {gateway}: {exc.code} {exc.read().decode()}")
        return 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"gateway {gateway}: not reachable ({exc})")
        return 1
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="platformctl",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = root.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start the platform")
    run.add_argument("--ready-timeout", type=float, default=60.0)
    run.set_defaults(func=cmd_run)

    test = sub.add_parser("test", help="run the test suite")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER)
    test.set_defaults(func=cmd_test)

    mig = sub.add_parser("migrate", help="apply or roll back migrations")
    mig.add_argument("direction", choices=["up", "down"], nargs="?", default="up")
    mig.add_argument("--component", action="append", choices=[c.name for c in COMPONENTS])
    mig.add_argument("--revision")
    mig.set_defaults(func=cmd_migrate)

    def grants(p: argparse.ArgumentParser) -> None:
        p.add_argument("--role", action="append")
        p.add_argument("--scope", action="append")
        p.add_argument("--jurisdiction", action="append")
        p.add_argument("--unit", action="append")

    accounts = sub.add_parser("accounts", help="manage staff accounts")
    accounts_sub = accounts.add_subparsers(dest="action", required=True)
    create_account = accounts_sub.add_parser("create")
    create_account.add_argument("--username", required=True)
    create_account.add_argument("--display-name", required=True)
    create_account.add_argument("--password", help="else ACCOUNT_PASSWORD or a prompt")
    grants(create_account)
    accounts.set_defaults(func=cmd_accounts)

    clients = sub.add_parser("clients", help="manage API clients")
    clients_sub = clients.add_subparsers(dest="action", required=True)
    create_client = clients_sub.add_parser("create")
    create_client.add_argument("--client-id", required=True)
    create_client.add_argument("--name", required=True)
    create_client.add_argument("--rate-limit", type=int)
    grants(create_client)
    eldercare_feed = clients_sub.add_parser("eldercare-feed")
    eldercare_feed.add_argument("--jurisdiction", action="append", help="default: eldercare's cities")
    clients.set_defaults(func=cmd_clients)

    key_cmd = sub.add_parser("keys", help="token signing keys")
    key_cmd.add_argument("action", choices=["rotate", "list"])
    key_cmd.add_argument("--overlap-seconds", type=int, default=960, help="how long old keys stay published")
    key_cmd.set_defaults(func=cmd_keys)

    db = sub.add_parser("database", help="database roles per component")
    db.add_argument("action", choices=["provision", "sql"])
    db.add_argument("--component", action="append", choices=[c.name for c in COMPONENTS])
    db.add_argument("--database", help="sql: the platform database's name (default: the platform's)")
    db.set_defaults(func=cmd_database)

    dump = sub.add_parser("backup", help="dump every schema (pg_dump, custom format) with a manifest")
    dump.add_argument("--output", default=str(database.data_dir() / "backups"), help="folder for the backup")
    dump.set_defaults(func=cmd_backup)

    load = sub.add_parser("restore", help="restore a backup into an empty platform database")
    load.add_argument("backup", help="a folder made by `platformctl backup`")
    load.set_defaults(func=cmd_restore)

    rotate = sub.add_parser(
        "rotate-citizen-id-key",
        help="re-encrypt stored citizen ID numbers under the current key in batches, services answering",
    )
    rotate.add_argument("--component", action="append", choices=["welfare", "eldercare"])
    rotate.add_argument("--batch-size", type=int, default=500)
    rotate.add_argument("--max-batches", type=int, help="stop after this many batches (run again to resume)")
    rotate.add_argument("--pause", type=float, default=0.0, help="seconds between batches")
    rotate.add_argument("--status", action="store_true", help="only say how many rows each key holds")
    rotate.add_argument(
        "--retire", metavar="KEY_ID", help="check that no row uses this key (exit 1 if one does)"
    )
    rotate.set_defaults(func=cmd_rotate_citizen_id_key)

    status = sub.add_parser("status", help="migration revisions and gateway readiness")
    status.set_defaults(func=cmd_status)
    return root


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["test"]:
        # everything after `test` goes to pytest as it is, options first included (-x, -k …)
        return cmd_test(argparse.Namespace(pytest_args=argv[1:]))
    args = parser().parse_args(argv)
    code: int = args.func(args)
    return code
