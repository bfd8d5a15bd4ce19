"""A third city is data only: the service started on a pack folder holding a made-up catalogue for
a city that is neither Panjin nor Zhumadian evaluates its people, and its counties' overrides
follow the same rules, without a change to the code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from eldercare.config import Settings
from eldercare.main import create_app
from platformctl.supervisor import local_secret
from platformctl.testing import assert_problem, free_port
from shared.testing import TokenMint, app_client

BASE = "/api/eldercare/v1"
KEY = local_secret("eldercare-citizen-id.key")
CITY = "411500"  # 信阳市: in the jurisdiction registry, with no catalogue shipped
COUNTY = "411521"  # 罗山县
READER = {"scopes": ["eldercare:read"], "jurisdictions": [CITY]}
ADMIN = {"scopes": ["eldercare:read", "eldercare:admin"], "jurisdictions": [CITY]}

PACK = """
jurisdiction: "411500"
name: 示例市基本养老服务清单
version: "2025-01-01"
effective_from: 2025-01-01
source:
  document: 示例政办〔2025〕1号
  title: 示例市基本养老服务清单（测试用）
  issued_on: 2025-01-01
  annex: 附件：示例市基本养老服务清单
parameters:
  care_subsidy:
    name: 护理补贴标准
    amount: "70.00"
    period: month
    kind: standard
    source: 示例政办〔2025〕1号 附件第2项
county_list_deadline:
  due_by: 2025-06-30
  text: 2025年6月底前，各县区制定发布本地清单。
  citation: {document: 示例政办〔2025〕1号, item: 正文 一, excerpt: 2025年6月底前，各县区制定发布本地清单。}
items:
  1:
    name: 高龄津贴
    service_type: 物质帮助
    target: 75周岁及以上老年人
    eligibility: {age_at_least: 75}
    content: 按月发放高龄津贴。
    standard: 75—84岁每人每月不低于50元，85岁及以上每人每月不低于120元。
    components:
      allowance:
        name: 高龄津贴
        amount:
          by_age:
            - {from_age: 75, to_age_as_written: 84, amount: "50.00"}
            - {from_age: 85, to_age_as_written: null, amount: "120.00"}
        period: month
    funding: 市、县级政府负责。
    lead_department: 市民政局
    citation: {document: 示例政办〔2025〕1号, item: 附件第1项, excerpt: 75—84岁每人每月不低于50元，85岁及以上每人每月不低于120元。}
  2:
    name: 护理补贴
    service_type: 物质帮助
    target: 低保对象中失能老年人
    eligibility:
      all:
        - {age_at_least: elderly_age}
        - {fact: dibao}
        - {at_least: {ability_level: 2}}
    content: 按月发放护理补贴。
    standard: 每人每月不低于70元。
    components:
      care_subsidy:
        name: 护理补贴
        amount: {parameter: care_subsidy}
        period: month
    funding: 市、县级政府负责。
    lead_department: 市民政局
    citation: {document: 示例政办〔2025〕1号, item: 附件第2项, excerpt: 每人每月不低于70元。}
"""


@pytest.fixture
async def client(migrated_database: str, mint: TokenMint, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    (tmp_path / f"{CITY}-example.yaml").write_text(PACK, encoding="utf-8")
    settings = Settings(
        database_url=migrated_database,
        citizen_id_key=KEY,
        welfare_url=f"http://127.0.0.1:{free_port()}",
        packs_dir=tmp_path,
    )
    async with app_client(create_app(settings), mint) as found:
        yield found


async def test_a_third_city_evaluates_from_its_pack_alone(client: httpx.AsyncClient, mint: TokenMint) -> None:
    reader = mint.headers(**READER)
    catalogue = await client.get(f"{BASE}/catalogues/{COUNTY}", headers=reader)
    assert catalogue.status_code == 200, catalogue.text
    assert catalogue.json()["based_on"] == CITY
    assert [item["number"] for item in catalogue.json()["items"]] == [1, 2]

    response = await client.post(
        f"{BASE}/evaluations",
        json={
            "jurisdiction": COUNTY,
            "on": "2025-03-15",
            "person": {"birth_date": "1938-01-01", "dibao": True, "ability_level": 3},
        },
        headers=reader,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["jurisdiction"] == COUNTY
    assert body["catalogue_version"] == "2025-01-01"
    amounts = {e["item"]: e["amount"] for e in body["entitlements"]}
    assert amounts == {1: "120.00", 2: "70.00"}
    assert body["monthly_total"] == "190.00"
    assert (
        next(e for e in body["entitlements"] if e["item"] == 1)["citation"]["document"]
        == "示例政办〔2025〕1号"
    )

    # Zhumadian is not served by this deployment: its packs are not in the folder
    other = await client.post(
        f"{BASE}/evaluations",
        json={"jurisdiction": "411702", "on": "2025-03-15", "person": {"birth_date": "1938-01-01"}},
        headers=mint.headers(scopes=["eldercare:read"], jurisdictions=["411700"]),
    )
    assert assert_problem(other, 422)["errors"][0]["field"] == "body.jurisdiction"


async def test_a_third_citys_county_may_only_raise(client: httpx.AsyncClient, mint: TokenMint) -> None:
    admin = mint.headers(**ADMIN)
    etag = (await client.get(f"{BASE}/catalogues/{COUNTY}", headers=admin)).headers["ETag"]
    lower = {
        "version": "2025-01",
        "document": "罗山县基本养老服务清单",
        "valid_from": "2025-02-01",
        "parameters": {"care_subsidy": {"amount": "60.00", "source": "罗政办〔2025〕1号"}},
    }
    refused = assert_problem(
        await client.put(
            f"{BASE}/catalogues/{COUNTY}/overrides", json=lower, headers={**admin, "If-Match": etag}
        ),
        422,
    )
    assert refused["errors"][0]["field"] == "body.parameters.care_subsidy.amount"
    lists = await client.get(
        f"{BASE}/catalogues/{CITY}/county-lists", params={"on": "2025-07-01"}, headers=mint.headers(**READER)
    )
    assert lists.status_code == 200, lists.text
    assert lists.json()["due_by"] == "2025-06-30"
    assert COUNTY in lists.json()["without_list"]
