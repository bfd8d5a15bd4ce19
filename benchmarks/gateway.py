"""Gateway overhead, measured side by side in one run with wrk.

The same endpoint is called directly on the service, through the gateway, and through
nginx (the reference proxy) in front of the same service, at 32 and at 4 connections.
Prints throughput and latency for each and the ratios to direct, and the gateway
process's CPU time per request (user + system, at 32 connections): on a shared machine
throughput varies by tens of percent between runs, CPU time per request much less.

    .venv/bin/python benchmarks/gateway.py [--seconds 10] [--trivial PATH] [--db PATH] [--no-nginx]
        [--database NAME] [--json FILE]

Needs `wrk` and `nginx` (Debian: apt-get install wrk nginx-light); nginx is skipped
with a note when absent. Uses DATABASE_URL or the embedded PostgreSQL.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a file, this folder comes first on sys.path and this file would shadow the
# gateway package; drop the folder (imports below are the project's packages).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import httpx
import psutil

from platformctl import database, migrate
from platformctl.supervisor import SERVICE_PORTS, Supervisor, wait_until_ready
from platformctl.testing import ensure_feed_client, free_port

ADMIN = ("bench-admin", "bench-admin-password-123")
NGINX_CONF = """
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    upstream service {{ server 127.0.0.1:{upstream}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://service;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $remote_addr;
        }}
    }}
}}
"""


def wrk(url: str, token: str, connections: int, seconds: int) -> dict[str, float]:
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-H",
        f"Authorization: Bearer {token}",
        url,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if found is None:
        raise RuntimeError(f"wrk gave no Requests/sec line:\n{output}")
    rps = float(found.group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result = {"rps": rps, "non_2xx": float(errors.group(1)) if errors else 0.0}
    for percentile in ("50", "90", "99"):
        match = re.search(rf"\s{percentile}%\s+([\d.]+)(us|ms|s)", output)
        if match:
            value, unit = float(match.group(1)), match.group(2)
            result[f"p{percentile}_ms"] = (
                value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
            )
    return result


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def start_nginx(upstream_port: int) -> tuple[subprocess.Popen[bytes] | None, int]:
    if shutil.which("nginx") is None:
        return None, 0
    prefix = tempfile.mkdtemp(prefix="bench-nginx-")
    port = free_port()
    conf = Path(prefix) / "nginx.conf"
    conf.write_text(NGINX_CONF.format(prefix=prefix, upstream=upstream_port, port=port))
    process = subprocess.Popen(["nginx", "-p", prefix, "-c", str(conf), "-g", "daemon off;"])
    time.sleep(0.5)
    return process, port


async def admin_token(gateway: str) -> str:
    async with httpx.AsyncClient(base_url=gateway) as client:
        response = await client.post(
            "/auth/token",
            data={"grant_type": "password", "username": ADMIN[0], "password": ADMIN[1]},
        )
        response.raise_for_status()
        return str(response.json()["access_token"])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--trivial", default="/api/renewal/v1/plans", help="an endpoint doing little work")
    parser.add_argument("--db", default="/api/welfare/v1/households?limit=20", help="a database-backed GET")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--no-nginx", action="store_true", help="skip the nginx reference (shorter runs)")
    parser.add_argument(
        "--database", default="civic_bench", help="name of the (re-created) benchmark database"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2

    url = database.with_database(database.server_url(), args.database)
    asyncio.run(database.ensure_database(url, recreate=True))
    migrate.upgrade_all(url)
    os.environ["BOOTSTRAP_ADMIN_USERNAME"], os.environ["BOOTSTRAP_ADMIN_PASSWORD"] = ADMIN
    os.environ["GATEWAY_RATE_LIMIT_PER_MINUTE"] = "100000000"
    for name in SERVICE_PORTS:
        os.environ[f"{name.upper()}_LOG_LEVEL"] = "WARNING"
    ensure_feed_client(url)  # eldercare follows welfare's events with it
    supervisor = Supervisor(url, ports={name: free_port() for name in SERVICE_PORTS})
    supervisor.start_all()
    nginx = None
    results: dict[str, dict[str, float]] = {}
    try:
        if not wait_until_ready(f"{supervisor.gateway_url}/readyz", timeout=60):
            print("platform did not become ready", file=sys.stderr)
            return 1
        token = asyncio.run(admin_token(supervisor.gateway_url))
        for label, path in (("trivial", args.trivial), ("database", args.db)):
            service = path.split("/")[2]
            service_port = supervisor.ports[service]
            nginx, nginx_port = (None, 0) if args.no_nginx else start_nginx(service_port)
            targets = {
                "direct": f"http://127.0.0.1:{service_port}{path}",
                "gateway": f"{supervisor.gateway_url}{path}",
            }
            if nginx is not None:
                targets["nginx"] = f"http://127.0.0.1:{nginx_port}{path}"
            processes = {
                child.name: psutil.Process(child.process.pid)
                for child in supervisor.children
                if child.name in ("gateway", service) and child.process is not None
            }
            for target, target_url in targets.items():
                wrk(target_url, token, 8, 2)  # warm up pools and caches
                for connections in (32, 4):
                    before = {name: cpu_seconds(p) for name, p in processes.items()}
                    result = wrk(target_url, token, connections, args.seconds)
                    served = result["rps"] * args.seconds
                    for name, process in processes.items():
                        # CPU time per request: far steadier than throughput on a shared machine
                        used = cpu_seconds(process) - before[name]
                        result[f"{'gateway' if name == 'gateway' else 'service'}_cpu_us"] = (
                            used / served * 1e6
                        )
                    results[f"{label}/{target}/c{connections}"] = result
            if nginx is not None:
                nginx.terminate()
                nginx.wait()
                nginx = None
    finally:
        if nginx is not None:
            nginx.terminate()
        supervisor.stop_all()

    print(
        f"\nGateway benchmark ({args.seconds}s per run, wrk -t2)\ntrivial={args.trivial} database={args.db}"
    )
    print(
        f"{'endpoint/target':<22}{'c32 req/s':>11}{'ratio':>8}{'c32 p50':>9}{'c32 p99':>9}"
        f"{'c4 req/s':>10}{'c4 p50':>8}{'+p50 ms':>9}{'non-2xx':>9}{'gw µs/req':>11}"
    )
    for label in ("trivial", "database"):
        direct32 = results[f"{label}/direct/c32"]
        direct4 = results[f"{label}/direct/c4"]
        for target in ("direct", "gateway", "nginx"):
            if f"{label}/{target}/c32" not in results:
                continue
            r32, r4 = results[f"{label}/{target}/c32"], results[f"{label}/{target}/c4"]
            print(
                f"{label + '/' + target:<22}{r32['rps']:>11.0f}{r32['rps'] / direct32['rps']:>8.2f}"
                f"{r32.get('p50_ms', 0):>9.2f}{r32.get('p99_ms', 0):>9.2f}{r4['rps']:>10.0f}"
                f"{r4.get('p50_ms', 0):>8.2f}{r4.get('p50_ms', 0) - direct4.get('p50_ms', 0):>9.2f}"
                f"{r32['non_2xx'] + r4['non_2xx']:>9.0f}{r32.get('gateway_cpu_us', 0):>11.0f}"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
