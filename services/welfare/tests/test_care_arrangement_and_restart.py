"""Orphan care-arrangement changes, and a recalculation left running when the service stopped."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from platformctl.supervisor import local_secret
from platformctl.testing import Platform, assert_problem
from shared.testing import TokenMint, app_client, citizen_id
from welfare.config import Settings
from welfare.main import create_app

BASE = "/api/welfare/v1"
KEY = local_secret("welfare-citizen-id.key")  # the key the platform processes use too
DECISION = {"by": "双台子区民政局", "on": "2024-06-20", "reference": "双民孤〔2024〕2号"}


async def test_a_change_of_care_arrangement_takes_effect_the_next_month(platform: Platform) -> None:
    clerk = await platform.account(
        "clerk-211102", scopes=["welfare:read", "welfare:write"], jurisdictions=["211102"]
    )
    async with platform.client(headers=clerk) as client:
        person = await client.post(
            f"{BASE}/persons",
            json={
                "jurisdiction": "211102",
                "name": "王小明",
                "citizen_id": citizen_id("2015-03-09", region="211102"),
            },
        )
        assert person.status_code == 201, person.text
        enrolment = await client.post(
            f"{BASE}/enrolments",
            json={
                "program": "orphan_concentrated",
                "jurisdiction": "211102",
                "person_id": person.json()["id"],
                "start_month": "2024-07",
                "decision": DECISION,
            },
        )
        assert enrolment.status_code == 201, enrolment.text
        enrolment_id, etag = enrolment.json()["id"], enrolment.headers["ETag"]
        change = {"arrangement": "scattered", "changed_on": "2024-09-15", "reference": "双民孤〔2024〕9号"}
        moved = await client.post(
            f"{BASE}/enrolments/{enrolment_id}/care-arrangement", json=change, headers={"If-Match": etag}
        )
        assert moved.status_code == 201, moved.text
        assert moved.json()["program"] == "orphan_scattered"
        assert moved.json()["start_month"] == "2024-10"
        old = (await client.get(f"{BASE}/enrolments/{enrolment_id}")).json()
        assert (old["status"], old["end_month"]) == ("ended", "2024-09")
        again = await client.post(
            f"{BASE}/enrolments/{enrolment_id}/care-arrangement", json=change, headers={"If-Match": '"x"'}
        )
        assert_problem(again, 412)


async def test_a_run_left_running_is_resumed_at_start_and_books_once(
    migrated_database: str, mint: TokenMint
) -> None:
    """盘山县 (211122) inherits Panjin's 800.00; January 2031 was paid at 792.00."""
    enrolment_id, run_id = uuid.uuid4(), uuid.uuid4()
    connection = await asyncpg.connect(migrated_database.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        household = uuid.uuid4()
        await connection.execute(
            "INSERT INTO welfare.households (id, jurisdiction, address, version) VALUES ($1, '211122', '坝墙子镇', 1)",
            household,
        )
        await connection.execute(
            "INSERT INTO welfare.enrolments (id, program, jurisdiction, household_id, covered_members, start_month, "
            "status, decision_by, decision_on, decision_reference, version) "
            "VALUES ($1, 'dibao', '211122', $2, 2, '2031-01-01', 'active', 'x', '2030-12-20', 'r', 1)",
            enrolment_id,
            household,
        )
        await connection.execute(
            "INSERT INTO welfare.income_assessments (enrolment_id, effective_month, per_capita_income, assessed_on, "
            "reference, recorded_by) VALUES ($1, '2031-01-01', 100.00, '2030-12-20', 'r', 'x')",
            enrolment_id,
        )
        await connection.execute(
            "INSERT INTO welfare.ledger_entries (enrolment_id, jurisdiction, month, kind, amount) "
            "VALUES ($1, '211122', '2031-01-01', 'regular', 1384.00)",  # (792 − 100) × 2
            enrolment_id,
        )
        # the service stopped while this run was in progress
        await connection.execute(
            "INSERT INTO welfare.recalculation_runs (id, jurisdiction, from_month, trigger, status, total, done, "
            "recalculated, changed, arrears_entries, arrears_total, unpriced, completed_batches, requested_by, "
            "attempts, errors) "
            "VALUES ($1, '211122', '2031-01-01', 'request', 'running', 1, 0, 0, 0, 0, 0, 0, '{}', 'tester', "
            "1, '[]')",
            run_id,
        )
    finally:
        await connection.close()
    headers = mint.headers(scopes=["welfare:read"], jurisdictions=["211122"])
    for _ in range(2):  # started twice: the second start finds nothing left to do
        async with app_client(
            create_app(Settings(database_url=migrated_database, citizen_id_key=KEY)), mint
        ) as client:
            for _ in range(100):
                run = (await client.get(f"{BASE}/recalculations/{run_id}", headers=headers)).json()
                if run["status"] == "succeeded":
                    break
                await asyncio.sleep(0.1)
            assert run["status"] == "succeeded", run
            ledger = (
                await client.get(
                    f"{BASE}/ledger", params={"enrolment_id": str(enrolment_id)}, headers=headers
                )
            ).json()
    assert sorted((e["kind"], e["amount"]) for e in ledger["items"]) == [
        ("arrears", "16.00"),
        ("regular", "1384.00"),
    ]


async def test_a_suspended_enrolment_stays_suspended_under_its_new_arrangement(platform: Platform) -> None:
    """A suspended orphan allowance is not paid; changing its care arrangement must not resume
    the payments: the new arrangement's enrolment is suspended too until staff resume it."""
    clerk = await platform.account(
        "clerk-211102", scopes=["welfare:read", "welfare:write"], jurisdictions=["211102"]
    )
    async with platform.client(headers=clerk) as client:
        person = await client.post(
            f"{BASE}/persons",
            json={
                "jurisdiction": "211102",
                "name": "王小红",
                "citizen_id": citizen_id("2016-05-09", region="211102"),
            },
        )
        assert person.status_code == 201, person.text
        enrolment = await client.post(
            f"{BASE}/enrolments",
            json={
                "program": "orphan_concentrated",
                "jurisdiction": "211102",
                "person_id": person.json()["id"],
                "start_month": "2024-07",
                "decision": DECISION,
            },
        )
        assert enrolment.status_code == 201, enrolment.text
        url = f"{BASE}/enrolments/{enrolment.json()['id']}"
        suspended = await client.patch(
            url, json={"status": "suspended"}, headers={"If-Match": enrolment.headers["ETag"]}
        )
        assert suspended.status_code == 200, suspended.text
        change = {"arrangement": "scattered", "changed_on": "2024-09-15", "reference": "双民孤〔2024〕11号"}
        moved = await client.post(
            f"{url}/care-arrangement", json=change, headers={"If-Match": suspended.headers["ETag"]}
        )
        assert moved.status_code == 201, moved.text
        assert (moved.json()["program"], moved.json()["status"]) == ("orphan_scattered", "suspended")
