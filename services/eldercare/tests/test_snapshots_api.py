"""Monthly snapshots and what changed since last month, through the gateway; and the batch
evaluation equals the single evaluation person by person."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from eldercare.catalogues.pack import load_catalogue
from eldercare.config import Settings
from eldercare.evaluations.engine import EvaluationContext, evaluate
from eldercare.evaluations.profile import parse_profile
from eldercare.main import create_app
from platformctl.supervisor import local_secret
from platformctl.testing import Platform, assert_problem, free_port
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
            run = await client.post(f"{BASE}/snapshots", json={"jurisdiction": COUNTY, "month": month})
            assert run.status_code == 201, run.text
            assert run.json()["persons_created"] >= 2
        again = await client.post(f"{BASE}/snapshots", json={"jurisdiction": COUNTY, "month": "2024-04"})
        assert again.status_code == 201
        assert again.json()["persons_created"] == 0  # once per person and month
        assert again.json()["persons_already_present"] >= 2

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
        run = await client.post(
            f"{BASE}/snapshots", json={"jurisdiction": county, "month": "2024-06"}, headers=headers
        )
        assert run.status_code == 201, run.text
        assert run.json()["persons_created"] == len(expected)
        assert run.json()["distinct_profiles"] < len(expected)
        for person_id, items in expected.items():
            page = (await client.get(f"{BASE}/persons/{person_id}/snapshots")).json()
            stored = page["items"][0]
            assert [(e["item"], e["amount"]) for e in stored["entitlements"]] == items, person_id
            assert Decimal(stored["monthly_total"]) == totals[person_id]
        assert run.json()["degraded"] == degraded  # item 13 of dispersed tekun persons 60 by May
        assert run.json()["dibao_standards"] == {county: {"dibao": None, "reason": reason}}
