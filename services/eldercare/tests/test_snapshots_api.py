"""Monthly snapshots and what changed since last month, through the gateway; the batch
evaluation equals the single evaluation person by person; a month is a background run:
one at a time per area (409 naming it), never for a month that has not begun, resumed by
another replica when the one running it died, without writing anything twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from eldercare.catalogues.pack import load_catalogue
from eldercare.config import Settings
from eldercare.evaluations.entitlements import EvaluationContext, evaluate
from eldercare.evaluations.profile import parse_profile
from eldercare.main import create_app
from eldercare.snapshots import repository, service
from eldercare.snapshots.models import EntitlementSnapshot, SnapshotRun
from platformctl.supervisor import local_secret
from platformctl.testing import Platform, assert_problem, free_port
from shared.jobs import Lease, LeaseLost
from shared.months import YearMonth, policy_today
from shared.settings import JobSettings
from shared.testing import TokenMint, app_client, citizen_id

BASE = "/api/eldercare/v1"
COUNTY = "411725"  # 确山县: only this module registers persons there
PACK = Path(__file__).resolve().parents[1] / "packs" / "411700-zhumadian.yaml"


async def register(client: Any, jurisdiction: str, birth: str, **circumstances: Any) -> str:
    response = await client.post(
        f"{BASE}/persons",
        json={
            "jurisdiction": jurisdiction,
            "name": "测试老人",
            "citizen_id": citizen_id(birth),
            "circumstances": {"effective_from": "2020-01-01", **circumstances},
        },
    )
    assert response.status_code == 201, response.text
    person_id: str = response.json()["id"]
    return person_id


async def finished(client: Any, response: Any) -> dict[str, Any]:
    """The run a 202 answer names, once it has ended (polled at its Location)."""
    assert response.status_code == 202, response.text
    location = response.headers["Location"]
    assert location == f"{BASE}/snapshots/{response.json()['id']}"
    for _ in range(600):
        run: dict[str, Any] = (await client.get(location)).json()
        if run["status"] not in ("queued", "running"):
            return run
        await asyncio.sleep(0.1)
    raise AssertionError(f"snapshot run {location} did not finish")


@pytest.fixture(scope="module")
async def clerk(platform: Platform) -> dict[str, str]:
    return await platform.account(
        "eldercare-clerk-411725", scopes=["eldercare:read", "eldercare:write"], jurisdictions=[COUNTY]
    )


async def test_turning_90_shows_as_a_change_from_60_to_100(platform: Platform, clerk: dict[str, str]) -> None:
    async with platform.client(headers=clerk) as client:
        turning_90 = await register(client, COUNTY, "1934-03-20", living_arrangement="alone")
        unchanged = await register(client, COUNTY, "1950-07-07")
        for month in ("2024-03", "2024-04"):
            asked = await client.post(f"{BASE}/snapshots", json={"jurisdiction": COUNTY, "month": month})
            assert asked.json()["status"] == "queued"
            run = await finished(client, asked)
            assert run["status"] == "succeeded", run
            assert run["persons_created"] >= 2
            assert run["done"] == run["total"] == run["persons_created"]
        again = await finished(
            client, await client.post(f"{BASE}/snapshots", json={"jurisdiction": COUNTY, "month": "2024-04"})
        )
        assert again["status"] == "succeeded"
        assert again["persons_created"] == 0  # once per person and month
        assert again["persons_already_present"] >= 2

        changes = await client.get(f"{BASE}/persons/{turning_90}/changes", params={"month": "2024-04"})
        assert changes.status_code == 200, changes.text
        body = changes.json()
        assert body["previous_month"] == "2024-03"
        assert body["previous_snapshot"] is True
        assert body["changes"] == [
            {
                "item": 8,
                "name": "高龄津贴",
                "change": "amount",
                "previous_amount": "60.00",
                "amount": "100.00",
                "period": "month",
            }
        ]
        assert (body["previous_monthly_total"], body["monthly_total"]) == ("60.00", "100.00")
        quiet = (await client.get(f"{BASE}/persons/{unchanged}/changes", params={"month": "2024-04"})).json()
        assert quiet["changes"] == []
        county = (
            await client.get(
                f"{BASE}/changes", params={"jurisdiction": COUNTY, "month": "2024-04", "limit": 200}
            )
        ).json()
        listed = {item["person_id"]: item for item in county["items"]}
        assert listed[turning_90]["changes"][0]["amount"] == "100.00"
        assert unchanged not in listed
        snapshots = (await client.get(f"{BASE}/persons/{turning_90}/snapshots")).json()["items"]
        assert [s["month"] for s in snapshots] == ["2024-04", "2024-03"]
        assert next(e for e in snapshots[0]["entitlements"] if e["item"] == 8)["amount"] == "100.00"
        missing = await client.get(f"{BASE}/persons/{turning_90}/changes", params={"month": "2019-01"})
        assert_problem(missing, 404)


KEY = local_secret("eldercare-citizen-id.key")  # the key the platform processes use too
PROFILES: list[dict[str, Any]] = [
    {},
    {"dibao": True, "self_care_unable": True, "disability_grade": 1, "needs_long_term_care": True},
    {"tekun": "dispersed", "ability_level": 4},
    {"tekun": "concentrated", "homeless": True},
    {"family_planning_special": "child_died", "ability_level": 1},
    {"relapsed_into_poverty": True, "living_arrangement": "empty_nest"},
    {"special_contribution_group": True, "pension_age_reached": True, "pension_scheme": "resident"},
    {"low_income_edge": True, "still_in_hardship": True, "has_disability_certificate": True},
]
BIRTHS = ["1923-05-01", "1924-05-01", "1933-05-31", "1934-05-01", "1944-04-30", "1959-05-01", "1964-06-01"]


async def test_a_snapshot_equals_the_evaluation_of_each_person(
    migrated_database: str, mint: TokenMint
) -> None:
    """Persons alike are evaluated once; the stored result must still be each person's own."""
    county = "411726"  # 泌阳县: only this test registers there
    headers = mint.headers(scopes=["eldercare:read", "eldercare:write"], jurisdictions=[county])
    closed = f"http://127.0.0.1:{free_port()}"
    app = create_app(Settings(database_url=migrated_database, citizen_id_key=KEY, welfare_url=closed))
    expected: dict[str, list[tuple[int, str | None]]] = {}
    totals: dict[str, Decimal] = {}
    degraded = 0
    catalogue = load_catalogue(PACK)
    reason = "the welfare service is unreachable (ConnectError)"
    async with app_client(app, mint) as client:
        client.headers.update(headers)
        for birth in BIRTHS:
            for facts in PROFILES:
                person_id = await register(client, county, birth, **facts)
                profile = parse_profile({"birth_date": birth, **facts})
                evaluation = evaluate(
                    catalogue,
                    profile,
                    dt.date(2024, 6, 1),
                    EvaluationContext(dibao_unavailable_reason=reason),
                )
                expected[person_id] = [
                    (e.item, None if e.amount is None else str(e.amount)) for e in evaluation.entitlements
                ]
                totals[person_id] = evaluation.monthly_total
                degraded += bool(evaluation.degraded)
        # registered with circumstances from 2 June: not in the register on the month's first day
        # (its single evaluation that day is refused), so no snapshot of June, and not left over
        later = await register(client, county, "1940-01-01", effective_from="2024-06-02")
        refused = await client.get(f"{BASE}/persons/{later}/evaluation", params={"on": "2024-06-01"})
        assert refused.status_code == 422, refused.text
        run = await finished(
            client,
            await client.post(
                f"{BASE}/snapshots", json={"jurisdiction": county, "month": "2024-06"}, headers=headers
            ),
        )
        assert run["status"] == "succeeded", run
        assert (await client.get(f"{BASE}/persons/{later}/snapshots")).json()["items"] == []
        # the county's other persons (a test of concurrent writes registers one) are in the month too
        assert run["persons_created"] >= len(expected)
        assert run["distinct_profiles"] < len(expected)
        stored_degraded = 0
        for person_id, items in expected.items():
            page = (await client.get(f"{BASE}/persons/{person_id}/snapshots")).json()
            stored = page["items"][0]
            assert [(e["item"], e["amount"]) for e in stored["entitlements"]] == items, person_id
            assert Decimal(stored["monthly_total"]) == totals[person_id]
            stored_degraded += stored["degraded"]
        assert stored_degraded == degraded  # item 13 of dispersed tekun persons 60 by May
        assert run["degraded"] >= degraded
        assert run["dibao_standards"] == {county: {"dibao": None, "reason": reason}}


async def test_a_month_that_has_not_begun_is_refused(platform: Platform, clerk: dict[str, str]) -> None:
    month = str(YearMonth.of(policy_today()).next())
    async with platform.client(headers=clerk) as client:
        refused = await client.post(f"{BASE}/snapshots", json={"jurisdiction": COUNTY, "month": month})
    problem = assert_problem(refused, 422)
    assert f"{month} has not begun" in refused.text, problem


class Died(Exception):
    """The replica running the month stopped here (its process ended)."""


async def test_a_run_whose_replica_died_is_resumed_without_writing_twice(
    migrated_database: str, mint: TokenMint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replica writes the first batch of a month in 驻马店市's 遂平县 (411728) and dies,
    its lease unrenewed. While the lease holds, requests for the county and for the whole
    city are refused with 409 naming the run. Then another replica takes the run over and
    writes only the batches not written: every person once, counted once."""
    county, month = "411728", "2024-02"  # only this test registers persons there
    jobs = JobSettings(lease_seconds=4, heartbeat_seconds=0.5, poll_seconds=0.2)
    settings = Settings(
        database_url=migrated_database,
        citizen_id_key=KEY,
        welfare_url=f"http://127.0.0.1:{free_port()}",
        snapshot_batch_size=4,
        snapshot_read_parts=4,
        jobs=jobs,
    )
    app = create_app(settings)
    clerk = mint.headers(scopes=["eldercare:read", "eldercare:write"], jurisdictions=[county])
    city = mint.headers(scopes=["eldercare:read", "eldercare:write"], jurisdictions=["411700"])
    async with app_client(app, mint) as client:
        client.headers.update(clerk)
        persons = [
            await register(client, county, birth, **facts)
            for birth in ("1930-01-01", "1944-02-10", "1958-03-03")
            for facts in (
                {},
                {"living_arrangement": "alone"},
                {"ability_level": 3, "self_care_unable": True},
                {},
            )
        ]
        database = app.state.database
        dying = service.SnapshotRunner(
            database,
            app.state.catalogue_library,
            settings.interpretations,
            batch_size=4,
            read_parts=3,
            work_mem="16MB",
            jobs=jobs,
            owner="eldercare@replica-that-died",
        )
        run_id = uuid.uuid4()
        async with database.sessions() as session:
            session.add(
                SnapshotRun(
                    id=run_id,
                    jurisdiction=county,
                    month=dt.date(2024, 2, 1),
                    status="running",
                    requested_by="test",
                    errors=[],
                    total=0,
                    done=0,
                    attempts=1,
                    lease_owner=dying.jobs.owner,
                    lease_expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=jobs.lease_seconds),
                    started_at=dt.datetime.now(dt.UTC),
                    persons_created=0,
                    persons_already_present=0,
                    distinct_profiles=0,
                    degraded=0,
                    dibao_standards={},
                    batches=0,
                    completed_batches=[],
                )
            )
            await session.commit()
        lease = Lease(service.SNAPSHOTS, run_id, dying.jobs.owner, 1)
        write = dying._write
        writes = 0

        async def write_once(*args: Any, **kwargs: Any) -> None:
            nonlocal writes
            if writes == 1:
                raise Died
            writes += 1
            await write(*args, **kwargs)

        monkeypatch.setattr(dying, "_write", write_once)
        with pytest.raises(Died):
            await dying.execute(lease)
        died_at = dt.datetime.now(dt.UTC)

        for headers, scope in ((clerk, county), (city, "411700")):
            refused = await client.post(
                f"{BASE}/snapshots", json={"jurisdiction": scope, "month": month}, headers=headers
            )
            problem = assert_problem(refused, 409)
            assert problem["active_job"]["id"] == str(run_id)
            assert refused.headers["Location"] == f"{BASE}/snapshots/{run_id}"
        held = (await client.get(f"{BASE}/snapshots/{run_id}")).json()
        assert (held["status"], held["attempts"], held["total"]) == ("running", 1, len(persons))
        first_batch = held["persons_created"]

        for _ in range(300):  # the lease expires; this app's runner (or another replica) resumes
            run = (await client.get(f"{BASE}/snapshots/{run_id}")).json()
            if run["status"] not in ("queued", "running"):
                break
            await asyncio.sleep(0.1)
        assert (run["status"], run["attempts"]) == ("succeeded", 2), run
        assert run["persons_created"] == run["done"] == run["total"] == len(persons)
        async with database.sessions() as session:
            stored = await session.get(SnapshotRun, run_id)
            assert stored is not None
            assert sorted(stored.completed_batches) == list(range(stored.batches)) == [0, 1, 2]
            rows = (
                await session.execute(
                    select(EntitlementSnapshot.person_id, EntitlementSnapshot.computed_at).where(
                        EntitlementSnapshot.month == dt.date(2024, 2, 1),
                        EntitlementSnapshot.jurisdiction == county,
                    )
                )
            ).all()
        assert sorted(str(row.person_id) for row in rows) == sorted(persons)
        # what the replica that died wrote is kept, not written again
        assert sum(row.computed_at < died_at for row in rows) == first_batch
        # and it can write nothing more: the run is no longer its own
        with pytest.raises(LeaseLost):
            await dying.execute(lease)


async def test_a_snapshot_written_meanwhile_is_kept_and_the_batch_written_around_it(
    migrated_database: str, mint: TokenMint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A month nobody has begun is written by plain inserts, without looking for snapshots of
    it. A snapshot written after that check (here: the check made to miss an earlier run's)
    fails the batch once; the batch is written again around it, which is kept as it was."""
    county, month, day = "411726", "2024-01", dt.date(2024, 1, 1)  # the county's other tests: other months
    headers = mint.headers(scopes=["eldercare:read", "eldercare:write"], jurisdictions=[county])
    settings = Settings(
        database_url=migrated_database, citizen_id_key=KEY, welfare_url=f"http://127.0.0.1:{free_port()}"
    )
    app = create_app(settings)
    alike = {"living_arrangement": "alone", "ability_level": 2}
    async with app_client(app, mint) as client:
        client.headers.update(headers)
        first = await register(client, county, "1941-03-03", **alike)
        earlier = await finished(
            client, await client.post(f"{BASE}/snapshots", json={"jurisdiction": county, "month": month})
        )
        assert earlier["status"] == "succeeded", earlier
        second = await register(client, county, "1941-03-03", **alike)  # the same key as the first

        async def not_begun(session: Any, month: dt.date) -> bool:
            return False

        monkeypatch.setattr(repository, "month_begun", not_begun)
        run = await finished(
            client, await client.post(f"{BASE}/snapshots", json={"jurisdiction": county, "month": month})
        )
        assert run["status"] == "succeeded", run
        assert run["persons_created"] == run["done"] == run["total"] == 1
        async with app.state.database.sessions() as session:
            rows = await session.execute(
                select(EntitlementSnapshot.person_id, EntitlementSnapshot.run_id).where(
                    EntitlementSnapshot.month == day,
                    EntitlementSnapshot.person_id.in_([uuid.UUID(first), uuid.UUID(second)]),
                )
            )
            written = {row.person_id: row.run_id for row in rows}
        assert written == {
            uuid.UUID(first): uuid.UUID(earlier["id"]),
            uuid.UUID(second): uuid.UUID(run["id"]),
        }


async def test_a_run_that_fails_keeps_nothing_of_what_it_held_while_writing(
    migrated_database: str, mint: TokenMint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that fails on its last attempt (here: its batch write raises) leaves neither the
    keys of its groups (snapshot_profile_keys) nor welfare's status it read
    (snapshot_run_welfare): what a run held while it wrote is deleted when it ends, whether
    it succeeded or not."""
    county, month = "411727", "2024-09"  # a month no other test takes in the county
    jobs = JobSettings(lease_seconds=4, heartbeat_seconds=0.5, poll_seconds=0.2, max_attempts=1)
    settings = Settings(
        database_url=migrated_database,
        citizen_id_key=KEY,
        welfare_url=f"http://127.0.0.1:{free_port()}",
        jobs=jobs,
    )
    app = create_app(settings)
    headers = mint.headers(scopes=["eldercare:read", "eldercare:write"], jurisdictions=[county])

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the batch could not be written")

    async with app_client(app, mint) as client:
        client.headers.update(headers)
        await register(client, county, "1940-05-05", living_arrangement="alone")
        monkeypatch.setattr(repository, "write_batch", broken)
        run = await finished(
            client, await client.post(f"{BASE}/snapshots", json={"jurisdiction": county, "month": month})
        )
        assert run["status"] == "failed", run
        async with app.state.database.sessions() as session:
            kept = await session.scalar(
                text(
                    "SELECT (SELECT count(*) FROM eldercare.snapshot_profile_keys WHERE run_id = :id)"
                    " + (SELECT count(*) FROM eldercare.snapshot_run_welfare WHERE run_id = :id)"
                ),
                {"id": uuid.UUID(run["id"])},
            )
        assert kept == 0
