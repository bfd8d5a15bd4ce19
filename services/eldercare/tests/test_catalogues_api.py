"""County catalogues through the gateway: raise (accepted), lower or drop (refused, item named),
versions, If-Match, and who may save them; the evaluation contract on the effective catalogue."""

from __future__ import annotations

from typing import Any

import pytest

from platformctl.testing import Platform, assert_problem

BASE = "/api/eldercare/v1"
COUNTY = "411721"  # 西平县: only this module saves overrides for it
RAISED_BANDS: list[dict[str, Any]] = [
    {"from_age": 80, "to_age_as_written": 90, "amount": "80.00"},
    {"from_age": 90, "to_age_as_written": 99, "amount": "150.00"},
    {"from_age": 100, "to_age_as_written": None, "amount": "600.00"},
]


def overrides(valid_from: str = "2024-01-01", /, **items: Any) -> dict[str, Any]:
    return {
        "version": valid_from[:7],
        "document": "西平县基本养老服务清单（西政办〔2024〕1号）",
        "valid_from": valid_from,
        "items": items,
    }


def allowance(bands: list[dict[str, Any]]) -> dict[str, Any]:
    return {"components": {"allowance": {"amount": {"by_age": bands}}}}


@pytest.fixture(scope="module")
async def staff(platform: Platform) -> dict[str, dict[str, str]]:
    return {
        "county_admin": await platform.account(
            "eldercare-admin-411721", scopes=["eldercare:read", "eldercare:admin"], jurisdictions=[COUNTY]
        ),
        "city_admin": await platform.account(
            "eldercare-admin-411700", scopes=["eldercare:read", "eldercare:admin"], jurisdictions=["411700"]
        ),
        "other_admin": await platform.account(
            "eldercare-admin-411722", scopes=["eldercare:read", "eldercare:admin"], jurisdictions=["411722"]
        ),
        "county_reader": await platform.account(
            "eldercare-reader-411721", scopes=["eldercare:read"], jurisdictions=[COUNTY]
        ),
    }


async def test_the_evaluation_contract(platform: Platform, staff: dict[str, dict[str, str]]) -> None:
    async with platform.client(headers=staff["county_reader"]) as client:
        response = await client.post(
            f"{BASE}/evaluations",
            json={
                "jurisdiction": "411702",
                "on": "2024-03-15",
                "person": {"birth_date": "1933-06-01", "sex": "female", "living_arrangement": "alone"},
            },
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["jurisdiction"] == "411702"
    assert body["age"] == 90
    longevity = next(e for e in body["entitlements"] if e["item"] == 8)
    assert {k: longevity[k] for k in ("item", "name", "amount", "period", "service_type")} == {
        "item": 8,
        "name": "高龄津贴",
        "amount": "100.00",
        "period": "month",
        "service_type": "物质帮助",
    }
    assert longevity["citation"]["document"] == "驻政办〔2023〕35号"
    assert longevity["citation"]["item"].startswith("附件《驻马店市基本养老服务清单》第8项")
    assert longevity["lead_department"] == "市民政局"
    assert longevity["facts"]["age"] == 90
    assert sorted(e["item"] for e in body["entitlements"]) == [3, 4, 5, 6, 7, 8, 22, 23]
    visit = next(e for e in body["entitlements"] if e["item"] == 22)
    assert visit["amount"] is None
    assert visit["period"] is None
    assert body["monthly_total"] == "100.00"
    assert [step["item"] for step in body["trace"]] == list(range(1, 26))
    assert next(s for s in body["trace"] if s["item"] == 9)["matched"] is False


async def test_a_county_raises_the_longevity_allowance(
    platform: Platform, staff: dict[str, dict[str, str]]
) -> None:
    async with platform.client(headers=staff["county_admin"]) as client:
        current = await client.get(f"{BASE}/catalogues/{COUNTY}")
        assert current.status_code == 200, current.text
        saved = await client.put(
            f"{BASE}/catalogues/{COUNTY}/overrides",
            json=overrides(**{"8": allowance(RAISED_BANDS)}),
            headers={"If-Match": current.headers["ETag"]},
        )
        assert saved.status_code == 200, saved.text
        body = saved.json()
        assert body["jurisdiction"] == COUNTY
        assert body["based_on"] == "411700"
        item = next(i for i in body["items"] if i["number"] == 8)
        assert item["amended_by"]["document"].startswith("西平县基本养老服务清单")
        assert item["amended_by"]["changes"] == ["components.allowance.amount"]
        assert item["citation"]["document"] == "驻政办〔2023〕35号"
        assert [band["amount"] for band in item["components"][0]["amount"]["by_age"]] == [
            "80.00",
            "150.00",
            "600.00",
        ]
        assert len(body["items"]) == 25
        evaluated = await client.post(
            f"{BASE}/evaluations",
            json={"jurisdiction": COUNTY, "on": "2024-03-15", "person": {"birth_date": "1933-06-01"}},
        )
        assert evaluated.status_code == 200, evaluated.text
        longevity = next(e for e in evaluated.json()["entitlements"] if e["item"] == 8)
        assert longevity["amount"] == "150.00"
        assert longevity["amended_by"]["jurisdiction"] == COUNTY
        # the city list itself is unchanged
        city = await client.post(
            f"{BASE}/evaluations",
            json={"jurisdiction": "411702", "on": "2024-03-15", "person": {"birth_date": "1933-06-01"}},
        )
        assert next(e for e in city.json()["entitlements"] if e["item"] == 8)["amount"] == "100.00"


async def test_lowering_or_dropping_is_refused_naming_the_item(
    platform: Platform, staff: dict[str, dict[str, str]]
) -> None:
    async with platform.client(headers=staff["city_admin"]) as client:
        etag = (await client.get(f"{BASE}/catalogues/{COUNTY}")).headers["ETag"]
        lower = [dict(band) for band in RAISED_BANDS]
        lower[0]["amount"] = "50.00"
        problem = assert_problem(
            await client.put(
                f"{BASE}/catalogues/{COUNTY}/overrides",
                json=overrides(**{"8": allowance(lower)}),
                headers={"If-Match": etag},
            ),
            422,
        )
        error = next(e for e in problem["errors"] if e["field"] == "body.items.8.components.allowance.amount")
        assert "item 8 高龄津贴" in error["message"]
        assert "50.00" in error["message"]
        assert "驻政办〔2023〕35号 二（一）1" in error["message"]
        dropped = assert_problem(
            await client.put(
                f"{BASE}/catalogues/{COUNTY}/overrides",
                json=overrides(**{"15": {"removed": True}}),
                headers={"If-Match": etag},
            ),
            422,
        )
        assert dropped["errors"][0]["field"] == "body.items.15.removed"
        assert "护理补贴" in dropped["errors"][0]["message"]
        narrower = assert_problem(
            await client.put(
                f"{BASE}/catalogues/{COUNTY}/overrides",
                json=overrides(**{"6": {"eligibility": {"age_at_least": 70}}}),
                headers={"If-Match": etag},
            ),
            422,
        )
        assert narrower["errors"][0]["field"] == "body.items.6.eligibility"
        # nothing was saved: the raised catalogue still applies
        after = await client.get(f"{BASE}/catalogues/{COUNTY}")
        assert after.headers["ETag"] == etag


async def test_versions_if_match_and_who_may_save(
    platform: Platform, staff: dict[str, dict[str, str]]
) -> None:
    async with platform.client(headers=staff["county_admin"]) as client:
        etag = (await client.get(f"{BASE}/catalogues/{COUNTY}")).headers["ETag"]
        body = overrides(
            "2024-07-01", **{"8": allowance(RAISED_BANDS), "6": {"eligibility": {"age_at_least": 63}}}
        )
        assert_problem(await client.put(f"{BASE}/catalogues/{COUNTY}/overrides", json=body), 428)
        assert_problem(
            await client.put(
                f"{BASE}/catalogues/{COUNTY}/overrides", json=body, headers={"If-Match": f'"{COUNTY}-v0"'}
            ),
            412,
        )
        saved = await client.put(
            f"{BASE}/catalogues/{COUNTY}/overrides", json=body, headers={"If-Match": etag}
        )
        assert saved.status_code == 200, saved.text
        assert saved.headers["ETag"] != etag
        versions = (await client.get(f"{BASE}/catalogues/{COUNTY}/overrides/versions")).json()
        assert versions["total"] >= 1
        assert versions["items"][0]["version"] == versions["total"]
        assert versions["items"][0]["body"]["items"]["6"]["eligibility"] == {"age_at_least": 63}
    async with platform.client(headers=staff["other_admin"]) as client:
        assert_problem(
            await client.put(f"{BASE}/catalogues/{COUNTY}/overrides", json=body, headers={"If-Match": "*"}),
            403,
        )
    async with platform.client(headers=staff["county_reader"]) as client:
        assert_problem(
            await client.put(f"{BASE}/catalogues/{COUNTY}/overrides", json=body, headers={"If-Match": "*"}),
            403,
        )
    async with platform.client(headers=staff["city_admin"]) as client:
        city = assert_problem(
            await client.put(f"{BASE}/catalogues/411700/overrides", json=body, headers={"If-Match": "*"}), 422
        )
        assert city["errors"][0]["field"] == "path.jurisdiction"
        assert_problem(await client.get(f"{BASE}/catalogues/211102"), 404)
    async with platform.client(headers=await platform.admin_headers()) as client:
        audit = (
            await client.get(
                f"{BASE}/audit-log", params={"entity": "catalogue_overrides", "entity_id": COUNTY}
            )
        ).json()
        assert audit["items"][0]["action"] == "replace"
        assert audit["items"][0]["after"]["items"]["6"]["eligibility"] == {"age_at_least": 63}


async def test_the_first_overrides_of_a_county_need_if_match_too(
    platform: Platform, staff: dict[str, dict[str, str]]
) -> None:
    """Before any override the catalogue exists (the city's items, ETag version 0): saving the
    first overrides without If-Match is 428 like every other update, and saves nothing."""
    county = "411727"  # 汝南县: no other test saves overrides for it
    body = overrides(**{"6": {"eligibility": {"age_at_least": 63}}})
    async with platform.client(headers=staff["city_admin"]) as client:
        read = await client.get(f"{BASE}/catalogues/{county}")
        assert read.headers["ETag"] == f'"{county}-v0"'
        assert_problem(await client.put(f"{BASE}/catalogues/{county}/overrides", json=body), 428)
        versions = (await client.get(f"{BASE}/catalogues/{county}/overrides/versions")).json()
        assert versions["total"] == 0
        saved = await client.put(
            f"{BASE}/catalogues/{county}/overrides", json=body, headers={"If-Match": read.headers["ETag"]}
        )
        assert saved.status_code == 200, saved.text
        assert saved.headers["ETag"] == f'"{county}-v1"'
