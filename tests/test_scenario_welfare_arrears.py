"""Scenario: the Panjin dibao standard rises from 792.00 to 800.00 after two months were paid.

盘政办发〔2024〕4号 (published 2024-06-26) raises the dibao standard of Panjin from 792 to
800 yuan per person-month from 2024-07-01 (一（一）、二) and orders every enrolled household
to be recalculated and paid the difference (二: 重新核算…并按规定发放到位).

The story is played on a platform of its own (gateway and four services as processes, on a
database of its own) whose welfare pack is the world as of June 2024: the 792.00 version is
open-ended and the 800.00 version does not exist yet. Through the gateway only:

1. the administrator creates the accounts (and does nothing else);
2. a clerk of 双台子区 (211102) and a clerk of 大洼区 (211104) register households and their
   members and enrol the households in dibao from 2024-01;
3. each clerk runs the payroll of July and August 2024 for the county, at 792.00;
4. the city's welfare staff enter the 800.00 version from 2024-07-01 with its citation;
   the recalculation it starts books the arrears of July and August;
5. each clerk sees exactly the county's own arrears, the city staff see both counties'.

Meanwhile a provincial system (an API client with welfare:read over Liaoning) has subscribed
to welfare's events by webhook: it receives the 800.00 standard version and the
recalculation's completion with its arrears totals, Standard Webhooks signatures verified, and
reads the same events from the feed (integration.md, "Change events").
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aiohttp import web
from standardwebhooks.webhooks import Webhook

from platformctl.components import COMPONENTS
from platformctl.testing import Platform, assert_problem, free_port, platform_on_own_database
from shared.testing import citizen_id
from welfare.standards.history import load_standards

BASE = "/api/welfare/v1"
CITY = "211100"
PANJIN_PACK = "211100-panjin.yaml"
NEW_VERSION = "panjin-2024-4"
OLD_STANDARD = Decimal("792.00")
NEW_STANDARD = Decimal("800.00")
PAID_MONTHS = ("2024-07", "2024-08")
CENT = Decimal("0.01")

# 盘政办发〔2024〕4号 as the city staff enter it (text from the gazette, seeds/panjin-gazette-2024-05-06.txt)
DOCUMENT = "盘政办发〔2024〕4号"
NEW_VERSION_REQUEST: dict[str, Any] = {
    "jurisdiction": CITY,
    "version_id": NEW_VERSION,
    "effective_from": "2024-07-01",
    "published_on": "2024-06-26",
    "last_confirmed_on": "2024-06-26",
    "dibao": "800.00",
    "dibao_citation": {
        "document": DOCUMENT,
        "article": "一（一）、二",
        "text": "低保标准由792元/人月提高到800元/人月。……新的低保、特困人员救助供养基本生活、"
        "孤儿基本生活保障和60年代精简退职职工生活补助标准自2024年7月1日起执行。",
    },
    "tekun": {
        "multiplier": "1.8",
        "stated_amount": "1440.00",
        "citation": {
            "document": DOCUMENT,
            "article": "一（二）",
            "text": "特困人员救助供养基本生活标准按1.8倍低保标准执行，为1440元/人月。",
        },
    },
    "orphan_concentrated": {
        "multiplier": "3",
        "stated_amount": "2400.00",
        "citation": {
            "document": DOCUMENT,
            "article": "一（三）",
            "text": "集中供养孤儿基本生活保障标准按3倍低保标准执行，为2400元/人月",
        },
    },
    "orphan_scattered": {
        "multiplier": "2.5",
        "stated_amount": "2000.00",
        "citation": {
            "document": DOCUMENT,
            "article": "一（三）",
            "text": "散居供养孤儿基本生活保障标准按2.5倍低保标准执行，为2000元/人月。",
        },
    },
    "retiree_1960s": {
        "1": "713.00",
        "2": "668.00",
        "3": "618.00",
        "4": "571.00",
        "citation": {
            "document": DOCUMENT,
            "article": "一（四）",
            "text": "60年代精简退职职工生活补助标准一至四档分别为713元/人月、668元/人月、618元/人月、571元/人月。",
        },
    },
}


@dataclass(frozen=True)
class County:
    code: str
    name: str
    clerk: str
    decision_by: str
    reference: str


SHUANGTAIZI = County("211102", "双台子区", "clerk-shuangtaizi", "双台子区民政局", "双民低〔2023〕12号")
DAWA = County("211104", "大洼区", "clerk-dawa", "大洼区民政局", "大民低〔2023〕9号")


@dataclass(frozen=True)
class HouseholdCase:
    county: County
    address: str
    members: tuple[str, ...]
    income: Decimal  # assessed monthly income per person (核定家庭月人均收入)

    def dibao(self, standard: Decimal) -> Decimal:
        """社会救助暂行办法 Art. 12: max(0, S − I) × n, to the fen, half up."""
        return (max(Decimal(0), standard - self.income) * len(self.members)).quantize(CENT, ROUND_HALF_UP)

    @property
    def arrears_per_month(self) -> Decimal:
        return self.dibao(NEW_STANDARD) - self.dibao(OLD_STANDARD)


HOUSEHOLDS = (
    # below both standards: 8.00 more per member and month
    HouseholdCase(
        SHUANGTAIZI, "双台子区红旗街道 3 号楼 2 单元 101", ("王建国", "李秀兰", "王小明"), Decimal("500.00")
    ),
    HouseholdCase(SHUANGTAIZI, "双台子区胜利街道 12 号楼 4 单元 302", ("赵桂芝",), Decimal("0.00")),
    # between the standards: nothing at 792.00, (800 − 795) × 2 = 10.00 at 800.00
    HouseholdCase(SHUANGTAIZI, "双台子区建设街道 7 号楼 1 单元 201", ("孙立军", "周丽华"), Decimal("795.00")),
    HouseholdCase(
        DAWA, "大洼区田家街道 5 号楼 3 单元 402", ("刘德福", "陈玉梅", "刘强", "刘芳"), Decimal("350.50")
    ),
    # above both standards: enrolled, but nothing is due at either standard
    HouseholdCase(DAWA, "大洼区榆树街道 9 号楼 2 单元 101", ("张振华", "吴淑英"), Decimal("850.00")),
    HouseholdCase(
        DAWA,
        "大洼区王家街道 2 号楼 5 单元 501",
        ("杨树林", "郑秀珍", "杨帆", "杨洋", "杨磊"),
        Decimal("123.45"),
    ),
)


def money(value: Decimal) -> str:
    return str(value.quantize(CENT))


def write_june_2024_packs(folder: Path) -> None:
    """The welfare packs as they stood in June 2024: 792.00 in force with no end, no 800.00 yet."""
    source_dir = next(c for c in COMPONENTS if c.name == "welfare").root / "packs"
    for path in source_dir.glob("*.yaml"):
        if path.name != PANJIN_PACK:
            shutil.copy(path, folder / path.name)
    pack = yaml.safe_load((source_dir / PANJIN_PACK).read_text(encoding="utf-8"))
    kept = [version for version in pack["versions"] if version["id"] != NEW_VERSION]
    assert [version["id"] for version in kept] == ["panjin-2021-11"]
    assert kept[0]["dibao"]["amount"] == "792.00"
    kept[0]["effective_to"] = None
    pack["versions"] = kept
    (folder / PANJIN_PACK).write_text(
        yaml.safe_dump(pack, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    # the copy is a valid pack: the service loads it the same way at start-up
    standards = load_standards(folder)
    found = standards.version_on("211104", dt.date(2024, 8, 1))
    assert found is not None
    assert found[1].id == "panjin-2021-11"
    assert found[1].dibao is not None
    assert found[1].dibao.amount == OLD_STANDARD


@pytest.fixture(scope="module")
async def june_2024_platform(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Platform]:
    packs = tmp_path_factory.mktemp("welfare-packs-june-2024")
    write_june_2024_packs(packs)
    env = {
        "WELFARE_PACKS_DIR": str(packs),
        # the provincial system's receiver listens on this machine
        "WELFARE_WEBHOOKS_ALLOW_PRIVATE_TARGETS": "true",
        "WELFARE_EVENTS_POLL_SECONDS": "0.2",
    }
    async with platform_on_own_database(database_url, "arrears", env) as own:
        yield own


async def wait_for_run(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    for _ in range(600):
        response = await client.get(f"{BASE}/recalculations/{run_id}")
        assert response.status_code == 200, response.text
        run: dict[str, Any] = response.json()
        if run["status"] not in ("queued", "running"):
            return run
        await asyncio.sleep(0.1)
    raise AssertionError(f"recalculation {run_id} did not finish")


async def all_items(client: httpx.AsyncClient, path: str, **params: str) -> list[dict[str, Any]]:
    response = await client.get(path, params={**params, "limit": "200"})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == len(page["items"]), "more than one page"
    items: list[dict[str, Any]] = page["items"]
    return items


@dataclass
class Enrolled:
    case: HouseholdCase
    household_id: str
    person_ids: list[str]
    enrolment_id: str


async def register_and_enrol(client: httpx.AsyncClient, case: HouseholdCase) -> Enrolled:
    county = case.county
    household = await client.post(
        f"{BASE}/households", json={"jurisdiction": county.code, "address": case.address}
    )
    assert household.status_code == 201, household.text
    assert household.json()["jurisdiction"] == county.code
    household_id = household.json()["id"]
    person_ids = []
    for offset, name in enumerate(case.members):
        number = citizen_id(f"{1970 + 7 * offset}-{3 + offset:02d}-12", region=county.code)
        person = await client.post(
            f"{BASE}/persons",
            json={
                "jurisdiction": county.code,
                "household_id": household_id,
                "name": name,
                "citizen_id": number,
            },
        )
        assert person.status_code == 201, person.text
        # a clerk without welfare:pii sees the number masked
        assert person.json()["citizen_id"] == f"{number[:4]}{'*' * 10}{number[-4:]}"
        assert person.json()["household_id"] == household_id
        person_ids.append(person.json()["id"])
    enrolment = await client.post(
        f"{BASE}/enrolments",
        json={
            "program": "dibao",
            "jurisdiction": county.code,
            "household_id": household_id,
            "covered_members": len(case.members),
            "per_capita_income": money(case.income),
            "start_month": "2024-01",
            "decision": {"by": county.decision_by, "on": "2023-12-20", "reference": county.reference},
        },
    )
    assert enrolment.status_code == 201, enrolment.text
    body = enrolment.json()
    assert (body["program"], body["status"], body["start_month"], body["covered_members"]) == (
        "dibao",
        "active",
        "2024-01",
        len(case.members),
    )
    assert [a["per_capita_income"] for a in body["income_assessments"]] == [money(case.income)]
    return Enrolled(case, household_id, person_ids, body["id"])


PROVINCE = "210000"  # 辽宁省


@dataclass
class Receiver:
    """The provincial system's webhook endpoint: every request as it came."""

    url: str
    received: list[tuple[dict[str, str], bytes]]


@pytest.fixture
async def provincial_receiver() -> AsyncIterator[Receiver]:
    found = Receiver("", [])

    async def handle(request: web.Request) -> web.Response:
        found.received.append((dict(request.headers), await request.read()))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/civic-events", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    found.url = f"http://127.0.0.1:{port}/civic-events"
    yield found
    await runner.cleanup()


async def api_client_headers(
    platform: Platform, client_id: str, *, scopes: list[str], jurisdictions: list[str]
) -> dict[str, str]:
    """Register an API client (other government systems) and take a client-credentials token."""
    async with platform.client(headers=await platform.admin_headers()) as admin:
        created = await admin.post(
            "/auth/admin/clients",
            json={
                "client_id": client_id,
                "name": client_id,
                "scopes": scopes,
                "jurisdictions": jurisdictions,
            },
        )
        assert created.status_code == 201, created.text
        secret = created.json()["client_secret"]
    async with platform.client() as client:
        token = await client.post(
            "/auth/token",
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        )
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def arrears_rows(entries: list[dict[str, Any]]) -> set[tuple[str, str, str, str]]:
    return {(e["enrolment_id"], e["jurisdiction"], e["month"], e["amount"]) for e in entries}


async def test_panjin_800_standard_books_july_and_august_arrears_per_county(
    june_2024_platform: Platform, provincial_receiver: Receiver
) -> None:
    platform = june_2024_platform
    province = await api_client_headers(
        platform, "liaoning-civil-affairs", scopes=["welfare:read"], jurisdictions=[PROVINCE]
    )
    async with platform.client(headers=province) as system:
        subscribed = await system.post(
            f"{BASE}/webhook-subscriptions",
            json={
                "url": provincial_receiver.url,
                "types": ["standard_version.added", "recalculation.completed"],
                "description": "辽宁省民政厅 低保标准与补发",
            },
        )
        assert subscribed.status_code == 201, subscribed.text
        signing_secret = subscribed.json()["secret"]
        feed_start = (await system.get(f"{BASE}/events", params={"types": "standard_version.added"})).json()[
            "next_cursor"
        ]
    clerk_scopes = ["welfare:read", "welfare:write"]
    clerks = {
        county.code: await platform.account(county.clerk, scopes=clerk_scopes, jurisdictions=[county.code])
        for county in (SHUANGTAIZI, DAWA)
    }
    # adding a standard version needs welfare:admin (standards/router.py); the account is staff
    city_staff = await platform.account(
        "panjin-city-welfare", scopes=["welfare:read", "welfare:admin"], jurisdictions=[CITY], roles=["staff"]
    )

    # June 2024: the platform knows 792.00 only, and not the derived standards of that time
    async with platform.client(headers=city_staff) as city:
        before = await city.get(f"{BASE}/standards", params={"jurisdiction": CITY, "on": "2024-07-01"})
        assert before.status_code == 200, before.text
        assert {k: before.json()[k] for k in ("dibao", "tekun", "orphan_scattered", "retiree_1960s")} == {
            "dibao": "792.00",
            "tekun": None,
            "orphan_scattered": None,
            "retiree_1960s": None,
        }
        assert [(c["program"], c["version"]) for c in before.json()["citations"]] == [
            ("dibao", "panjin-2021-11"),
            ("dibao_formula", "national"),
        ]

    # the clerks register and enrol their households, and pay July and August at 792.00
    enrolled: list[Enrolled] = []
    regular_ids: dict[tuple[str, str], int] = {}
    for county in (SHUANGTAIZI, DAWA):
        cases = [case for case in HOUSEHOLDS if case.county == county]
        async with platform.client(headers=clerks[county.code]) as clerk:
            for case in cases:
                enrolled.append(await register_and_enrol(clerk, case))
            for month in PAID_MONTHS:
                payroll = await clerk.post(
                    f"{BASE}/payrolls", json={"jurisdiction": county.code, "month": month}
                )
                assert payroll.status_code == 201, payroll.text
                run = payroll.json()
                assert (run["jurisdiction"], run["month"], run["entries"], run["unpriced"]) == (
                    county.code,
                    month,
                    len(cases),
                    0,
                )
                assert run["total"] == money(sum((case.dibao(OLD_STANDARD) for case in cases), Decimal(0)))
                assert run["created_by"] == county.clerk
            for entry in await all_items(clerk, f"{BASE}/ledger", kind="regular"):
                regular_ids[(entry["enrolment_id"], entry["month"])] = entry["id"]
    by_enrolment = {e.enrolment_id: e for e in enrolled}
    # every enrolment has one regular entry per paid month, at 792.00
    assert set(regular_ids) == {(e, m) for e in by_enrolment for m in PAID_MONTHS}
    async with platform.client(headers=city_staff) as city:
        regular = await all_items(city, f"{BASE}/ledger", kind="regular")
    assert {(r["enrolment_id"], r["month"]): r["amount"] for r in regular} == {
        (e.enrolment_id, m): money(e.case.dibao(OLD_STANDARD)) for e in enrolled for m in PAID_MONTHS
    }
    in_between = next(e for e in enrolled if e.case.income == Decimal("795.00"))
    assert in_between.case.dibao(OLD_STANDARD) == 0  # paid nothing in July and August

    # a county clerk may not enter a standard
    async with platform.client(headers=clerks[DAWA.code]) as clerk:
        assert_problem(await clerk.post(f"{BASE}/standards/versions", json=NEW_VERSION_REQUEST), 403)

    # the city's welfare staff enter 盘政办发〔2024〕4号 after July and August were paid
    async with platform.client(headers=city_staff) as city:
        added = await city.post(f"{BASE}/standards/versions", json=NEW_VERSION_REQUEST)
        assert added.status_code == 201, added.text
        version = added.json()
        assert (version["jurisdiction"], version["version_id"], version["created_by"]) == (
            CITY,
            NEW_VERSION,
            "panjin-city-welfare",
        )
        assert version["body"]["effective_from"] == "2024-07-01"
        assert version["body"]["effective_to"] is None
        assert version["body"]["published_on"] == "2024-06-26"
        assert Decimal(version["body"]["dibao"]["amount"]) == NEW_STANDARD
        assert version["body"]["dibao"]["citation"]["article"] == "一（一）、二"
        run_id = version["recalculation_id"]
        assert run_id is not None, "months paid at 792.00 need a recalculation"

        run = await wait_for_run(city, run_id)
        changed = [e for e in enrolled if e.case.arrears_per_month != 0]
        expected_total = sum((e.case.arrears_per_month * len(PAID_MONTHS) for e in enrolled), Decimal(0))
        assert expected_total == Decimal("228.00")  # (24 + 8 + 10 + 32 + 0 + 40) × 2
        assert {
            k: run[k]
            for k in (
                "status",
                "trigger",
                "jurisdiction",
                "from_month",
                "total",
                "done",
                "recalculated",
                "changed",
                "arrears_entries",
                "arrears_total",
                "unpriced",
                "error",
                "requested_by",
            )
        } == {
            "status": "succeeded",
            "trigger": "standard_added",
            "jurisdiction": CITY,
            "from_month": "2024-07",
            "total": len(enrolled),
            "done": len(enrolled),
            "recalculated": len(enrolled),
            "changed": len(changed),
            "arrears_entries": len(changed) * len(PAID_MONTHS),
            "arrears_total": money(expected_total),
            "unpriced": 0,
            "error": None,
            "requested_by": "panjin-city-welfare",
        }
        assert len(changed) == 5  # the household above 800.00 gets nothing at either standard

        # the contract answer (welfare.md, "Contract endpoints")
        standards = await city.get(f"{BASE}/standards", params={"jurisdiction": CITY, "on": "2024-07-01"})
        assert standards.status_code == 200, standards.text
        body = standards.json()
        assert {k: body[k] for k in ("jurisdiction", "on", "dibao", "tekun", "orphan_concentrated")} == {
            "jurisdiction": CITY,
            "on": "2024-07-01",
            "dibao": "800.00",
            "tekun": "1440.00",
            "orphan_concentrated": "2400.00",
        }
        assert body["orphan_scattered"] == "2000.00"
        assert body["retiree_1960s"] == {"1": "713.00", "2": "668.00", "3": "618.00", "4": "571.00"}
        assert body["warnings"] == []
        assert {
            (c["program"], c["version"], c["jurisdiction"], c["document"], c["article"])
            for c in body["citations"]
        } == {
            ("dibao", NEW_VERSION, CITY, DOCUMENT, "一（一）、二"),
            ("tekun", NEW_VERSION, CITY, DOCUMENT, "一（二）"),
            ("orphan_concentrated", NEW_VERSION, CITY, DOCUMENT, "一（三）"),
            ("orphan_scattered", NEW_VERSION, CITY, DOCUMENT, "一（三）"),
            ("retiree_1960s", NEW_VERSION, CITY, DOCUMENT, "一（四）"),
            (
                "dibao_formula",
                "national",
                "national",
                "社会救助暂行办法（国务院令第649号）",
                "第九条、第十二条",
            ),
        }
        # the old version now ends the day before; a county inherits the city's standard
        june = (await city.get(f"{BASE}/standards", params={"jurisdiction": CITY, "on": "2024-06-30"})).json()
        assert (june["dibao"], june["tekun"]) == ("792.00", None)
        county = (
            await city.get(f"{BASE}/standards", params={"jurisdiction": DAWA.code, "on": "2024-08-01"})
        ).json()
        assert county["dibao"] == "800.00"
        assert next(c for c in county["citations"] if c["program"] == "dibao")["jurisdiction"] == CITY

        # the city sees the arrears of both counties
        city_arrears = await all_items(city, f"{BASE}/ledger", kind="arrears")

    expected_arrears = {
        (e.enrolment_id, e.case.county.code, month, money(e.case.arrears_per_month))
        for e in changed
        for month in PAID_MONTHS
    }
    assert arrears_rows(city_arrears) == expected_arrears
    assert len(city_arrears) == 10
    assert sum(Decimal(e["amount"]) for e in city_arrears) == expected_total
    for entry in city_arrears:
        # each arrears entry corrects the month's regular entry and names the run
        assert entry["corrects_entry_id"] == regular_ids[(entry["enrolment_id"], entry["month"])]
        assert entry["recalculation_id"] == run_id
        assert entry["payroll_run_id"] is None
    city_ids = {e["id"] for e in city_arrears}

    # each clerk sees exactly the county's own arrears
    seen: dict[str, set[int]] = {}
    for county, other in ((SHUANGTAIZI, DAWA), (DAWA, SHUANGTAIZI)):
        own = [e for e in changed if e.case.county == county]
        async with platform.client(headers=clerks[county.code]) as clerk:
            arrears = await all_items(clerk, f"{BASE}/ledger", kind="arrears")
            assert arrears_rows(arrears) == {row for row in expected_arrears if row[1] == county.code}
            assert len(arrears) == len(own) * len(PAID_MONTHS)
            assert sum(Decimal(e["amount"]) for e in arrears) == sum(
                (e.case.arrears_per_month * len(PAID_MONTHS) for e in own), Decimal(0)
            )
            by_run = await all_items(clerk, f"{BASE}/ledger", recalculation_id=run_id)
            assert {e["id"] for e in by_run} == {e["id"] for e in arrears}
            seen[county.code] = {e["id"] for e in arrears}

            # the other county's records are not found, and its ledger is not theirs to ask for
            theirs = next(e for e in enrolled if e.case.county == other)
            assert_problem(await clerk.get(f"{BASE}/enrolments/{theirs.enrolment_id}"), 404)
            assert_problem(await clerk.get(f"{BASE}/households/{theirs.household_id}"), 404)
            assert_problem(await clerk.get(f"{BASE}/persons/{theirs.person_ids[0]}"), 404)
            assert_problem(
                await clerk.get(f"{BASE}/ledger", params={"kind": "arrears", "jurisdiction": other.code}), 403
            )
            assert await all_items(clerk, f"{BASE}/ledger", enrolment_id=theirs.enrolment_id) == []
            # the run belongs to the city
            assert_problem(await clerk.get(f"{BASE}/recalculations/{run_id}"), 404)
    await provincial_system_was_told(
        platform, province, provincial_receiver, signing_secret, feed_start, run_id, expected_total
    )
    assert seen[SHUANGTAIZI.code] | seen[DAWA.code] == city_ids
    assert not seen[SHUANGTAIZI.code] & seen[DAWA.code]
    assert sum(Decimal(e["amount"]) for e in city_arrears if e["id"] in seen[SHUANGTAIZI.code]) == Decimal(
        "84.00"
    )  # (24 + 8 + 10) × 2
    assert sum(Decimal(e["amount"]) for e in city_arrears if e["id"] in seen[DAWA.code]) == Decimal(
        "144.00"
    )  # (32 + 40) × 2

    # the county asks again: nothing is booked twice; September is paid at 800.00
    cases = [case for case in HOUSEHOLDS if case.county == SHUANGTAIZI]
    async with platform.client(headers=clerks[SHUANGTAIZI.code]) as clerk:
        again = await clerk.post(
            f"{BASE}/recalculations", json={"jurisdiction": SHUANGTAIZI.code, "from_month": "2024-07"}
        )
        assert again.status_code == 202, again.text
        repeated = await wait_for_run(clerk, again.json()["id"])
        assert (repeated["status"], repeated["recalculated"], repeated["arrears_entries"]) == (
            "succeeded",
            3,
            0,
        )
        assert repeated["arrears_total"] == "0.00"
        assert {e["id"] for e in await all_items(clerk, f"{BASE}/ledger", kind="arrears")} == seen[
            SHUANGTAIZI.code
        ]
        september = await clerk.post(
            f"{BASE}/payrolls", json={"jurisdiction": SHUANGTAIZI.code, "month": "2024-09"}
        )
        assert september.status_code == 201, september.text
        assert september.json()["total"] == money(sum((c.dibao(NEW_STANDARD) for c in cases), Decimal(0)))
        assert september.json()["total"] == "1710.00"  # 900.00 + 800.00 + 10.00


async def provincial_system_was_told(
    platform: Platform,
    province: dict[str, str],
    receiver: Receiver,
    secret: str,
    feed_start: str,
    run_id: str,
    expected_total: Decimal,
) -> None:
    """The webhook brought the 800.00 version and the recalculation's totals, signed; the feed agrees."""
    for _ in range(900):  # deliveries follow the commits (a transaction held open elsewhere delays them)
        types = [json.loads(body)["type"] for _, body in receiver.received]
        if "civic.welfare.recalculation.completed" in types:
            break
        await asyncio.sleep(0.1)
    events = [Webhook(secret).verify(body, headers) for headers, body in receiver.received]
    assert [e["type"] for e in events] == [
        "civic.welfare.standard_version.added",
        "civic.welfare.recalculation.completed",
    ]
    added, completed = events
    assert [headers["webhook-id"] for headers, _ in receiver.received] == [added["id"], completed["id"]]
    assert (added["source"], added["jurisdiction"], added["specversion"]) == ("/api/welfare/v1", CITY, "1.0")
    assert added["data"]["version_id"] == NEW_VERSION
    assert added["data"]["dibao"]["amount"] == "800.00"
    assert added["data"]["dibao"]["citation"]["document"] == DOCUMENT
    assert completed["subject"] == f"/recalculations/{run_id}"
    assert {
        k: completed["data"][k]
        for k in ("recalculation_id", "status", "from_month", "changed", "arrears_entries", "arrears_total")
    } == {
        "recalculation_id": run_id,
        "status": "succeeded",
        "from_month": "2024-07",
        "changed": 5,
        "arrears_entries": 10,
        "arrears_total": money(expected_total),
    }
    async with platform.client(headers=province) as system:
        feed = await system.get(
            f"{BASE}/events",
            params={"after": feed_start, "types": "standard_version.added,recalculation.completed"},
        )
        assert feed.status_code == 200, feed.text
        assert [e["id"] for e in feed.json()["items"]] == [added["id"], completed["id"]]
        log = await system.get(f"{BASE}/webhook-subscriptions")
        subscription = log.json()["items"][0]
        deliveries = await system.get(f"{BASE}/webhook-subscriptions/{subscription['id']}/deliveries")
        assert {(d["status"], d["last_status_code"]) for d in deliveries.json()["items"]} == {
            ("delivered", 204)
        }
