"""Start the gateway and the four services as supervised processes.

A process that dies is reported on the console and restarted (with a growing pause);
Ctrl-C or SIGTERM stops every process cleanly, then the embedded database.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from platformctl.database import data_dir
from platformctl.forkserver import ForkedProcess, ForkServer

SERVICE_PORTS = {
    "gateway": 8000,
    "appraisal": 8001,
    "welfare": 8002,
    "eldercare": 8003,
    "renewal": 8004,
}
APPS = {
    "gateway": "gateway.main:app_factory",
    "appraisal": "appraisal.main:create_app",
    "welfare": "welfare.main:create_app",
    "eldercare": "eldercare.main:create_app",
    "renewal": "renewal.main:create_app",
}
# the gateway's protocol limits the request head (gateway/gateway/server.py)
HTTP_PROTOCOLS = {"gateway": "gateway.server:GuardedHttpToolsProtocol"}
METRICS_PORTS = {name: port + 100 for name, port in SERVICE_PORTS.items()}  # 8100–8104


def preload_modules() -> list[str]:
    """The modules of every component's application and protocol, for a fork server to import."""
    return [target.split(":")[0] for target in (*APPS.values(), *HTTP_PROTOCOLS.values())]


STOP_GRACE_SECONDS = 10.0
# uvicorn's keep-alive for idle connections (its default is 5 s): longer than the gateway keeps
# an idle upstream connection (gateway.proxy.forwarder.UPSTREAM_IDLE_SECONDS), so that the
# client side always closes first; deploy/entrypoint.sh passes the same
KEEP_ALIVE_SECONDS = 75


@dataclass
class Child:
    name: str
    port: int
    host: str
    env: dict[str, str]
    process: subprocess.Popen[bytes] | ForkedProcess | None = None
    restarts: list[float] = field(default_factory=list)
    log_file: Path | None = None  # stdout and stderr appended here; inherited when None
    metrics_port: int | None = None  # /metrics is served here, not on the public port
    spawner: ForkServer | None = None  # started as a fork of this (tests); a new process when None

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            APPS[self.name],
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--loop",
            "uvloop",
            "--http",
            HTTP_PROTOCOLS.get(self.name, "httptools"),
            "--no-access-log",
            "--timeout-keep-alive",
            str(KEEP_ALIVE_SECONDS),
            "--timeout-graceful-shutdown",
            "5",
            *(gateway_proxy_options(self.env) if self.name == "gateway" else []),
        ]

    def start(self) -> None:
        if self.spawner is not None:
            self.process = self.spawner.spawn(self.command(), self.env, self.log_file)
            return
        if self.log_file is None:
            self.process = subprocess.Popen(self.command(), env=self.env)  # noqa: S603
            return
        with self.log_file.open("ab") as output:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(  # noqa: S603
                self.command(), env=self.env, stdout=output, stderr=subprocess.STDOUT
            )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def gateway_proxy_options(env: Mapping[str, str]) -> list[str]:
    """uvicorn's proxy-header handling for the gateway: off unless ``GATEWAY_TRUSTED_PROXIES``
    names proxies, and then believed from those only. uvicorn's default believes
    ``X-Forwarded-For`` from 127.0.0.1, so that any local caller chose its own address (and
    escaped the per-address sign-in throttle)."""
    raw = env.get("GATEWAY_TRUSTED_PROXIES", "").strip()
    trusted = [str(entry) for entry in json.loads(raw)] if raw else []
    if not trusted:
        return ["--no-proxy-headers"]
    return ["--proxy-headers", "--forwarded-allow-ips", ",".join(trusted)]


# Secrets a component reads without its prefix; each process gets only its own.
COMPONENT_SECRETS = {
    "gateway": ("BOOTSTRAP_ADMIN_PASSWORD",),
}
# A variable of a component's own prefix holding a secret: keys, passwords, database URLs.
_SECRET_SUFFIX = re.compile(r"(KEY|KEYS|PASSWORD|SECRET|DATABASE_URL)$")


def is_secret_of(name: str, variable: str) -> bool:
    """Whether ``variable`` is one of the secrets of component ``name`` (e.g. welfare's
    WELFARE_CITIZEN_ID_KEY, WELFARE_CITIZEN_ID_PREVIOUS_KEYS, WELFARE_DATABASE_PASSWORD)."""
    if variable in COMPONENT_SECRETS.get(name, ()):
        return True
    return variable.startswith(f"{name.upper()}_") and bool(_SECRET_SUFFIX.search(variable))


# Ports for processes started later come from below the kernel's ephemeral range: between the
# choice and the child's bind, outgoing connections (to the database, between services) take
# their local ports from that range, and one of them may take the chosen port. Under
# pytest-xdist each worker draws from a slice of its own.
FREE_PORTS_FROM = 20000
_handed_out: set[int] = set()


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default; the IANA range starts at 49152


def _port_slice() -> range:
    low, high = FREE_PORTS_FROM, max(_ephemeral_low(), FREE_PORTS_FROM + 1000)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "").removeprefix("gw")
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if not worker.isdigit() or workers <= 1:
        return range(low, high)
    size = (high - low) // workers
    start = low + int(worker) % workers * size
    return range(start, start + size)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing is bound to now, not handed out before by this process,
    and outside the range the kernel gives outgoing connections."""
    ports = _port_slice()
    offset = secrets.randbelow(len(ports))
    for step in range(len(ports)):
        port = ports[(offset + step) % len(ports)]
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    _handed_out.clear()  # every port of the slice handed out once: those that are free again
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        chosen: int = sock.getsockname()[1]
        return chosen


def component_env(
    name: str,
    database_url: str,
    host: str,
    ports: dict[str, int],
    *,
    database_urls: Mapping[str, str] | None = None,
    metrics_port: int | None = None,
) -> dict[str, str]:
    """The environment of one component's process: the platform's settings, its own secrets only.

    With ``database_urls`` (component → URL of its own role) the process gets only its URL
    (``<NAME>_DATABASE_URL``) and no ``DATABASE_URL``; without, every process uses ``database_url``.
    """
    others = [n for n in SERVICE_PORTS if n != name]
    env = {key: value for key, value in os.environ.items() if not any(is_secret_of(o, key) for o in others)}
    if name in ("welfare", "eldercare") and f"{name.upper()}_CITIZEN_ID_KEY" not in env:
        # the launcher's local keys; the lookup key first, as it looks for an earlier key
        env.setdefault(f"{name.upper()}_CITIZEN_ID_LOOKUP_KEY", local_lookup_secret(name))
        env[f"{name.upper()}_CITIZEN_ID_KEY"] = local_secret(f"{name}-citizen-id.key")
    if database_urls is not None:
        for admin in (
            "DATABASE_URL",
            "DATABASE_PASSWORD",
            "MIGRATIONS_DATABASE_URL",
            "MIGRATIONS_DATABASE_PASSWORD",
        ):
            env.pop(admin, None)
        env[f"{name.upper()}_DATABASE_URL"] = database_urls[name]
    else:
        env["DATABASE_URL"] = database_url
    if metrics_port is not None:
        env[f"{name.upper()}_METRICS_PORT"] = str(metrics_port)
    gateway = f"http://{host}:{ports['gateway']}"
    if name == "gateway":
        for service in ("appraisal", "welfare", "eldercare", "renewal"):
            env.setdefault(f"GATEWAY_{service.upper()}_URL", f"http://{host}:{ports[service]}")
    else:
        env.setdefault(f"{name.upper()}_JWKS_URL", f"{gateway}/.well-known/jwks.json")
    if name == "eldercare":
        env.setdefault("ELDERCARE_WELFARE_URL", f"http://{host}:{ports['welfare']}")
        # its client for welfare's events (platformctl.feed_client makes it with this secret)
        feed_secret = local_secret("eldercare-welfare-feed.secret")
        env.setdefault("ELDERCARE_WELFARE_FEED_CLIENT_SECRET", feed_secret)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def local_secret(name: str) -> str:
    """A random 32-byte key kept in the local data folder (created on first use, mode 0600).

    Only for the embedded setup; deployments pass keys from their secret store.
    """
    path = data_dir() / "secrets" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
        path.chmod(0o600)
    return path.read_text().strip()


def local_lookup_secret(component: str) -> str:
    """The local lookup key of a service's citizen-ID hashes (``<component>-citizen-id-lookup.key``).

    Made on first use: random for a new installation; for a data folder whose encryption key
    predates separate lookup keys, the secret the hashes were made with until then (derived
    from that key), so that every stored hash stays valid.
    """
    from shared.citizen_ids import legacy_lookup_secret

    name = f"{component}-citizen-id-lookup.key"
    if (found := local_secret_if_exists(name)) is not None:
        return found
    path = data_dir() / "secrets" / name
    earlier = local_secret_if_exists(f"{component}-citizen-id.key")
    secret = legacy_lookup_secret(earlier.rpartition(":")[2]) if earlier else secrets.token_bytes(32)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(base64.b64encode(secret).decode())
    path.chmod(0o600)
    return path.read_text().strip()


def local_secret_if_exists(name: str) -> str | None:
    """A key :func:`local_secret` made before, without making one."""
    path = data_dir() / "secrets" / name
    return path.read_text().strip() if path.exists() else None


def wait_until_ready(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback URL we built
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    return False


class Supervisor:
    """The five processes. ``database_urls`` (component → URL of its own database role, from
    :func:`platformctl.migrate.prepare`) gives each process only its own credentials; without
    it every process connects with ``database_url``. ``/metrics`` is served on a port of its
    own per process: ``<NAME>_METRICS_PORT`` (8100–8104) under ``make run``, free ports
    when ``ports`` are given."""

    def __init__(
        self,
        database_url: str,
        host: str = "127.0.0.1",
        ports: dict[str, int] | None = None,
        log_dir: Path | None = None,
        *,
        database_urls: Mapping[str, str] | None = None,
        spawner: ForkServer | None = None,
    ) -> None:
        if ports is None:
            self.ports = {
                name: int(os.environ.get(f"{name.upper()}_PORT", port))
                for name, port in SERVICE_PORTS.items()
            }
            self.metrics_ports = {
                name: int(os.environ.get(f"{name.upper()}_METRICS_PORT", port))
                for name, port in METRICS_PORTS.items()
            }
        else:
            self.ports = ports
            self.metrics_ports = {name: free_port() for name in SERVICE_PORTS}
        self.children = [
            Child(
                name,
                self.ports[name],
                host,
                component_env(
                    name,
                    database_url,
                    host,
                    self.ports,
                    database_urls=database_urls,
                    metrics_port=self.metrics_ports[name],
                ),
                log_file=log_dir / f"{name}.log" if log_dir else None,
                metrics_port=self.metrics_ports[name],
                spawner=spawner,
            )
            for name in SERVICE_PORTS
        ]
        self.stopping = False

    @property
    def gateway_url(self) -> str:
        return self.children[0].url

    def start_all(self) -> None:
        for child in self.children:
            child.start()

    def stop_all(self) -> None:
        self.stopping = True
        for child in self.children:
            if child.process and child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in self.children:
            if child.process is None:
                continue
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()

    def watch(self) -> None:
        """Until stopped: report and restart any process that exits."""
        while not self.stopping:
            for child in self.children:
                assert child.process is not None
                code = child.process.poll()
                if code is None or self.stopping:
                    continue
                now = time.monotonic()
                child.restarts = [t for t in child.restarts if now - t < 60] + [now]
                pause = min(30, 2 ** (len(child.restarts) - 1))
                print(
                    f"!! {child.name} exited with code {code}; restarting in {pause}s "
                    f"({len(child.restarts)} restart(s) in the last minute)",
                    file=sys.stderr,
                    flush=True,
                )
                time.sleep(pause)
                if not self.stopping:
                    child.start()
            time.sleep(0.5)
