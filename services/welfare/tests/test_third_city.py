"""A third city is data only (issue "A third city is data only", welfare part): a standards
pack for a city that is neither Panjin nor Zhumadian, with separate urban (城市) and rural
(农村) dibao standards as most cities still set them (welfare.md, "Urban and rural
standards"), in a pack folder of its own; the unchanged service starts on it and calculates.

The pack is test data (a made-up document for 铁岭市, GB/T 2260 code 211200): the urban and
rural standards differ, tekun is 1.3 × the standard it is derived from, and a later
version raises only the rural standard.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from platformctl.testing import assert_problem
from shared.errors import PackError
from shared.testing import TokenMint, app_client
from welfare.config import Settings
from welfare.main import create_app
from welfare.standards.book import load_book

BASE = "/api/welfare/v1"
CITY = "211200"
COUNTY = "211221"  # 铁岭县, inherits the city's standards
DOCUMENT = "测试民发〔2025〕1号"
KEY = base64.b64encode(b"third-city-welfare-test-key-32b!").decode()


def cite(article: str, text: str) -> dict[str, str]:
    return {"document": DOCUMENT, "article": article, "text": text}


PACK: dict[str, Any] = {
    "jurisdiction": CITY,
    "formula": {"document": "社会救助暂行办法（国务院令第649号）", "article": "第九条、第十二条"},
    "versions": [
        {
            "id": "tieling-2025",
            "effective_from": "2025-01-01",
            "effective_to": "2025-06-30",
            "published_on": "2024-12-20",
            "dibao": {
                "urban": "760.00",
                "rural": "560.00",
                "citation": cite("一", "城市低保标准为每人每月760元，农村低保标准为每人每月560元。"),
            },
            "tekun": {
                "multiplier": "1.3",
                "stated_urban": "988.00",
                "stated_rural": "728.00",
                "citation": cite("二", "特困人员基本生活标准按当地低保标准的1.3倍确定。"),
            },
        },
        {
            "id": "tieling-2025-07",
            "effective_from": "2025-07-01",
            "effective_to": None,
            "published_on": "2025-06-20",
            "dibao": {
                "urban": "760.00",
                "rural": "600.00",
                "citation": cite("一", "农村低保标准提高到每人每月600元。"),
            },
        },
    ],
}


@pytest.fixture
def packs(tmp_path: Path) -> Path:
    folder = tmp_path / "packs"
    folder.mkdir()
    (folder / f"{CITY}-tieling.yaml").write_text(
        yaml.safe_dump(PACK, allow_unicode=True, sort_keys=False), "utf-8"
    )
    return folder


@pytest.fixture
async def client(migrated_database: str, mint: TokenMint, packs: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The welfare service as it is, started on the third city's pack folder only."""
    app = create_app(Settings(database_url=migrated_database, packs_dir=packs, citizen_id_key=KEY))
    async with app_client(app, mint) as client:
        client.headers.update(mint.headers(scopes=["welfare:read"], jurisdictions=[CITY], subject="tieling"))
        yield client


def dibao(month: str, residence: str | None, income: str = "300.00") -> dict[str, Any]:
    body: dict[str, Any] = {
        "program": "dibao",
        "jurisdiction": COUNTY,
        "month": month,
        "household_size": 2,
        "per_capita_income": income,
    }
    return body | ({"residence": residence} if residence else {})


async def test_the_service_calculates_urban_and_rural_standards_from_the_pack_alone(
    client: httpx.AsyncClient,
) -> None:
    urban = await client.post(f"{BASE}/calculations", json=dibao("2025-03", "urban"))
    assert urban.status_code == 200, urban.text
    assert urban.json()["amount"] == "920.00"  # (760 − 300) × 2
    (parameter,) = urban.json()["trace"]["parameters"]
    assert (parameter["value"], parameter["residence"], parameter["version"]) == (
        "760.00",
        "urban",
        "tieling-2025",
    )
    assert parameter["citation"]["document"] == DOCUMENT
    rural = await client.post(f"{BASE}/calculations", json=dibao("2025-03", "rural"))
    assert rural.json()["amount"] == "520.00"  # (560 − 300) × 2
    raised = await client.post(f"{BASE}/calculations", json=dibao("2025-07", "rural"))
    assert raised.json()["amount"] == "600.00"  # (600 − 300) × 2, from the version of July
    # the household's urban/rural status is required where the city sets the two apart
    missing = assert_problem(await client.post(f"{BASE}/calculations", json=dibao("2025-03", None)), 422)
    assert missing["errors"][0]["field"] == "body.residence"
    # derived standards follow the one they are derived from
    tekun = await client.post(
        f"{BASE}/calculations",
        json={"program": "tekun", "jurisdiction": COUNTY, "month": "2025-03", "residence": "rural"},
    )
    assert tekun.json()["amount"] == "728.00"  # 1.3 × 560
    standards = (
        await client.get(f"{BASE}/standards", params={"jurisdiction": COUNTY, "on": "2025-03-01"})
    ).json()
    assert standards["dibao"] is None
    assert standards["by_residence"] == {
        "dibao": {"urban": "760.00", "rural": "560.00"},
        "tekun": {"urban": "988.00", "rural": "728.00"},
    }
    assert any("residence=urban" in warning for warning in standards["warnings"])
    # Panjin is not in this deployment's packs: nothing is guessed for it
    panjin = (
        await client.get(f"{BASE}/standards", params={"jurisdiction": "211100", "on": "2025-03-01"})
    ).json()
    assert panjin["dibao"] is None
    history = (await client.get(f"{BASE}/standards/versions", params={"jurisdiction": CITY})).json()
    assert [(v["version_id"], v["supersedes"]) for v in history["items"]] == [
        ("tieling-2025", None),
        ("tieling-2025-07", "tieling-2025"),
    ]


def test_a_split_pack_is_checked_like_a_single_one(packs: Path) -> None:
    path = next(packs.glob("*.yaml"))
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("728.00", "729.00"), encoding="utf-8")
    with pytest.raises(PackError) as caught:
        load_book(packs)
    assert caught.value.field == "versions.0.tekun.stated_rural"
    assert "1.3 × 560.00 = 728.00" in caught.value.problem
    path.write_text(text.replace("rural: '560.00'", "amount: '560.00'"), encoding="utf-8")
    with pytest.raises(PackError, match="either amount"):
        load_book(packs)
