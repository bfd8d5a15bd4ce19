"""A realistic mix of calls through the gateway for a fixed time.

Prints, per endpoint: requests, throughput, p50/p95/p99 latency and errors; and for every
process (gateway and services) its peak RSS and the CPU it used during the run (cores on
average, and CPU milliseconds per request it served): the figures the Kubernetes requests,
limits and autoscaling targets in deploy/k8s are taken from. Each process connects as its
own database role, as under `make run`.

    .venv/bin/python benchmarks/load.py [--seconds 30] [--concurrency 16]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import threading
import time
import uuid
from collections import defaultdict
from typing import Any

import aiohttp
import psutil

from platformctl import database, migrate
from platformctl.supervisor import SERVICE_PORTS, Supervisor, wait_until_ready
from platformctl.testing import ensure_feed_client, free_port

ADMIN = ("load-admin", "load-admin-password-123")
PLAN = "/api/renewal/v1/plans/panjin-2024-equipment-renewal"
EVALUATION = {
    "jurisdiction": "411702",
    "on": "2024-03-15",
    "person": {
        "birth_date": "1934-02-10",
        "sex": "female",
        "dibao": True,
        "self_care_unable": True,
        "ability_level": 3,
        "living_arrangement": "alone",
    },
}


def mix() -> list[tuple[str, str, str, Any]]:
    """(name, method, path, json body or a factory) with weights by repetition."""
    calculation = {
        "program": "dibao",
        "jurisdiction": "211100",
        "month": "2024-08",
        "household_size": 3,
        "per_capita_income": "500.00",
    }
    return (
        [("GET standards", "GET", "/api/welfare/v1/standards?jurisdiction=211100&on=2024-07-01", None)] * 6
        + [("POST calculations", "POST", "/api/welfare/v1/calculations", calculation)] * 5
        + [("GET tasks?lead_unit", "GET", f"{PLAN}/tasks?lead_unit=市工业和信息化局", None)] * 3
        + [("GET task", "GET", f"{PLAN}/tasks/11", None)] * 2
        + [
            (
                "POST households",
                "POST",
                "/api/welfare/v1/households",
                lambda: {"jurisdiction": "211102", "address": f"负载测试 {uuid.uuid4().hex[:8]}"},
            )
        ]
        * 2
        + [
            (
                "POST equipment",
                "POST",
                "/api/renewal/v1/equipment/assessments",
                {"kind": "tractor", "in_service_since": "2008-05-01", "on": "2024-06-01"},
            )
        ]
        * 2
        + [("POST evaluations", "POST", "/api/eldercare/v1/evaluations", EVALUATION)] * 4
        + [
            (
                "POST grading",
                "POST",
                "/api/appraisal/v1/grading",
                {
                    "scheme": "panjin",
                    "subjects": [
                        {"id": "211102", "base": 92.5, "ad_hoc": 10, "bonus": 4, "provincial_bonus": 1},
                        {"id": "211103", "base": 90, "ad_hoc": 12, "bonus": 2},
                        {"id": "211104", "base": 88, "ad_hoc": 9, "bonus": 3, "downgrades": 1},
                        {"id": "211122", "base": 85, "ad_hoc": 8, "bonus": 1},
                    ],
                },
            )
        ]
        * 2
    )


class Sampler(threading.Thread):
    def __init__(self, supervisor: Supervisor) -> None:
        super().__init__(daemon=True)
        self.processes = {c.name: psutil.Process(c.process.pid) for c in supervisor.children if c.process}
        self.peak = dict.fromkeys(self.processes, 0)
        self.cpu_start = {name: cpu_seconds(process) for name, process in self.processes.items()}
        self.cpu_used: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for name, process in self.processes.items():
                with contextlib.suppress(psutil.Error):
                    self.peak[name] = max(self.peak[name], process.memory_info().rss)
            time.sleep(0.1)
        self.cpu_used = {
            name: cpu_seconds(process) - self.cpu_start[name] for name, process in self.processes.items()
        }


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def served_by(results: dict[str, list[tuple[float, int]]]) -> dict[str, int]:
    """Requests each process served: the gateway all of them, a service those under its path."""
    paths = {name: path for name, _, path, _ in mix()}
    served = dict.fromkeys(SERVICE_PORTS, 0)
    for name, samples in results.items():
        served["gateway"] += len(samples)
        service = paths[name].split("/")[2]
        served[service] += len(samples)
    return served


async def drive(gateway: str, seconds: float, concurrency: int) -> dict[str, list[tuple[float, int]]]:
    results: dict[str, list[tuple[float, int]]] = defaultdict(list)
    calls = mix()
    async with aiohttp.ClientSession(base_url=gateway) as session:
        async with session.post(
            "/auth/token", data={"grant_type": "password", "username": ADMIN[0], "password": ADMIN[1]}
        ) as response:
            token = (await response.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + seconds

        async def worker(seed: int) -> None:
            chooser = random.Random(seed)
            while time.monotonic() < deadline:
                name, method, path, body = chooser.choice(calls)
                payload = body() if callable(body) else body
                started = time.perf_counter()
                try:
                    async with session.request(method, path, json=payload, headers=headers) as response:
                        await response.read()
                        status = response.status
                except aiohttp.ClientError:
                    status = 0
                results[name].append((time.perf_counter() - started, status))

        await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    url = database.with_database(database.server_url(), "civic_bench_load")
    asyncio.run(database.ensure_database(url, recreate=True))
    prepared = migrate.prepare(url)
    os.environ["BOOTSTRAP_ADMIN_USERNAME"], os.environ["BOOTSTRAP_ADMIN_PASSWORD"] = ADMIN
    os.environ["GATEWAY_RATE_LIMIT_PER_MINUTE"] = "100000000"
    for name in SERVICE_PORTS:
        os.environ[f"{name.upper()}_LOG_LEVEL"] = "WARNING"
    ensure_feed_client(url)  # eldercare follows welfare's events with it
    supervisor = Supervisor(
        url, ports={name: free_port() for name in SERVICE_PORTS}, database_urls=prepared.runtime_urls
    )
    supervisor.start_all()
    try:
        if not wait_until_ready(f"{supervisor.gateway_url}/readyz", timeout=60):
            print("platform did not become ready", file=sys.stderr)
            return 1
        sampler = Sampler(supervisor)
        sampler.start()
        results = asyncio.run(drive(supervisor.gateway_url, args.seconds, args.concurrency))
        sampler.stop.set()
        sampler.join()
    finally:
        supervisor.stop_all()
    total = sum(len(v) for v in results.values())
    print(
        f"\nLoad mix through the gateway: {args.seconds:.0f} s, {args.concurrency} concurrent clients, "
        f"{total} requests, {total / args.seconds:.0f} req/s overall"
    )
    print(f"{'endpoint':<22}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'errors':>8}")
    for name, samples in sorted(results.items()):
        latencies = sorted(s for s, _ in samples)
        errors = sum(1 for _, status in samples if not 200 <= status < 300)
        q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
        print(
            f"{name:<22}{len(samples):>9}{len(samples) / args.seconds:>8.0f}{q[49] * 1000:>8.1f}"
            f"{q[94] * 1000:>8.1f}{q[98] * 1000:>8.1f}{errors:>8}"
        )
    print("peak RSS: " + ", ".join(f"{name} {rss / 2**20:.0f} MiB" for name, rss in sampler.peak.items()))
    served = served_by(results)
    print(
        "CPU: "
        + ", ".join(
            f"{name} {used / args.seconds:.2f} cores "
            f"({1000 * used / max(1, served[name]):.2f} ms per request)"
            for name, used in sampler.cpu_used.items()
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
