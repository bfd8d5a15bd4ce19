"""Eldercare at scale: a month of entitlements for N registered persons, at each of several N.

For each size (default 100,000 and 1,500,000, in one command), seeds N persons with SQL
across Zhumadian's counties and districts, birth dates spread over ages 60–104 and
circumstances in realistic shares (dibao, tekun, ability levels, disability grades, living
arrangements, family-planning special families, …).
With the platform running, for each size:
  0. the floor: one bare ``INSERT … SELECT`` writing the same N snapshot rows from the same
     inputs (persons joined to the circumstances in force, and to welfare's status where the
     month reads dibao from the projection) into the same indexed table, without evaluating
     anything (after a checkpoint; rolled back and the table vacuumed, so the month starts
     from the same table, after a checkpoint too);
  1. POST /api/eldercare/v1/snapshots {"jurisdiction": "411700",
     "month": "2024-04"} through the gateway (202) and poll the run until it ends, nothing else
     running (as the floor ran): timed, with the eldercare process's peak memory; 0 and 1 are
     done --repeat times in turn (the disk's pace moves both from one minute to the next) and
     their medians compared;
  2. the month cleared, the same again while single evaluations go through the gateway one at
     a time (profiles rotate, item 13 included): their p50 / p99, beside a baseline of 10 s of
     them before the month (the machine as it is); the month's time under that load too;
  3. GET /api/eldercare/v1/discoveries for the city and one month (April 2024), timed.
Prints persons/s and the ratio to the floor at each size, and persons/s at the largest size
against the smallest.

    .venv/bin/python benchmarks/eldercare_month.py [--sizes 100000 1500000] [--keep]
        [--welfare-share 0.08] [--dibao-source projection|register] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

# Run as a file, this folder comes first on sys.path and gateway.py here would shadow the
# gateway package: drop the folder, and reach benchmarks.measuring from the repository's root.
HERE = Path(__file__).resolve().parent
sys.path[:] = [*(p for p in sys.path if Path(p or ".").resolve() != HERE), str(HERE.parent)]

import asyncpg
import httpx

from benchmarks.measuring import MemorySampler, checkpoint, dsn, floor, seed
from eldercare.projection import service as projection
from platformctl import database, migrate
from platformctl.supervisor import SERVICE_PORTS, Supervisor, wait_until_ready
from platformctl.testing import ensure_feed_client, free_port

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

# Eldercare's projection of welfare's register (what welfare's events would have filled): a
# share of the persons known to welfare by citizen ID, three in four of them in a dibao
# household, the others in tekun (scattered or concentrated care), from 2020 on.
PROJECTION_SQL = """
SET search_path = eldercare;
TRUNCATE welfare_enrolments, welfare_persons;
INSERT INTO welfare_persons (person_id, jurisdiction, household_id, citizen_id_hash, version)
SELECT md5('w' || p.id::text)::uuid, p.jurisdiction, md5('hh' || p.id::text)::uuid, p.citizen_id_hash, 1
FROM persons p WHERE abs(hashtext(p.id::text)) % 1000 < {permille};
INSERT INTO welfare_enrolments (enrolment_id, program, jurisdiction, household_id, person_id, start_month,
                                end_month, status, arrangement, version)
SELECT md5('e' || wp.person_id::text)::uuid,
       CASE WHEN abs(hashtext(wp.person_id::text)) % 4 < 3 THEN 'dibao' ELSE 'tekun' END,
       wp.jurisdiction,
       CASE WHEN abs(hashtext(wp.person_id::text)) % 4 < 3 THEN wp.household_id END,
       CASE WHEN abs(hashtext(wp.person_id::text)) % 4 < 3 THEN NULL ELSE wp.person_id END,
       DATE '2020-01-01', NULL, 'active',
       CASE WHEN abs(hashtext(wp.person_id::text)) % 4 < 3 THEN NULL
            WHEN abs(hashtext(wp.person_id::text)) % 8 = 3 THEN 'concentrated' ELSE 'scattered' END,
       1
FROM welfare_persons wp;
ANALYZE welfare_persons, welfare_enrolments;
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


FLOOR_PROFILES = ("00000000-0000-0000-0000-00000000f100", "00000000-0000-0000-0000-00000000f101")
FLOOR_SQL = """
INSERT INTO eldercare.snapshot_profiles
    (id, catalogue_version, monthly_total, complete, degraded, entitlements)
VALUES ('{zero}', 'floor', 0, true, false, '[]'),
       ('{one}', 'floor', 0, true, false, '[]');
INSERT INTO eldercare.entitlement_snapshots (person_id, month, jurisdiction, run_id, profile_id)
SELECT p.id, DATE '{month}-01', p.jurisdiction, '00000000-0000-0000-0000-00000000f000',
       CASE WHEN {dibao} THEN '{one}'::uuid ELSE '{zero}'::uuid END
FROM eldercare.persons p
JOIN eldercare.circumstances c
  ON c.person_id = p.id AND c.effective_from <= DATE '{month}-01'
      AND (c.superseded_from IS NULL OR c.superseded_from > DATE '{month}-01')
{welfare}
WHERE p.birth_date <= DATE '{month}-01' AND (p.left_on IS NULL OR p.left_on > DATE '{month}-01')
"""


def floor_sql(dibao_source: str) -> str:
    """The floor's SQL: each person's dibao status read where the month reads it (with the
    projection: welfare's status of the persons it knows, the register's for the others), so
    that the floor writes its rows from the same inputs."""
    dibao, welfare = "c.dibao", ""
    if dibao_source == "projection":
        dibao = projection.projected_fact("dibao", "c.dibao") or dibao
        welfare = projection.projected_join("p", f"DATE '{MONTH}-01'")
    return FLOOR_SQL.format(
        zero=FLOOR_PROFILES[0], one=FLOOR_PROFILES[1], month=MONTH, dibao=dibao, welfare=welfare
    )


async def token(client: httpx.AsyncClient) -> dict[str, str]:
    response = await client.post(
        "/auth/token", data={"grant_type": "password", "username": ADMIN[0], "password": ADMIN[1]}
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def evaluations(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    done: asyncio.Event,
    moments: list[float] | None = None,
) -> list[float]:
    """Single evaluations one at a time (after a warm-up of 20) until ``done``; milliseconds
    (``moments``: when each of them began, on the ``time.perf_counter`` clock)."""
    timings = []
    index = 0
    while not done.is_set():
        body = {"jurisdiction": "411702", "on": "2024-04-15", "person": PROFILES[index % len(PROFILES)]}
        started = time.perf_counter()
        response = await client.post("/api/eldercare/v1/evaluations", json=body, headers=headers)
        elapsed = time.perf_counter() - started
        response.raise_for_status()
        if index >= 20:
            timings.append(elapsed * 1000)
            if moments is not None:
                moments.append(started)
        index += 1
        await asyncio.sleep(0.02)
    return timings


TIMELINE = os.environ.get("BENCH_TIMELINE")
"""A file to write the month's timeline to (each single evaluation's start and duration, and
the run's progress as polled), for finding which phase slows them; unset: none."""

BASELINE_SECONDS = 10.0
"""Single evaluations sampled before the month, on the same machine at the same time: what the
p99 is without a month running."""


async def month(
    gateway: str, *, probed: bool
) -> tuple[float, dict[str, Any], list[float], list[float], dict[str, Any]]:
    """The month through the gateway: POST (202), then poll until the run ends. ``probed``:
    single evaluations one at a time before it (the baseline) and while it runs; otherwise
    nothing else runs meanwhile (the month as the floor is measured, alone)."""
    async with httpx.AsyncClient(base_url=gateway, timeout=60) as client:
        headers = await token(client)
        baseline: list[float] = []
        done = asyncio.Event()
        moments: list[float] = []
        sampling = None
        if probed:
            quiet = asyncio.Event()
            asyncio.get_running_loop().call_later(BASELINE_SECONDS, quiet.set)
            baseline = await evaluations(client, headers, quiet)
            sampling = asyncio.create_task(evaluations(client, headers, done, moments))
        started = time.perf_counter()
        response = await client.post(
            "/api/eldercare/v1/snapshots", json={"jurisdiction": "411700", "month": MONTH}, headers=headers
        )
        response.raise_for_status()
        location = response.headers["Location"]
        run: dict[str, Any] = response.json()
        polls: list[tuple[float, int, int]] = []
        while run["status"] in ("queued", "running"):
            await asyncio.sleep(0.2)
            run = (await client.get(location, headers=headers)).json()
            polls.append((time.perf_counter() - started, run["done"], run["distinct_profiles"]))
        elapsed = time.perf_counter() - started
        done.set()
        timings = await sampling if sampling is not None else []
        # when each single evaluation began (seconds after the POST) and took, beside the run's
        # progress as polled: which phase of the month the slow ones fall in
        timeline = {
            "evaluations": [[m - started, t] for m, t in zip(moments, timings, strict=True)],
            "polls": polls,
        }
        return elapsed, run, timings, baseline, timeline


async def discovery(gateway: str) -> tuple[float, int]:
    async with httpx.AsyncClient(base_url=gateway, timeout=120) as client:
        headers = await token(client)
        started = time.perf_counter()
        response = await client.get(
            "/api/eldercare/v1/discoveries",
            params={"jurisdiction": "411700", "from": f"{MONTH}-01", "to": f"{MONTH}-30", "limit": 50},
            headers=headers,
        )
        elapsed = time.perf_counter() - started
        response.raise_for_status()
        return elapsed, int(response.json()["total"])


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def seeded_persons(url: str) -> int | None:
    """How many persons the database at ``url`` holds (None: no such database or register)."""
    try:
        connection = await asyncpg.connect(dsn(url))
    except asyncpg.InvalidCatalogNameError:
        return None
    try:
        return int(await connection.fetchval("SELECT count(*) FROM eldercare.persons"))
    except asyncpg.UndefinedTableError:
        return None
    finally:
        await connection.close()


async def clear_months(url: str) -> None:
    """Forget every snapshot, run and profile (a kept database measured again)."""
    connection = await asyncpg.connect(dsn(url))
    await connection.execute(
        "TRUNCATE eldercare.entitlement_snapshots, eldercare.snapshot_profile_keys, "
        "eldercare.snapshot_runs, eldercare.snapshot_profiles, eldercare.snapshot_run_welfare"
    )
    await connection.execute("ANALYZE")
    await connection.close()


def prepare(n: int, url: str, *, keep: bool) -> None:
    """A database of ``n`` seeded persons: made and seeded, or (``keep``) the one kept from
    an earlier run of the same size, migrated to head and without any month."""
    if keep and asyncio.run(seeded_persons(url)) == n:
        migrate.upgrade_all(url)
        asyncio.run(clear_months(url))
        print(f"reusing the {n:,} persons seeded before in {database.database_name(url)}", flush=True)
        return
    asyncio.run(database.ensure_database(url, recreate=True))
    migrate.upgrade_all(url)
    seeded = asyncio.run(seed(url, SEED_SQL.format(n=n)))
    print(f"seeded {n:,} persons with their circumstances in {seeded:.1f}s", flush=True)


def measure(
    n: int,
    name: str,
    *,
    keep: bool = False,
    welfare_share: float = 0.0,
    dibao_source: str = "projection",
    repeat: int = 3,
) -> dict[str, Any]:
    url = database.with_database(database.server_url(), f"{name}_{n}" if keep else name)
    prepare(n, url, keep=keep)
    projected = asyncio.run(seed(url, PROJECTION_SQL.format(permille=round(welfare_share * 1000))))
    print(
        f"projection of welfare's register: {welfare_share:.0%} of the persons, {projected:.1f}s", flush=True
    )
    for _ in range(3):  # a free port may be taken by another process before a service binds it
        ensure_feed_client(url)  # eldercare follows welfare's events with it
        supervisor = Supervisor(url, ports={name: free_port() for name in SERVICE_PORTS})
        supervisor.start_all()
        if wait_until_ready(f"{supervisor.gateway_url}/readyz", timeout=60):
            break
        supervisor.stop_all()
    else:
        raise RuntimeError("the platform did not become ready")
    floors: list[float] = []
    months: list[float] = []
    statuses: list[str] = []
    try:
        eldercare = next(c for c in supervisor.children if c.name == "eldercare")
        assert eldercare.process is not None
        sampler = MemorySampler(eldercare.process.pid)
        idle = sampler.peak
        sampler.start()
        # the floor and the month alone, one after the other, ``repeat`` times: the disk's pace
        # moves both by a fifth from one minute to the next, so each ratio compares neighbours
        for _ in range(repeat):
            floor_seconds, floor_rows = asyncio.run(
                floor(
                    url,
                    floor_sql(dibao_source),
                    vacuum=["eldercare.entitlement_snapshots", "eldercare.snapshot_profiles"],
                )
            )
            floors.append(floor_seconds)
            asyncio.run(checkpoint(url))
            seconds, run, _, _, _ = asyncio.run(month(supervisor.gateway_url, probed=False))
            months.append(seconds)
            statuses.append(run["status"])
            print(
                f"floor {floor_rows:,} rows in {floor_seconds:.1f}s; the month alone {seconds:.1f}s "
                f"({run['status']}): {seconds / floor_seconds:.2f}× the floor",
                flush=True,
            )
            asyncio.run(clear_months(url))
        # the month again, with single evaluations through the gateway meanwhile
        asyncio.run(checkpoint(url))
        probed_seconds, probed_run, timings, baseline, timeline = asyncio.run(
            month(supervisor.gateway_url, probed=True)
        )
        if TIMELINE:
            Path(TIMELINE).write_text(json.dumps(timeline))
        sampler.stop.set()
        sampler.join()
        discovery_seconds, discovered = asyncio.run(discovery(supervisor.gateway_url))
    finally:
        supervisor.stop_all()
    seconds, floor_seconds = statistics.median(months), statistics.median(floors)
    result = {
        "n": n,
        "seconds": seconds,
        "run": run,
        "probed_seconds": probed_seconds,
        "probed_run": probed_run,
        "floor_seconds": floor_seconds,
        "floor_rows": floor_rows,
        "floors": floors,
        "months": months,
        "statuses": statuses,
        "rss_idle": idle,
        "rss_peak": sampler.peak,
        "timings": timings,
        "baseline": baseline,
        "discovery_seconds": discovery_seconds,
        "discovered": discovered,
    }
    report(result)
    return result


def report(r: dict[str, Any]) -> None:
    run, seconds, timings = r["run"], r["seconds"], r["timings"]
    print(f"\nEldercare month, n={r['n']:,} registered persons, month {MONTH}")
    print(
        f"  month through the gateway (202, polled to the end), alone, median of {len(r['months'])}: "
        f"{seconds:.1f}s ({', '.join(f'{m:.1f}' for m in r['months'])}), status {run['status']}; "
        f"{run['persons_created']:,} snapshots stored, {run['distinct_profiles']:,} distinct profiles "
        f"evaluated, {run['degraded']:,} degraded"
    )
    print(f"  persons per second: {run['persons_created'] / seconds:,.0f}")
    if run.get("started_at") and run.get("finished_at"):
        created, started, finished = (
            dt.datetime.fromisoformat(run[name]) for name in ("created_at", "started_at", "finished_at")
        )
        print(
            f"  the run itself (started_at → finished_at): {(finished - started).total_seconds():.1f}s, "
            f"{(started - created).total_seconds():.1f}s after it was recorded"
        )
    print(
        f"  floor (bare INSERT … SELECT of {r['floor_rows']:,} rows), median: {r['floor_seconds']:.1f}s "
        f"({', '.join(f'{f:.1f}' for f in r['floors'])}); ratio of the medians: "
        f"{seconds / r['floor_seconds']:.2f} (each month to the floor before it: "
        f"{', '.join(f'{m / f:.2f}' for m, f in zip(r['months'], r['floors'], strict=True))})"
    )
    probed, probed_run = r["probed_seconds"], r["probed_run"]
    print(
        f"  RSS of the eldercare service: {r['rss_idle'] / 2**20:.0f} MiB before the months, "
        f"peak {r['rss_peak'] / 2**20:.0f} MiB during them"
    )
    print(
        f"  the month again with single evaluations meanwhile: {probed:.1f}s, status {probed_run['status']}, "
        f"{probed_run['persons_created']:,} snapshots; ratio to the floor: {probed / r['floor_seconds']:.2f}"
    )
    print(
        f"  single evaluations through the gateway while it ran ({len(timings)} requests): "
        f"p50 {percentile(timings, 0.5):.1f} ms, p99 {percentile(timings, 0.99):.1f} ms"
    )
    baseline = r["baseline"]
    print(
        f"  the same, in the {BASELINE_SECONDS:.0f} s before the month ({len(baseline)} requests, no month "
        f"running): p50 {percentile(baseline, 0.5):.1f} ms, p99 {percentile(baseline, 0.99):.1f} ms"
    )
    print(
        f"  discovery, the city and one month: {r['discovery_seconds']:.2f}s ({r['discovered']:,} found)",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[100_000, 1_500_000], help="registered persons, per run"
    )
    parser.add_argument(
        "--database", default="civic_bench_eldercare", help="database to create (dropped and made again)"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep one database per size (<database>_<n>) and reuse it when it holds n persons "
        "(its months are cleared first): no seeding on the next run",
    )
    parser.add_argument(
        "--welfare-share",
        type=float,
        default=0.08,
        help="share of the persons eldercare's projection of welfare's register knows (dibao or tekun)",
    )
    parser.add_argument(
        "--dibao-source",
        choices=["projection", "register"],
        default="projection",
        help="where the month reads dibao and tekun (ELDERCARE_DIBAO_STATUS_SOURCE): the projection "
        "(the default, as deployed) or the register's recorded circumstances (the month without it)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="floor and month alone, one after the other, this many times (medians reported)",
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1 (the floor and the month are compared by their medians)")
    os.environ["ELDERCARE_DIBAO_STATUS_SOURCE"] = args.dibao_source
    known = f"{args.welfare_share:.0%}"
    print(
        f"dibao and tekun from the {args.dibao_source}; the projection knows {known} of the persons",
        flush=True,
    )
    os.environ["BOOTSTRAP_ADMIN_USERNAME"], os.environ["BOOTSTRAP_ADMIN_PASSWORD"] = ADMIN
    os.environ["GATEWAY_RATE_LIMIT_PER_MINUTE"] = "100000000"
    for name in SERVICE_PORTS:
        os.environ[f"{name.upper()}_LOG_LEVEL"] = "WARNING"
    results = [
        measure(
            n,
            args.database,
            keep=args.keep,
            welfare_share=args.welfare_share,
            dibao_source=args.dibao_source,
            repeat=args.repeat,
        )
        for n in args.sizes
    ]
    print("\nsummary")
    for r in results:
        rate = r["run"]["persons_created"] / r["seconds"]
        print(
            f"  {r['n']:>10,} persons: {r['seconds']:6.1f}s, {rate:8,.0f} persons/s, "
            f"{r['seconds'] / r['floor_seconds']:.2f}× the floor, peak RSS {r['rss_peak'] / 2**20:.0f} MiB, "
            f"discovery {r['discovery_seconds']:.2f}s; with single evaluations meanwhile "
            f"{r['probed_seconds']:.1f}s ({r['probed_seconds'] / r['floor_seconds']:.2f}×), "
            f"their p99 {percentile(r['timings'], 0.99):.1f} ms"
        )
    first, last = results[0], results[-1]
    if len(results) > 1:
        change = (last["run"]["persons_created"] / last["seconds"]) / (
            first["run"]["persons_created"] / first["seconds"]
        )
        print(f"  persons/s at {last['n']:,} ÷ persons/s at {first['n']:,}: {change:.2f}")
    statuses = [status for r in results for status in (*r["statuses"], r["probed_run"]["status"])]
    return 0 if all(status == "succeeded" for status in statuses) else 1


if __name__ == "__main__":
    sys.exit(main())
