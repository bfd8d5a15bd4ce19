"""Deployment files: docker-compose.yml, deploy/ (image, entrypoint) and deploy/k8s.

- docker-compose.yml is validated against the Compose Specification's own JSON schema
  (the copy check-jsonschema ships, so no network at test time), raw and interpolated;
- each component's settings are built from what compose (or the rendered ConfigMap and
  Secret) gives it, with the component's own settings class: a required setting that is
  missing fails here, not at a container's start;
- health checks, start order, published ports, the image and its entrypoint;
- `kubectl kustomize deploy/k8s` (skipped without kubectl): probes, resources, non-root,
  the migration Job;
- the migration helper against a real server when DATABASE_URL is set (`make test`).
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
from platformctl.components import COMPONENTS
from platformctl.database import database_name, drop_database, ensure_database, with_database
from platformctl.supervisor import SERVICE_PORTS
from shared.settings import ServiceSettings

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yml"
DEPLOY = REPO / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
ENTRYPOINT = DEPLOY / "entrypoint.sh"
MIGRATIONS_HELPER = DEPLOY / "migrations.py"
K8S = DEPLOY / "k8s"

_spec = importlib.util.spec_from_file_location("deploy_migrations", MIGRATIONS_HELPER)
assert _spec is not None
assert _spec.loader is not None
migrations_helper = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(migrations_helper)

NAMES = [c.name for c in COMPONENTS]  # gateway first, then the four services
DATABASE_SERVICE = "postgres"
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


def settings_class(name: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"{name}.config")
    cls = module.GatewaySettings if name == "gateway" else module.Settings
    assert issubclass(cls, ServiceSettings)
    return cls


def load_settings(name: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The component's settings exactly as its process would build them from `env` alone."""
    for key in list(os.environ):
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    try:
        return settings_class(name)()
    except ValidationError as exc:
        pytest.fail(f"{name} does not start with the environment it is given:\n{exc}")


def check_settings(name: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """Settings every component needs, reaching the others by their service names."""
    settings = load_settings(name, env, monkeypatch)
    assert settings.database_url.startswith("postgresql+asyncpg://"), settings.database_url
    assert settings.port == SERVICE_PORTS[name], "the port differs from the one others use"
    assert settings.host == "0.0.0.0", "a container must listen on every interface"
    if name == "gateway":
        assert settings.service_urls() == {
            service: f"http://{service}:{SERVICE_PORTS[service]}" for service in SERVICE_NAMES
        }
        assert settings.bootstrap_admin_username, "no bootstrap admin username"
        assert settings.bootstrap_admin_password, "no bootstrap admin password"
    else:
        assert settings.jwks_url == f"http://gateway:{SERVICE_PORTS['gateway']}{JWKS_PATH}"
    if name == "eldercare":
        welfare = getattr(settings, "welfare_url", None) or env.get("ELDERCARE_WELFARE_URL")
        assert welfare == f"http://welfare:{SERVICE_PORTS['welfare']}"
    return settings


def memory_bytes(quantity: str) -> float:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 10**3, "M": 10**6, "G": 10**9}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return float(quantity[: -len(suffix)]) * factor
    return float(quantity)


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
    assert set(services) == {DATABASE_SERVICE, *NAMES}
    assert services[DATABASE_SERVICE]["image"].startswith("postgres:15")
    images = set()
    for name in NAMES:
        service = services[name]
        build = service["build"]
        assert (REPO / build["context"]).resolve() == REPO, "the build context is the repo"
        assert (REPO / build["context"] / build["dockerfile"]).resolve().parent == DEPLOY
        assert (REPO / build["context"] / build["dockerfile"]).is_file()
        images.add(service["image"])
        assert service["command"] == [name], "the command picks the component"
        assert environment_of(service).get("MIGRATE_ON_START") == "1", f"{name}: migrations"
        assert service.get("restart") in {"always", "unless-stopped", "on-failure"}
    assert len(images) == 1, "one image for every component"


@pytest.mark.parametrize("name", NAMES)
def test_compose_gives_each_component_every_setting_it_needs(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = compose()["services"]
    env = environment_of(services[name])
    settings = check_settings(name, env, monkeypatch)
    database = urlsplit(settings.database_url)
    assert database.hostname == DATABASE_SERVICE
    postgres = environment_of(services[DATABASE_SERVICE])
    assert database.path == "/" + postgres["POSTGRES_DB"]
    assert database.username == postgres["POSTGRES_USER"]
    assert database.password == postgres["POSTGRES_PASSWORD"]


def test_compose_refuses_to_start_without_the_secrets() -> None:
    raw_gateway = raw_compose()["services"]["gateway"]["environment"]
    assert raw_gateway["BOOTSTRAP_ADMIN_PASSWORD"].startswith("${BOOTSTRAP_ADMIN_PASSWORD:?")
    assert "BOOTSTRAP_ADMIN_PASSWORD" in required_variables()
    for name in required_variables():
        env = dict.fromkeys(required_variables() - {name}, TEST_SECRET)
        with pytest.raises(MissingVariable, match=name):
            interpolate(raw_compose(), env)
        with pytest.raises(MissingVariable, match=name):
            interpolate(raw_compose(), env | {name: ""})
    # No secret has a value written into the file.
    for service in raw_compose()["services"].values():
        for key, value in environment_of(service).items():
            if re.search("PASSWORD|SECRET|KEY", key) and key != "POSTGRES_PASSWORD":
                assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", value), f"{key} is written in the file"


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
    services = compose()["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"gateway"}
    (mapping,) = services["gateway"]["ports"]
    assert str(mapping).rsplit(":", 1)[1] == str(SERVICE_PORTS["gateway"])


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


def migrate_under_a_lock_then_wait(url: str) -> None:
    env = {key: value for key, value in os.environ.items() if not key.endswith("DATABASE_URL")}
    env |= {"DATABASE_URL": url, "MIGRATIONS_WAIT_TIMEOUT": "0"}

    waiting = run_helper(env, "wait", "welfare")
    output, _ = waiting.communicate(timeout=60)
    assert waiting.returncode != 0
    assert "not at head" in output

    # While another replica holds the migration lock, `up` waits for it.
    asyncio.run(up_waits_for_the_lock(url, env))
    everything = run_helper(env, "up", *NAMES)
    output, _ = everything.communicate(timeout=300)
    assert everything.returncode == 0, output

    waiting = run_helper(env, "wait", *NAMES)
    output, _ = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, output


# --- deploy/k8s ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not on PATH: install it to render deploy/k8s with kustomize")
    done = subprocess.run([kubectl, "kustomize", str(K8S)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def objects(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = objects(docs, kind).values()
    return found


def pod_environment(docs: list[dict[str, Any]], container: dict[str, Any]) -> dict[str, str]:
    """What a container's process sees: its envFrom ConfigMaps and Secrets, then env."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env |= objects(docs, "ConfigMap")[source["configMapRef"]["name"]]["data"]
        if "secretRef" in source:
            secret = objects(docs, "Secret")[source["secretRef"]["name"]]
            env |= {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}
            env |= secret.get("stringData", {})
    env |= {item["name"]: item["value"] for item in container.get("env", []) if "value" in item}
    return env


def test_k8s_renders_namespace_settings_and_every_component(rendered: list[dict[str, Any]]) -> None:
    namespace = one(rendered, "Namespace")["metadata"]["name"]
    for doc in rendered:
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == namespace, doc["metadata"]["name"]
    assert objects(rendered, "ConfigMap")
    assert objects(rendered, "Secret")
    deployments, services = objects(rendered, "Deployment"), objects(rendered, "Service")
    assert set(deployments) == set(NAMES)
    assert set(services) == set(NAMES), "each component is reached by its name"
    for name in NAMES:
        service, pod = services[name], deployments[name]["spec"]["template"]
        selector = service["spec"]["selector"]
        assert selector.items() <= pod["metadata"]["labels"].items()
        assert selector.items() <= deployments[name]["spec"]["selector"]["matchLabels"].items()
        (port,) = service["spec"]["ports"]
        assert port["port"] == SERVICE_PORTS[name]
        (container,) = pod["spec"]["containers"]
        named = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert named[port["targetPort"]] == SERVICE_PORTS[name]


@pytest.mark.parametrize("name", NAMES)
def test_k8s_deployment_has_probes_limits_and_runs_as_non_root(
    name: str, rendered: list[dict[str, Any]]
) -> None:
    pod = objects(rendered, "Deployment")[name]["spec"]["template"]["spec"]
    assert pod.get("enableServiceLinks") is False, f"links would set {name.upper()}_PORT=tcp://…"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"].get("runAsUser", 1) != 0
    (container,) = pod["containers"]
    assert container["args"] == [name]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = container[probe]["httpGet"]
        assert get["path"] == path, probe
        assert ports.get(get["port"], get["port"]) == SERVICE_PORTS[name], probe
    resources = container["resources"]
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(resources[kind]), kind
    limit = memory_bytes(resources["limits"]["memory"])
    assert limit >= 200 * 2**20
    assert memory_bytes(resources["requests"]["memory"]) <= limit
    context = container["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context.get("runAsNonRoot", True) is True
    assert context["capabilities"]["drop"] == ["ALL"]
    assert pod_environment(rendered, container).get("MIGRATE_ON_START", "0") == "0"
    (init,) = pod["initContainers"]
    assert init["args"] == ["wait-for-migrations", name]
    assert "limits" in init["resources"]


@pytest.mark.parametrize("name", NAMES)
def test_k8s_gives_each_component_every_setting_it_needs(
    name: str, rendered: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    (container,) = objects(rendered, "Deployment")[name]["spec"]["template"]["spec"]["containers"]
    env = pod_environment(rendered, container)
    # The Secret ships placeholders (CHANGE-ME); the shapes around them must work.
    env = {key: value.replace("CHANGE-ME", TEST_SECRET) for key, value in env.items()}
    check_settings(name, env, monkeypatch)


def test_k8s_migration_job_runs_every_components_migrations(
    rendered: list[dict[str, Any]],
) -> None:
    job = one(rendered, "Job")
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] in {"Never", "OnFailure"}
    assert job["spec"].get("backoffLimit", 6) > 0
    (container,) = pod["containers"]
    action, *components = container["args"]
    assert action == "migrate"
    assert components == NAMES, "the Job migrates every component"
    deployment_image = objects(rendered, "Deployment")["gateway"]["spec"]["template"]["spec"]
    assert container["image"] == deployment_image["containers"][0]["image"]
    env = pod_environment(rendered, container)
    for name in NAMES:
        assert env.get(f"{name.upper()}_DATABASE_URL") or env.get("DATABASE_URL"), name
    assert "limits" in container["resources"]
    assert pod["securityContext"]["runAsNonRoot"] is True


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
