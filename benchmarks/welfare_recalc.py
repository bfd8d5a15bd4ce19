"""Welfare recalculation at scale: N enrolments, two months paid at 792.00, then 800.00.

Seeds N dibao enrolments in 211102 with July and August 2024 paid at the old standard
(792.00, 盘政办发〔2021〕11号), then, in one run:
  1. the floor: a bare INSERT … SELECT of the same arrears rows into the same indexed
     ledger table (rolled back afterwards);
  2. the real job: POST /api/welfare/v1/recalculations through the gateway, polled to
     the end, while the welfare process's memory is sampled.
Prints enrolments per second, the ratio to the floor and the peak RSS of the service.

    .venv/bin/python benchmarks/welfare_recalc.py [-n 1000000] [--database civic_bench_welfare]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

# Run as a file, this folder comes first on sys.path and gateway.py here would shadow the
# gateway package: drop the folder, and reach benchmarks.measuring from the repository's root.
HERE = Path(__file__).resolve().parent
sys.path[:] = [*(p for p in sys.path if Path(p or ".").resolve() != HERE), str(HERE.parent)]

import httpx

from benchmarks.measuring import MemorySampler, floor, seed
from platformctl import database, migrate
from platformctl.supervisor import SERVICE_PORTS, Supervisor, wait_until_ready
from platformctl.testing import ensure_feed_client, free_port

ADMIN = ("bench-admin", "bench-admin-password-123")
JURISDICTION = "211102"

SEED_SQL = """
SET search_path = welfare;
INSERT INTO households (id, jurisdiction, address, version)
    SELECT md5('h' || i)::uuid, '{j}', '盘锦市双台子区 ' || i || ' 号', 1 FROM generate_series(1, {n}) i;
INSERT INTO enrolments (id, program, jurisdiction, household_id, covered_members, start_month, status,
                        decision_by, decision_on, decision_reference, version)
    SELECT md5('e' || i)::uuid, 'dibao', '{j}', md5('h' || i)::uuid, 1 + i % 4, '2024-01-01', 'active',
           'benchmark', '2024-01-01', 'BENCH-' || i, 1
    FROM generate_series(1, {n}) i;
INSERT INTO income_assessments (enrolment_id, effective_month, per_capita_income, assessed_on, reference,
                                recorded_by)
    SELECT md5('e' || i)::uuid, '2024-01-01', (i % 700)::numeric, '2024-01-01', 'BENCH-' || i, 'benchmark'
    FROM generate_series(1, {n}) i;
INSERT INTO ledger_entries (enrolment_id, jurisdiction, month, kind, amount)
    SELECT e.id, e.jurisdiction, m.month, 'regular',
           GREATEST(0, 792.00 - a.per_capita_income) * e.covered_members
    FROM enrolments e JOIN income_assessments a ON a.enrolment_id = e.id,
         (VALUES ('2024-07-01'::date), ('2024-08-01'::date)) AS m(month)
    WHERE e.jurisdiction = '{j}';
ANALYZE;
"""

FLOOR_SQL = """
INSERT INTO welfare.ledger_entries (enrolment_id, jurisdiction, month, kind, amount, corrects_entry_id)
SELECT l.enrolment_id, l.jurisdiction, l.month, 'arrears', 8.00 * e.covered_members, l.id
FROM welfare.ledger_entries l JOIN welfare.enrolments e ON e.id = l.enrolment_id
WHERE l.kind = 'regular' AND l.jurisdiction = '{j}' AND l.month >= '2024-07-01'
"""


async def recalculate(gateway: str) -> tuple[float, dict[str, object]]:
    async with httpx.AsyncClient(base_url=gateway, timeout=60) as client:
        token = (
            await client.post(
                "/auth/token", data={"grant_type": "password", "username": ADMIN[0], "password": ADMIN[1]}
            )
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        started = time.perf_counter()
        response = await client.post(
            "/api/welfare/v1/recalculations",
            json={"jurisdiction": JURISDICTION, "from_month": "2024-07"},
            headers=headers,
        )
        response.raise_for_status()
        run = response.json()
        while run["status"] in ("queued", "running"):
            await asyncio.sleep(0.2)
            run = (await client.get(f"/api/welfare/v1/recalculations/{run['id']}", headers=headers)).json()
        return time.perf_counter() - started, run


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=1_000_000, help="enrolments to seed")
    parser.add_argument(
        "--database", default="civic_bench_welfare", help="database to create (dropped and made again)"
    )
    args = parser.parse_args()
    url = database.with_database(database.server_url(), args.database)
    asyncio.run(database.ensure_database(url, recreate=True))
    migrate.upgrade_all(url)
    seeded = asyncio.run(seed(url, SEED_SQL.format(n=args.n, j=JURISDICTION)))
    print(f"seeded {args.n:,} enrolments and {2 * args.n:,} paid months in {seeded:.1f}s", flush=True)
    floor_seconds, floor_rows = asyncio.run(floor(url, FLOOR_SQL.format(j=JURISDICTION)))
    os.environ["BOOTSTRAP_ADMIN_USERNAME"], os.environ["BOOTSTRAP_ADMIN_PASSWORD"] = ADMIN
    for name in SERVICE_PORTS:
        os.environ[f"{name.upper()}_LOG_LEVEL"] = "WARNING"
    ensure_feed_client(url)  # eldercare follows welfare's events with it
    supervisor = Supervisor(url, ports={name: free_port() for name in SERVICE_PORTS})
    supervisor.start_all()
    try:
        if not wait_until_ready(f"{supervisor.gateway_url}/readyz", timeout=60):
            print("platform did not become ready", file=sys.stderr)
            return 1
        welfare = next(c for c in supervisor.children if c.name == "welfare")
        assert welfare.process is not None
        sampler = MemorySampler(welfare.process.pid)
        sampler.start()
        seconds, run = asyncio.run(recalculate(supervisor.gateway_url))
        sampler.stop.set()
        sampler.join()
    finally:
        supervisor.stop_all()
    print(f"\nWelfare recalculation, n={args.n:,} ({2 * args.n:,} enrolment-months)")
    print(f"  floor (bare INSERT … SELECT of {floor_rows:,} arrears rows): {floor_seconds:.1f}s")
    print(
        f"  recalculation job: {seconds:.1f}s, status {run['status']}, "
        f"{run['arrears_entries']:,} arrears entries, total {run['arrears_total']}"
    )
    print(f"  enrolments per second: {args.n / seconds:,.0f}")
    print(f"  ratio to the floor: {seconds / floor_seconds:.2f}")
    print(f"  peak RSS of the welfare service: {sampler.peak / 2**20:.0f} MiB")
    return 0 if run["status"] == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
