"""Eldercare at scale: a month of entitlements for N registered persons, and one evaluation.

Seeds N persons (default 100,000) with SQL across Zhumadian's counties and districts,
birth dates spread over ages 60–104 and circumstances in realistic shares (dibao,
tekun, ability levels, disability grades, living arrangements, family-planning special
families, …), then, with the platform running:
  1. POST /api/eldercare/v1/snapshots {"jurisdiction": "411700", "month": "2024-04"} through
     the gateway: evaluates and stores the month for every person (timed, with the
     eldercare process's peak memory);
  2. POST /api/eldercare/v1/evaluations through the gateway, one request at a time, after
     a warm-up: p50 / p99 over the requests (profiles rotate, item 13 included).

    .venv/bin/python benchmarks/eldercare_month.py [-n 100000] [--requests 500]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import asyncpg
import httpx
import psutil

from platformctl import database, migrate
from platformctl.supervisor import SERVICE_PORTS, Supervisor, wait_until_ready
from platformctl.testing import free_port

ADMIN = ("bench-admin", "bench-admin-password-123")
MONTH = "2024-04"

# One person per i; random() after setseed() is repeatable. Shares are rough national
# orders of magnitude, so that most persons have no special circumstance, as in a register.
SEED_SQL = """
SET search_path = eldercare;
SELECT setseed(0.42);
CREATE TEMP TABLE seed AS
SELECT i,
       md5('p' || i)::uuid AS id,
       (ARRAY['411702','411721','411722','411723','411724','411725','411726','411727','411728',
              '411729'])[1 + i % 10] AS jurisdiction,
       DATE '1919-06-01' + (random() * 16100)::int AS birth_date,
       random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5,
       random() AS r6, random() AS r7
FROM generate_series(1, {n}) i;
INSERT INTO persons (id, jurisdiction, name, citizen_id_hash, citizen_id_cipher, citizen_id_masked,
                     birth_date, sex, version)
SELECT id, jurisdiction, '测试老人' || i, md5('h' || i) || md5('k' || i), decode(md5('c' || i), 'hex'),
       '4117**********' || lpad((i % 10000)::text, 4, '0'), birth_date,
       CASE WHEN i % 2 = 0 THEN 'female' ELSE 'male' END, 1
FROM seed;
INSERT INTO circumstances (person_id, effective_from, pension_age_reached, pension_scheme, ability_level,
    self_care_unable, has_disability_certificate, disability_grade, needs_long_term_care, dibao, tekun,
    low_income_edge, expenditure_hardship, relapsed_into_poverty, still_in_hardship, living_arrangement,
    family_planning_special, special_contribution_group, has_able_supporter, homeless, recorded_by)
SELECT id, DATE '2020-01-01',
       r1 < 0.95,
       CASE WHEN r1 < 0.30 THEN 'employee' WHEN r1 < 0.95 THEN 'resident' END,
       CASE WHEN r2 < 0.70 THEN 0 WHEN r2 < 0.82 THEN 1 WHEN r2 < 0.90 THEN 2 WHEN r2 < 0.96 THEN 3
            WHEN r2 < 0.98 THEN 4 END,
       r2 >= 0.96,
       r3 < 0.06,
       CASE WHEN r3 < 0.01 THEN 1 WHEN r3 < 0.025 THEN 2 WHEN r3 < 0.04 THEN 3 WHEN r3 < 0.06 THEN 4 END,
       r3 < 0.02 AND r2 >= 0.90,
       r4 < 0.06,
       CASE WHEN r4 >= 0.985 THEN 'dispersed' WHEN r4 >= 0.98 THEN 'concentrated' END,
       r4 BETWEEN 0.06 AND 0.08,
       r4 BETWEEN 0.08 AND 0.09,
       r4 BETWEEN 0.09 AND 0.10,
       r4 < 0.01,
       CASE WHEN r5 < 0.10 THEN 'alone' WHEN r5 < 0.35 THEN 'empty_nest' WHEN r5 < 0.40 THEN 'left_behind'
            ELSE 'with_family' END,
       CASE WHEN r6 < 0.005 THEN 'child_died' WHEN r6 < 0.01 THEN 'child_disabled' END,
       r7 < 0.003,
       r7 >= 0.2,
       r7 BETWEEN 0.1 AND 0.1005,
       'benchmark'
FROM seed;
ANALYZE;
"""

PROFILES: list[dict[str, Any]] = [
    {"birth_date": "1933-06-01", "living_arrangement": "alone"},
    {
        "birth_date": "1940-02-10",
        "dibao": True,
        "self_care_unable": True,
        "disability_grade": 1,
        "needs_long_term_care": True,
    },
    {"birth_date": "1950-05-01", "tekun": "dispersed", "ability_level": 2},
    {"birth_date": "1958-11-30", "pension_age_reached": True, "pension_scheme": "resident"},
    {"birth_date": "1922-01-01", "family_planning_special": "child_died", "ability_level": 1},
]


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def seed(url: str, n: int) -> float:
    connection = await asyncpg.connect(dsn(url))
    started = time.perf_counter()
    await connection.execute(SEED_SQL.format(n=n))
    await connection.close()
    return time.perf_counter() - started


class MemorySampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = self.process.memory_info().rss
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.05)


async def token(client: httpx.AsyncClient) -> dict[str, str]:
    response = await client.post(
        "/auth/token", data={"grant_type": "password", "username": ADMIN[0], "password": ADMIN[1]}
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def snapshot(gateway: str) -> tuple[float, dict[str, Any]]:
    async with httpx.AsyncClient(base_url=gateway, timeout=120) as client:
        headers = await token(client)
        started = time.perf_counter()
        response = await client.post(
            "/api/eldercare/v1/snapshots", json={"jurisdiction": "411700", "month": MONTH}, headers=headers
        )
        elapsed = time.perf_counter() - started
        response.raise_for_status()
        return elapsed, response.json()


async def latencies(gateway: str, requests: int, warmup: int) -> list[float]:
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as client:
        headers = await token(client)
        timings = []
        for index in range(warmup + requests):
            body = {"jurisdiction": "411702", "on": "2024-04-15", "person": PROFILES[index % len(PROFILES)]}
            started = time.perf_counter()
            response = await client.post("/api/eldercare/v1/evaluations", json=body, headers=headers)
            elapsed = time.perf_counter() - started
            response.raise_for_status()
            if index >= warmup:
                timings.append(elapsed * 1000)
        return timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=100_000, help="registered persons to seed")
    parser.add_argument("--requests", type=int, default=500, help="single evaluations to time")
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()
    url = database.with_database(database.server_url(), "civic_bench_eldercare")
    asyncio.run(database.ensure_database(url, recreate=True))
    migrate.upgrade_all(url)
    seeded = asyncio.run(seed(url, args.n))
    print(f"seeded {args.n:,} persons with their circumstances in {seeded:.1f}s", flush=True)
    os.environ["BOOTSTRAP_ADMIN_USERNAME"], os.environ["BOOTSTRAP_ADMIN_PASSWORD"] = ADMIN
    os.environ["GATEWAY_RATE_LIMIT_PER_MINUTE"] = "100000000"
    for name in SERVICE_PORTS:
        os.environ[f"{name.upper()}_LOG_LEVEL"] = "WARNING"
    supervisor = Supervisor(url, ports={name: free_port() for name in SERVICE_PORTS})
    supervisor.start_all()
    try:
        if not wait_until_ready(f"{supervisor.gateway_url}/readyz", timeout=60):
            print("platform did not become ready", file=sys.stderr)
            return 1
        eldercare = next(c for c in supervisor.children if c.name == "eldercare")
        assert eldercare.process is not None
        sampler = MemorySampler(eldercare.process.pid)
        idle = sampler.peak
        sampler.start()
        seconds, run = asyncio.run(snapshot(supervisor.gateway_url))
        sampler.stop.set()
        sampler.join()
        timings = asyncio.run(latencies(supervisor.gateway_url, args.requests, args.warmup))
    finally:
        supervisor.stop_all()
    print(f"\nEldercare month, n={args.n:,} registered persons, month {MONTH}")
    print(
        f"  snapshot through the gateway: {seconds:.2f}s (target ≤ 10 s); "
        f"{run['persons_created']:,} snapshots stored, {run['distinct_profiles']:,} distinct profiles "
        f"evaluated, {run['degraded']:,} degraded"
    )
    print(f"  persons per second: {run['persons_created'] / seconds:,.0f}")
    print(
        f"  RSS of the eldercare service: {idle / 2**20:.0f} MiB before the snapshot, "
        f"peak {sampler.peak / 2**20:.0f} MiB during it"
    )
    print(
        f"  one evaluation through the gateway ({len(timings)} requests, one at a time): "
        f"p50 {statistics.median(timings):.2f} ms, p99 {percentile(timings, 0.99):.2f} ms "
        f"(target p99 ≤ 20 ms), max {max(timings):.2f} ms"
    )
    ok = seconds <= 10 and percentile(timings, 0.99) <= 20 and run["persons_created"] == args.n
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
