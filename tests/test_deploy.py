"""Deployment files: docker-compose.yml and deploy/ (image, entrypoint, migration helper,
compose secrets); deploy/k8s is tested in test_kubernetes.py.

- docker-compose.yml is validated against the Compose Specification's own JSON schema
  (the copy check-jsonschema ships, so no network at test time), raw and interpolated;
- each component's settings are built from what compose gives it (environment and
  secret files), with the component's own settings class: a required setting that is
  missing fails here, not at a container's start;
- secrets are files, each container gets only its own, and deploy/compose-secrets.sh
  makes every one of them;
- health checks, start order, networks, published ports, the image and its entrypoint;
- the migration helper against a real server when DATABASE_URL is set (`make test`):
  roles per component provisioned by the admin, each schema migrated by its owner.
"""

from __future__ import annotations

import asyncio
import base64
import http.server
import importlib
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import jsonschema
import pytest
import yaml
from pydantic import ValidationError

from gateway.config import SERVICE_NAMES
from gateway.proxy.forwarder import UPSTREAM_IDLE_SECONDS
from platformctl import roles as db_roles
from platformctl.components import COMPONENTS
from platformctl.database import database_name, drop_database, ensure_database, with_database
from platformctl.supervisor import SERVICE_PORTS, Child
from platformctl.testing import check_component_settings, settings_class
from shared.settings import SECRETS_DIR_VARIABLE

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yml"
DEPLOY = REPO / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
ENTRYPOINT = DEPLOY / "entrypoint.sh"
MIGRATIONS_HELPER = DEPLOY / "migrations.py"

_spec = importlib.util.spec_from_file_location("deploy_migrations", MIGRATIONS_HELPER)
assert _spec is not None
assert _spec.loader is not None
migrations_helper = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(migrations_helper)

NAMES = [c.name for c in COMPONENTS]  # gateway first, then the four services
DATABASE_SERVICE = "postgres"
MIGRATE_SERVICE = "migrate"
JWKS_PATH = "/.well-known/jwks.json"
# A value for every ${VAR:?…} secret: 32 bytes in base64 fits the passwords and the keys.
TEST_SECRET = base64.b64encode(bytes(range(32))).decode()


# --- helpers ------------------------------------------------------------------------------


class MissingVariable(Exception):
    """What compose reports for an unset ${VAR:?message}."""


_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's variable interpolation ($$, $VAR, ${VAR}, ${VAR:-x}, ${VAR-x}, ${VAR:?x})."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["plain"]
        op, arg, current = match["op"], match["arg"] or "", env.get(name)
        if op == ":-":
            return current or arg
        if op == "-":
            return arg if current is None else current
        if op in (":?", "?") and (current is None or (op == ":?" and not current)):
            raise MissingVariable(f"{name}: {arg}")
        return current or ""

    return _VARIABLE.sub(substitute, value)


def raw_compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(document, dict)
    return document


def required_variables() -> set[str]:
    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?\?", COMPOSE_FILE.read_text()))


def compose(extra: dict[str, str] | None = None) -> dict[str, Any]:
    """docker-compose.yml as compose sees it with the required secrets given (and `extra`)."""
    env = dict.fromkeys(required_variables(), TEST_SECRET) | (extra or {})
    result: dict[str, Any] = interpolate(raw_compose(), env)
    return result


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {key: "" if value is None else str(value) for key, value in environment.items()}


def check_settings(
    name: str,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    secret_files: dict[str, str] | None = None,
) -> Any:
    """The component's settings from exactly what it is given; a missing one fails here."""
    try:
        return check_component_settings(name, env, secret_files)
    except ValidationError as exc:
        pytest.fail(f"{name} does not start with the environment it is given:\n{exc}")


# --- docker-compose.yml -------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose_validator() -> jsonschema.protocols.Validator:
    """The Compose Specification's JSON schema, as vendored by check-jsonschema."""
    try:
        source = files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    except ModuleNotFoundError:
        pytest.fail("check-jsonschema (requirements-dev.txt) is not installed: run `make test`")
    schema = json.loads(source.read_text(encoding="utf-8"))
    assert schema.get("title") == "Compose Specification"
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def schema_errors(validator: jsonschema.protocols.Validator, document: Any) -> list[str]:
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(document)]


def test_compose_file_follows_the_compose_specification(
    compose_validator: jsonschema.protocols.Validator,
) -> None:
    assert schema_errors(compose_validator, raw_compose()) == []
    assert schema_errors(compose_validator, compose()) == []
    # The schema is strict: a misspelt key or a wrong condition does not pass.
    broken = compose()
    broken["services"]["gateway"]["healtcheck"] = broken["services"]["gateway"]["healthcheck"]
    broken["services"]["welfare"]["depends_on"]["postgres"]["condition"] = "healthy"
    errors = schema_errors(compose_validator, broken)
    assert any("'healtcheck'" in error for error in errors), errors
    assert any(error.startswith("$.services.welfare.depends_on") for error in errors), errors


def test_compose_runs_postgres_and_every_component_from_the_deploy_image() -> None:
    services = compose()["services"]
    assert set(services) == {DATABASE_SERVICE, MIGRATE_SERVICE, *NAMES}
    assert services[DATABASE_SERVICE]["image"].startswith("postgres:15")
    images = set()
    for name in [*NAMES, MIGRATE_SERVICE]:
        service = services[name]
        build = service["build"]
        assert (REPO / build["context"]).resolve() == REPO, "the build context is the repo"
        assert (REPO / build["context"] / build["dockerfile"]).resolve().parent == DEPLOY
        assert (REPO / build["context"] / build["dockerfile"]).is_file()
        images.add(service["image"])
        assert service["command"] == [name], "the command picks the component"
        # the migrate service migrates; a component never does (it has no owner role)
        assert environment_of(service).get("MIGRATE_ON_START", "0") == "0", name
        assert service.get("restart") in {"always", "unless-stopped", "on-failure"}
    assert len(images) == 1, "one image for every component"


def secret_files_of(service: dict[str, Any]) -> dict[str, str]:
    """The files a service finds in /run/secrets: target name → the top-level secret."""
    mounted = {}
    for entry in service.get("secrets", []):
        if isinstance(entry, str):
            mounted[entry] = entry
        else:
            target = entry.get("target", entry["source"])
            assert "/" not in target, "a secret is mounted under /run/secrets"
            mounted[target] = entry["source"]
    return mounted


# What each container may read, and nothing more.
COMPOSE_SECRETS = {
    "postgres": {"POSTGRES_PASSWORD"},
    "migrate": {
        "MIGRATIONS_DATABASE_PASSWORD",
        *(f"{n.upper()}_DATABASE_PASSWORD" for n in NAMES),
        *(f"{n.upper()}_DATABASE_OWNER_PASSWORD" for n in NAMES),
    },
    "gateway": {"GATEWAY_DATABASE_PASSWORD", "BOOTSTRAP_ADMIN_PASSWORD"},
    "appraisal": {"APPRAISAL_DATABASE_PASSWORD"},
    "welfare": {"WELFARE_DATABASE_PASSWORD", "WELFARE_CITIZEN_ID_KEY", "WELFARE_CITIZEN_ID_LOOKUP_KEY"},
    "eldercare": {
        "ELDERCARE_DATABASE_PASSWORD",
        "ELDERCARE_CITIZEN_ID_KEY",
        "ELDERCARE_CITIZEN_ID_LOOKUP_KEY",
    },
    "renewal": {"RENEWAL_DATABASE_PASSWORD"},
}


def test_compose_gives_each_container_only_its_own_secrets_as_files() -> None:
    document = compose()
    services = document["services"]
    assert {name: set(secret_files_of(service)) for name, service in services.items()} == COMPOSE_SECRETS
    assert secret_files_of(services["migrate"])["MIGRATIONS_DATABASE_PASSWORD"] == "POSTGRES_PASSWORD"
    # every secret is a file (made by deploy/compose-secrets.sh), none is an environment value
    for name, secret in document["secrets"].items():
        assert set(secret) == {"file"}, name
        assert secret["file"] == f"./secrets/{name}"
    for name, service in raw_compose()["services"].items():
        for key, value in environment_of(service).items():
            assert not re.search("PASSWORD|SECRET|KEY", key) or key.endswith("_FILE"), f"{name}: {key}"
            assert "${" not in value or not re.search("PASSWORD|SECRET|KEY", value), f"{name}: {key}"
    assert (
        environment_of(services[DATABASE_SERVICE])["POSTGRES_PASSWORD_FILE"]
        == "/run/secrets/POSTGRES_PASSWORD"
    )
    # the image reads them from there
    assert "CIVIC_SECRETS_DIR=/run/secrets" in DOCKERFILE.read_text().replace(" ", "")


@pytest.mark.parametrize("name", NAMES)
def test_compose_gives_each_component_every_setting_it_needs(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = compose()["services"]
    env = environment_of(services[name])
    files = {target: f"secret-of-{source}" for target, source in secret_files_of(services[name]).items()}
    settings = check_settings(name, env, monkeypatch, files)
    database = urlsplit(settings.database_url)
    assert database.hostname == DATABASE_SERVICE
    postgres = environment_of(services[DATABASE_SERVICE])
    assert database.path == "/" + postgres["POSTGRES_DB"]
    # its own role (named after the database), its password from its own secret file
    assert database.username == f"{postgres['POSTGRES_DB']}_{name}"
    assert database.password == f"secret-of-{name.upper()}_DATABASE_PASSWORD"
    assert settings.metrics_port is not None
    assert settings.metrics_port != settings.port


def test_compose_migrate_service_provisions_as_the_superuser() -> None:
    services = compose()["services"]
    migrate = environment_of(services[MIGRATE_SERVICE])
    postgres = environment_of(services[DATABASE_SERVICE])
    url = urlsplit(migrate["MIGRATIONS_DATABASE_URL"])
    assert (url.hostname, url.username, url.path) == (
        DATABASE_SERVICE,
        postgres["POSTGRES_USER"],
        "/" + postgres["POSTGRES_DB"],
    )
    assert url.password is None, "the password is a secret file"


def test_compose_secrets_script_makes_every_secret_once(tmp_path: Path) -> None:
    folder = tmp_path / "secrets"
    script = DEPLOY / "compose-secrets.sh"
    done = subprocess.run(["sh", str(script), str(folder)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert {path.name for path in folder.iterdir()} == set(raw_compose()["secrets"])
    assert folder.stat().st_mode & 0o777 == 0o700
    for path in folder.iterdir():
        value = path.read_text()
        assert value
        assert "\n" not in value
        if "_CITIZEN_ID_" in path.name:
            assert len(base64.b64decode(value, validate=True)) == 32
        else:
            assert re.fullmatch(r"[A-Za-z0-9_-]{32}", value), path.name  # URL-safe
    before = {path.name: path.read_text() for path in folder.iterdir()}
    (folder / "WELFARE_DATABASE_PASSWORD").unlink()
    again = subprocess.run(["sh", str(script), str(folder)], capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    after = {path.name: path.read_text() for path in folder.iterdir()}
    assert set(after) == set(before)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"WELFARE_DATABASE_PASSWORD"}, "existing secrets (the keys above all) are kept"
    assert subprocess.run(["sh", "-n", str(script)], timeout=30).returncode == 0


def test_compose_health_checks_and_start_order() -> None:
    document = compose()
    services = document["services"]
    postgres = services[DATABASE_SERVICE]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    volume = postgres["volumes"][0].split(":")[0]
    assert volume in (document.get("volumes") or {}), "the database keeps a named volume"
    for name in NAMES:
        service = services[name]
        check = service["healthcheck"]
        assert not check.get("disable")
        test = check["test"]
        assert test[:3] == ["CMD", "python", "-c"], "the slim image has python, not curl"
        assert "urllib" in test[3]
        assert f"127.0.0.1:{SERVICE_PORTS[name]}/readyz" in test[3]
        depends = service["depends_on"]
        assert depends[DATABASE_SERVICE]["condition"] == "service_healthy"
        assert depends[MIGRATE_SERVICE]["condition"] == "service_completed_successfully"
    assert services[MIGRATE_SERVICE]["depends_on"][DATABASE_SERVICE]["condition"] == "service_healthy"
    gateway_depends = services["gateway"]["depends_on"]
    for name in SERVICE_NAMES:
        assert gateway_depends[name]["condition"] == "service_healthy"


@pytest.fixture
def readiness_server() -> Iterator[tuple[int, dict[str, int]]]:
    state = {"status": 200}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(state["status"] if self.path == "/readyz" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], state
    finally:
        server.shutdown()
        server.server_close()


def test_compose_health_check_fails_while_not_ready(
    readiness_server: tuple[int, dict[str, int]],
) -> None:
    port, state = readiness_server
    test = compose()["services"]["welfare"]["healthcheck"]["test"]
    code = test[3].replace(f":{SERVICE_PORTS['welfare']}/", f":{port}/")

    def run() -> int:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30)
        return done.returncode

    assert run() == 0
    state["status"] = 503
    assert run() != 0


def test_compose_publishes_only_the_gateway() -> None:
    document = compose()
    services = document["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"gateway"}
    (mapping,) = services["gateway"]["ports"]
    assert str(mapping).rsplit(":", 1)[1] == str(SERVICE_PORTS["gateway"])
    # the database and the services are on an internal network only; the gateway bridges
    assert document["networks"]["internal"]["internal"] is True
    for name, service in services.items():
        expected = ["internal", "edge"] if name == "gateway" else ["internal"]
        assert service["networks"] == expected, name
    # metrics on a port of their own, never published
    for name in NAMES:
        metrics = environment_of(services[name])[f"{name.upper()}_METRICS_PORT"]
        assert metrics != str(SERVICE_PORTS[name])
        assert all(metrics not in str(mapping) for mapping in services[name].get("ports", []))


# --- the image and its entrypoint ---------------------------------------------------------


def test_dockerfile_builds_one_slim_non_root_image_for_every_component() -> None:
    lines = [
        line.strip()
        for line in DOCKERFILE.read_text().replace("\\\n", " ").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    stages = [i for i, line in enumerate(lines) if line.upper().startswith("FROM ")]
    assert len(stages) >= 2, "multi-stage"
    assert any(line.startswith("ARG PYTHON_IMAGE=python:3.11-slim") for line in lines)
    final = lines[stages[-1] :]
    users = [line.split()[1] for line in final if line.upper().startswith("USER ")]
    assert users, "the final stage sets a user"
    assert users[-1].split(":")[0].isdigit()
    assert users[-1].split(":")[0] != "0"
    final_text = "\n".join(final)
    assert "apt-get install" not in final_text
    assert "requirements-dev" not in final_text
    assert "COPY --from=build /opt/venv" in final_text
    assert "ENTRYPOINT" in final_text
    install = " ".join(lines)
    assert "-c constraints.txt" in install
    assert "editable_mode=compat" in install
    for project in ("shared", "gateway", "platformctl", *(f"services/{s}" for s in SERVICE_NAMES)):
        assert f"-e {project}" in install, project
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    assert ignore[next(i for i, v in enumerate(ignore) if v and not v.startswith("#"))] == "**"
    assert not any(entry.lstrip("!").startswith((".venv", ".data")) for entry in ignore)


@pytest.fixture
def stub_python(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment whose `python` only records its arguments, one call a line."""
    log = tmp_path / "calls.log"
    stub = tmp_path / "bin" / "python"
    stub.parent.mkdir()
    stub.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {shlex.quote(str(log))}\n')
    stub.chmod(0o755)
    env = {"PATH": f"{stub.parent}{os.pathsep}{os.environ['PATH']}", "CIVIC_HOME": str(REPO)}
    return env, log


def run_entrypoint(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(ENTRYPOINT), *args], env=env, capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("name", NAMES)
def test_entrypoint_migrates_on_start_then_runs_uvicorn(
    name: str, stub_python: tuple[dict[str, str], Path]
) -> None:
    env, log = stub_python
    done = run_entrypoint(env | {"MIGRATE_ON_START": "1"}, name, "--workers", "2")
    assert done.returncode == 0, done.stderr
    migrate, serve = log.read_text().splitlines()
    assert migrate == f"{MIGRATIONS_HELPER} up {name}"
    factory = "gateway.main:app_factory" if name == "gateway" else f"{name}.main:create_app"
    assert serve.startswith(f"-m uvicorn --factory {factory} --host 0.0.0.0 --port {SERVICE_PORTS[name]} ")
    assert serve.endswith(" --workers 2")
    assert settings_class(name).model_fields["port"].default == SERVICE_PORTS[name]


@pytest.mark.parametrize("name", NAMES)
def test_every_component_keeps_idle_connections_longer_than_the_gateway(
    name: str, stub_python: tuple[dict[str, str], Path]
) -> None:
    """The gateway keeps an idle connection to a service for the next request; were the service
    to close it first (uvicorn's default: 5 s), a request sent on it as it closed would break
    off (a 502 for a POST). Launcher and image alike keep it longer on the server's side."""
    env, log = stub_python
    assert run_entrypoint(env, name).returncode == 0
    (serve,) = log.read_text().splitlines()
    in_image = re.search(r"--timeout-keep-alive (\d+)", serve)
    launched = Child(name, 8000, "127.0.0.1", env={}).command()
    assert in_image is not None
    assert "--timeout-keep-alive" in launched
    in_launcher = launched[launched.index("--timeout-keep-alive") + 1]
    assert int(in_image.group(1)) == int(in_launcher) > UPSTREAM_IDLE_SECONDS


def test_entrypoint_without_migrate_on_start_and_with_a_port(
    stub_python: tuple[dict[str, str], Path],
) -> None:
    env, log = stub_python
    done = run_entrypoint(env | {"WELFARE_PORT": "9002", "WELFARE_HOST": "127.0.0.1"}, "welfare")
    assert done.returncode == 0, done.stderr
    (serve,) = log.read_text().splitlines()
    assert "--host 127.0.0.1 --port 9002" in serve
    bad = run_entrypoint(env | {"MIGRATE_ON_START": "maybe"}, "welfare")
    assert bad.returncode != 0
    assert "MIGRATE_ON_START" in bad.stderr
    assert run_entrypoint(env).returncode != 0, "a component must be named"


def test_entrypoint_migrate_and_wait_name_every_component(
    stub_python: tuple[dict[str, str], Path],
) -> None:
    env, log = stub_python
    assert run_entrypoint(env, "migrate").returncode == 0
    assert run_entrypoint(env, "wait-for-migrations", "welfare").returncode == 0
    assert run_entrypoint(env, "python", "-m", "platformctl", "status").returncode == 0
    assert log.read_text().splitlines() == [
        f"{MIGRATIONS_HELPER} up {' '.join(NAMES)}",
        f"{MIGRATIONS_HELPER} wait welfare",
        "-m platformctl status",
    ]


def test_entrypoint_is_posix_sh() -> None:
    assert ENTRYPOINT.read_text().startswith("#!/bin/sh\n")
    assert os.access(ENTRYPOINT, os.X_OK)
    assert subprocess.run(["sh", "-n", str(ENTRYPOINT)], timeout=30).returncode == 0
    if shutil.which("shellcheck"):
        checked = subprocess.run(["shellcheck", "-s", "sh", str(ENTRYPOINT)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout


# --- the migration helper against a real server (make test) -------------------------------


def run_helper(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(MIGRATIONS_HELPER), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def up_waits_for_the_lock(url: str, env: dict[str, str]) -> None:
    dsn = with_database(url, "postgres").replace("postgresql+asyncpg://", "postgresql://")
    holder, watcher = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", migrations_helper.LOCK_KEY)
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(MIGRATIONS_HELPER), "up", "welfare", env=env
        )
        waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        for _ in range(600):
            if await watcher.fetchval(waiting):
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("`up` never asked for the migration lock")
        assert process.returncode is None, "up ran although another one held the lock"
        await holder.close()
        assert await asyncio.wait_for(process.wait(), 300) == 0
    finally:
        await holder.close()
        await watcher.close()


def test_migration_helper_migrates_under_a_lock_and_waits() -> None:
    server = os.environ.get("DATABASE_URL")
    if not server:
        pytest.skip("DATABASE_URL is not set: run with `make test` for the database checks")
    url = with_database(server, f"{database_name(server)}_deploy")
    asyncio.run(ensure_database(url, recreate=True))
    try:
        migrate_under_a_lock_then_wait(url)
    finally:
        asyncio.run(drop_database(url))
        asyncio.run(db_roles.drop_roles(url, db_roles.role_prefix(database_name(url))))


def migrate_under_a_lock_then_wait(url: str) -> None:
    env = {key: value for key, value in os.environ.items() if not key.endswith("DATABASE_URL")}
    env |= {"MIGRATIONS_DATABASE_URL": url, "MIGRATIONS_WAIT_TIMEOUT": "0"}
    database = database_name(url)
    roles = db_roles.component_roles(database)
    passwords = db_roles.passwords_for(roles)

    # init containers wait as the component's own runtime role, its password a secret file
    with tempfile.TemporaryDirectory() as folder:
        wait_env = {key: value for key, value in env.items() if not key.startswith("MIGRATIONS_DATABASE")}
        wait_env |= {"MIGRATIONS_WAIT_TIMEOUT": "0", SECRETS_DIR_VARIABLE: folder}
        for r in roles:
            prefix = r.component.name.upper()
            wait_env[f"{prefix}_DATABASE_URL"] = db_roles.role_url(url, r.runtime, None)
            (Path(folder) / f"{prefix}_DATABASE_PASSWORD").write_text(passwords[r.runtime] or "")

        waiting = run_helper(env | {"DATABASE_URL": url}, "wait", "welfare")
        output, _ = waiting.communicate(timeout=60)
        assert waiting.returncode != 0
        assert "not at head" in output

        # While another replica holds the migration lock, `up` waits for it.
        asyncio.run(up_waits_for_the_lock(url, env))
        # the admin URL: roles per component, each schema migrated by its owner
        everything = run_helper(env, "up", *NAMES)
        output, _ = everything.communicate(timeout=300)
        assert everything.returncode == 0, output
        assert "migrated as its owner role" in output

        waiting = run_helper(wait_env, "wait", *NAMES)
        output, _ = waiting.communicate(timeout=60)
        assert waiting.returncode == 0, output

    # roles made by someone else: a URL without a user migrates each schema as its owner
    with tempfile.TemporaryDirectory() as folder:
        owner_env = env | {
            "MIGRATIONS_DATABASE_URL": db_roles.role_url(url, "", None),
            SECRETS_DIR_VARIABLE: folder,
        }
        for r in roles:
            (Path(folder) / f"{r.component.name.upper()}_DATABASE_OWNER_PASSWORD").write_text(
                passwords[r.owner] or ""
            )
        as_owners = run_helper(owner_env, "up", *NAMES)
        output, _ = as_owners.communicate(timeout=300)
        assert as_owners.returncode == 0, output
        assert "migrated as its owner role" not in output  # nothing provisioned, owners only


def test_migration_helper_and_entrypoint_know_every_component() -> None:
    script = ENTRYPOINT.read_text()
    (listed,) = re.findall(r'^COMPONENTS="([^"]+)"$', script, flags=re.MULTILINE)
    assert listed.split() == NAMES
    helper = subprocess.run(
        [sys.executable, str(MIGRATIONS_HELPER), "--help"], capture_output=True, text=True
    )
    assert helper.returncode == 0, helper.stderr
    for name in NAMES:
        assert name in helper.stdout
