"""A third city is data only (issue "A third city is data only", welfare part): a standards
pack for a city that is neither Panjin nor Zhumadian, with separate urban (城市) and rural
(农村) dibao standards as most cities still set them (welfare.md, "Urban and rural
standards"), in a pack folder of its own; the unchanged service starts on it and calculates.

The pack is test data (a made-up document for 铁岭市, GB/T 2260 code 211200): the urban and
rural standards differ, tekun is 1.3 × the standard it is derived from, and a later
version raises only the rural standard. Beside it, 朝阳市 (211300) sets one standard.

The register part: a household's residence (urban/rural, dated from a month) selects the
standard payroll and recalculation pay each of its months with; where it is missing in a
split month nothing is paid at a guess; where the standard is one it is ignored.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import yaml

from platformctl.testing import assert_problem
from shared.errors import PackError
from shared.testing import TokenMint, app_client, citizen_id
from welfare.config import Settings
from welfare.main import create_app
from welfare.standards.history import load_standards

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


ONE_CITY = "211300"  # 朝阳市: one standard for town and country (test data too)
ONE_COUNTY = "211321"
ONE_PACK: dict[str, Any] = {
    "jurisdiction": ONE_CITY,
    "formula": PACK["formula"],
    "versions": [
        {
            "id": "chaoyang-2025",
            "effective_from": "2025-01-01",
            "published_on": "2024-12-20",
            "dibao": {"amount": "700.00", "citation": cite("一", "城乡低保标准统一为每人每月700元。")},
        }
    ],
}


@pytest.fixture
def packs(tmp_path: Path) -> Path:
    folder = tmp_path / "packs"
    folder.mkdir()
    for name, pack in ((f"{CITY}-tieling.yaml", PACK), (f"{ONE_CITY}-chaoyang.yaml", ONE_PACK)):
        (folder / name).write_text(yaml.safe_dump(pack, allow_unicode=True, sort_keys=False), "utf-8")
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
    path = packs / f"{CITY}-tieling.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("728.00", "729.00"), encoding="utf-8")
    with pytest.raises(PackError) as caught:
        load_standards(packs)
    assert caught.value.field == "versions.0.tekun.stated_rural"
    assert "1.3 × 560.00 = 728.00" in caught.value.problem
    path.write_text(text.replace("rural: '560.00'", "amount: '560.00'"), encoding="utf-8")
    with pytest.raises(PackError, match="either amount"):
        load_standards(packs)


# --- the register's residence: payroll and recalculation pay each household its standard ------

OTHER_COUNTY = "211223"  # 西丰县, another county of the city
DECISION = {"by": "铁岭县民政局", "on": "2025-02-20", "reference": "铁县低〔2025〕3号"}


def clerk(mint: TokenMint, jurisdiction: str = COUNTY, subject: str = "tieling-clerk") -> dict[str, str]:
    return mint.headers(
        scopes=["welfare:read", "welfare:write"], jurisdictions=[jurisdiction], subject=subject
    )


async def household(client: httpx.AsyncClient, residence: str | None, headers: dict[str, str]) -> str:
    body: dict[str, Any] = {"jurisdiction": COUNTY, "address": "铁岭县新台子镇"}
    created = await client.post(
        f"{BASE}/households", json=body | ({"residence": residence} if residence else {}), headers=headers
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def enrol_dibao(
    client: httpx.AsyncClient, household_id: str, headers: dict[str, str], start: str = "2025-03"
) -> httpx.Response:
    return await client.post(
        f"{BASE}/enrolments",
        json={
            "program": "dibao",
            "jurisdiction": COUNTY,
            "household_id": household_id,
            "covered_members": 2,
            "per_capita_income": "300.00",
            "start_month": start,
            "decision": DECISION,
        },
        headers=headers,
    )


async def pay(client: httpx.AsyncClient, month: str, headers: dict[str, str]) -> dict[str, Any]:
    run = await client.post(
        f"{BASE}/payrolls", json={"jurisdiction": COUNTY, "month": month}, headers=headers
    )
    assert run.status_code == 201, run.text
    answer: dict[str, Any] = run.json()
    return answer


async def ledger(
    client: httpx.AsyncClient, enrolment_id: str, headers: dict[str, str] | None = None, **params: str
) -> list[dict[str, Any]]:
    page = await client.get(
        f"{BASE}/ledger", params={"enrolment_id": enrolment_id, "limit": "200", **params}, headers=headers
    )
    assert page.status_code == 200, page.text
    items: list[dict[str, Any]] = page.json()["items"]
    return items


async def finished(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    for _ in range(300):
        run: dict[str, Any] = (await client.get(f"{BASE}/recalculations/{run_id}")).json()
        if run["status"] not in ("queued", "running"):
            return run
        await asyncio.sleep(0.1)
    raise AssertionError("recalculation did not finish")


async def test_payroll_and_recalculation_pay_an_urban_and_a_rural_household_their_own_standards(
    client: httpx.AsyncClient, mint: TokenMint
) -> None:
    """Same facts (2 members, 300.00 a head), other residence: the urban household is paid
    (760 − 300) × 2, the rural one (560 − 300) × 2, and each ledger line names the residence,
    the standard, its version and the article. A new version from August raises both; its
    recalculation books each household the arrears of its own standard."""
    staff = clerk(mint, subject="tieling-payroll")
    urban_household = await household(client, "urban", staff)
    rural_household = await household(client, "rural", staff)
    urban = (await enrol_dibao(client, urban_household, staff)).json()["id"]
    rural = (await enrol_dibao(client, rural_household, staff)).json()["id"]
    # a tekun member of the rural household: derived from the rural standard (1.3 × 560)
    person = await client.post(
        f"{BASE}/persons",
        json={
            "jurisdiction": COUNTY,
            "household_id": rural_household,
            "name": "赵大爷",
            "citizen_id": citizen_id("1950-03-04", region="211221"),
        },
        headers=staff,
    )
    assert person.status_code == 201, person.text
    tekun = await client.post(
        f"{BASE}/enrolments",
        json={
            "program": "tekun",
            "arrangement": "scattered",
            "jurisdiction": COUNTY,
            "person_id": person.json()["id"],
            "start_month": "2025-03",
            "decision": DECISION,
        },
        headers=staff,
    )
    assert tekun.status_code == 201, tekun.text
    march_run = await pay(client, "2025-03", staff)
    assert (march_run["status"], march_run["unpriced"]) == ("succeeded", 0), march_run
    for month in ("2025-07", "2025-08"):
        run = await pay(client, month, staff)
        # the version of July states no tekun standard: the member is reported, not paid a guess
        assert (run["status"], run["unpriced"]) == ("partial", 1), run
        assert [e["message"] for e in run["errors"]] == [
            f"1 active enrolments have no standard in force in {month} and were not paid"
        ]
    regular = {
        name: [(e["month"], e["amount"], e["residence"]) for e in await ledger(client, enrolment)]
        for name, enrolment in (("urban", urban), ("rural", rural), ("tekun", tekun.json()["id"]))
    }
    assert regular == {
        "urban": [
            ("2025-03", "920.00", "urban"),
            ("2025-07", "920.00", "urban"),
            ("2025-08", "920.00", "urban"),
        ],
        # the rural standard rises to 600.00 from July (version tieling-2025-07)
        "rural": [
            ("2025-03", "520.00", "rural"),
            ("2025-07", "600.00", "rural"),
            ("2025-08", "600.00", "rural"),
        ],
        "tekun": [("2025-03", "728.00", "rural")],  # the version of July states no tekun standard
    }
    (march,) = await ledger(client, rural, month="2025-03")
    assert march["standard"] == {
        "program": "dibao",
        "amount": "560.00",
        "residence": "rural",
        "version": "tieling-2025",
        "jurisdiction": CITY,
        "document": DOCUMENT,
        "article": "一",
        "text": "城市低保标准为每人每月760元，农村低保标准为每人每月560元。",
    }

    admin = mint.headers(
        scopes=["welfare:read", "welfare:admin"], jurisdictions=[CITY], subject="tieling-admin"
    )
    raised = await client.post(
        f"{BASE}/standards/versions",
        json={
            "jurisdiction": CITY,
            "version_id": "tieling-2025-08",
            "effective_from": "2025-08-01",
            "published_on": "2025-07-25",
            "dibao_urban": "800.00",
            "dibao_rural": "650.00",
            "dibao_citation": {"document": "测试民发〔2025〕9号", "article": "一"},
        },
        headers=admin,
    )
    assert raised.status_code == 201, raised.text
    run = await finished(client, raised.json()["recalculation_id"])
    assert (run["status"], run["unpriced"], run["arrears_total"]) == ("succeeded", 0, "180.00"), run
    arrears = {
        name: [
            (e["month"], e["amount"], e["residence"], e["standard"]["amount"], e["standard"]["version"])
            for e in await ledger(client, enrolment, kind="arrears")
        ]
        for name, enrolment in (("urban", urban), ("rural", rural))
    }
    assert arrears == {
        "urban": [("2025-08", "80.00", "urban", "800.00", "tieling-2025-08")],  # (800 − 760) × 2
        "rural": [("2025-08", "100.00", "rural", "650.00", "tieling-2025-08")],  # (650 − 600) × 2
    }


async def test_a_household_moving_from_rural_to_urban_is_paid_each_month_by_the_residence_it_had(
    client: httpx.AsyncClient, mint: TokenMint
) -> None:
    """The residence is dated like the assessed income: recorded from a month, earlier months
    keep theirs. Paid rural for April to June, the household is then recorded urban from May
    (a 户口 transfer decided late): the next payroll pays urban, and a recalculation books May
    and June the difference, April untouched."""
    staff = clerk(mint, subject="tieling-mover")
    moving = await household(client, "rural", staff)
    enrolment = (await enrol_dibao(client, moving, staff, start="2025-04")).json()["id"]
    for month in ("2025-04", "2025-05", "2025-06"):
        await pay(client, month, staff)
    read = await client.get(f"{BASE}/households/{moving}", headers=staff)
    changed = await client.patch(
        f"{BASE}/households/{moving}",
        json={
            "residence": "urban",
            "residence_from": "2025-05",
            "residence_reference": "铁县户迁〔2025〕12号",
        },
        headers=staff | {"If-Match": read.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["residence"] == "urban"
    assert [(v["residence"], v["effective_month"], v["superseded_from"]) for v in body["residences"]] == [
        ("rural", None, "2025-05"),
        ("urban", "2025-05", None),
    ]
    assert changed.headers["ETag"] != read.headers["ETag"]
    await pay(client, "2025-07", staff)
    recalculation = await client.post(
        f"{BASE}/recalculations", json={"jurisdiction": COUNTY, "from_month": "2025-04"}, headers=staff
    )
    assert recalculation.status_code == 202, recalculation.text
    run = await finished(client, recalculation.json()["id"])
    assert run["status"] == "succeeded", run
    entries = [(e["month"], e["kind"], e["amount"], e["residence"]) for e in await ledger(client, enrolment)]
    assert entries == [
        ("2025-04", "regular", "520.00", "rural"),
        ("2025-05", "regular", "520.00", "rural"),
        ("2025-06", "regular", "520.00", "rural"),
        ("2025-07", "regular", "920.00", "urban"),  # (760 − 300) × 2
        ("2025-05", "arrears", "400.00", "urban"),  # 920 − 520
        ("2025-06", "arrears", "400.00", "urban"),
    ]
    audit = (
        await client.get(
            f"{BASE}/audit-log",
            params={"entity": "household", "entity_id": moving},
            headers=mint.headers(scopes=["welfare:read", "welfare:admin"], jurisdictions=[CITY]),
        )
    ).json()
    update = next(item for item in audit["items"] if item["action"] == "update")
    assert [v["residence"] for v in update["before"]["residences"]] == ["rural"]
    assert update["after"]["residences"][-1] == {
        "residence": "urban",
        "effective_month": "2025-05",
        "superseded_from": None,
        "reference": "铁县户迁〔2025〕12号",
    }


@pytest.mark.parametrize(
    "residence", ["ｕｒｂａｎ", "URBAN", "urban ", "城市", "", "suburban", 1, True, None]
)
async def test_a_residence_that_is_not_urban_or_rural_is_refused_and_nothing_written(
    client: httpx.AsyncClient, mint: TokenMint, residence: Any
) -> None:
    staff = clerk(mint, subject="tieling-odd")
    before = (await client.get(f"{BASE}/households", params={"jurisdiction": COUNTY}, headers=staff)).json()
    refused = assert_problem(
        await client.post(
            f"{BASE}/households",
            json={"jurisdiction": COUNTY, "address": "铁岭县", "residence": residence},
            headers=staff,
        ),
        422,
    )
    assert refused["errors"][0]["field"] == "body.residence"
    after = (await client.get(f"{BASE}/households", params={"jurisdiction": COUNTY}, headers=staff)).json()
    assert after["total"] == before["total"]
    existing = await household(client, "rural", staff)
    read = await client.get(f"{BASE}/households/{existing}", headers=staff)
    patched = assert_problem(
        await client.patch(
            f"{BASE}/households/{existing}",
            json={"residence": residence, "residence_from": "2025-05"},
            headers=staff | {"If-Match": read.headers["ETag"]},
        ),
        422,
    )
    assert patched["errors"][0]["field"] in ("body.residence", "body")
    again = await client.get(f"{BASE}/households/{existing}", headers=staff)
    assert again.headers["ETag"] == read.headers["ETag"]
    assert len(again.json()["residences"]) == 1


async def test_residence_changes_are_compare_and_set_and_stay_in_their_county(
    client: httpx.AsyncClient, mint: TokenMint
) -> None:
    staff = clerk(mint, subject="tieling-cas")
    target = await household(client, "rural", staff)
    read = await client.get(f"{BASE}/households/{target}", headers=staff)
    change = {"residence": "urban", "residence_from": "2025-09"}
    # a stale ETag: 412, nothing recorded
    stale_tag = read.headers["ETag"].replace("-v1", "-v0")
    assert stale_tag != read.headers["ETag"]
    assert_problem(
        await client.patch(
            f"{BASE}/households/{target}", json=change, headers=staff | {"If-Match": stale_tag}
        ),
        412,
    )
    # without If-Match: 428
    assert_problem(await client.patch(f"{BASE}/households/{target}", json=change, headers=staff), 428)
    # twice at once with the ETag read: one change, the other 412
    answers = await asyncio.gather(
        *(
            client.patch(
                f"{BASE}/households/{target}", json=change, headers=staff | {"If-Match": read.headers["ETag"]}
            )
            for _ in range(2)
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 412], [a.text for a in answers]
    now = (await client.get(f"{BASE}/households/{target}", headers=staff)).json()
    assert [(v["residence"], v["effective_month"]) for v in now["residences"]] == [
        ("rural", None),
        ("urban", "2025-09"),
    ]
    # a later change needs its month; the same month twice is 409; the same residence is 422
    current = await client.get(f"{BASE}/households/{target}", headers=staff)
    tag = staff | {"If-Match": current.headers["ETag"]}
    missing = assert_problem(
        await client.patch(f"{BASE}/households/{target}", json={"residence": "rural"}, headers=tag), 422
    )
    assert missing["errors"][0]["field"] == "body.residence_from"
    assert_problem(
        await client.patch(
            f"{BASE}/households/{target}",
            json={"residence": "rural", "residence_from": "2025-09"},
            headers=tag,
        ),
        409,
    )
    same = assert_problem(
        await client.patch(
            f"{BASE}/households/{target}",
            json={"residence": "urban", "residence_from": "2025-10"},
            headers=tag,
        ),
        422,
    )
    assert same["errors"][0]["field"] == "body.residence"
    # a caller of another county of the city: the household does not exist for them
    stranger = clerk(mint, OTHER_COUNTY, subject="xifeng-clerk")
    assert_problem(await client.get(f"{BASE}/households/{target}", headers=stranger), 404)
    assert_problem(
        await client.patch(
            f"{BASE}/households/{target}",
            json={"residence": "rural", "residence_from": "2025-11"},
            headers=stranger | {"If-Match": current.headers["ETag"]},
        ),
        404,
    )
    unchanged = await client.get(f"{BASE}/households/{target}", headers=staff)
    assert unchanged.headers["ETag"] == current.headers["ETag"]


async def test_a_split_standard_household_without_residence_is_refused_and_never_paid_a_guess(
    client: httpx.AsyncClient, mint: TokenMint, migrated_database: str
) -> None:
    """Registering one without residence is 422 naming ``residence``. One registered before the
    city set its standards apart (written here underneath, as migrated data would be) cannot be
    enrolled (422 naming ``household_id``); its enrolment recorded before is not paid: the payroll
    is partial and says why, and nothing is written for it."""
    staff = clerk(mint, subject="tieling-missing")
    missing = assert_problem(
        await client.post(
            f"{BASE}/households", json={"jurisdiction": COUNTY, "address": "铁岭县"}, headers=staff
        ),
        422,
    )
    assert missing["errors"][0]["field"] == "body.residence"
    assert "urban" in missing["errors"][0]["message"]
    legacy_household, legacy_enrolment = uuid.uuid4(), uuid.uuid4()
    connection = await asyncpg.connect(migrated_database.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute(
            "INSERT INTO welfare.households (id, jurisdiction, address, version) VALUES ($1, $2, '铁岭县', 1)",
            legacy_household,
            COUNTY,
        )
    finally:
        await connection.close()
    refused = assert_problem(await enrol_dibao(client, str(legacy_household), staff), 422)
    assert refused["errors"][0]["field"] == "body.household_id"
    assert "no residence (urban or rural) recorded for 2025-03" in refused["errors"][0]["message"]
    listed = (await client.get(f"{BASE}/enrolments", params={"jurisdiction": COUNTY}, headers=staff)).json()
    assert all(e["household_id"] != str(legacy_household) for e in listed["items"])
    # a tekun person with no household: no residence selects the standard
    loner = await client.post(
        f"{BASE}/persons",
        json={
            "jurisdiction": COUNTY,
            "name": "钱某",
            "citizen_id": citizen_id("1948-05-06", region="211221"),
        },
        headers=staff,
    )
    tekun = assert_problem(
        await client.post(
            f"{BASE}/enrolments",
            json={
                "program": "tekun",
                "arrangement": "scattered",
                "jurisdiction": COUNTY,
                "person_id": loner.json()["id"],
                "start_month": "2025-03",
                "decision": DECISION,
            },
            headers=staff,
        ),
        422,
    )
    assert tekun["errors"][0]["field"] == "body.person_id"

    connection = await asyncpg.connect(migrated_database.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute(
            "INSERT INTO welfare.enrolments (id, program, jurisdiction, household_id, covered_members, "
            "start_month, status, decision_by, decision_on, decision_reference, version) VALUES "
            "($1, 'dibao', $2, $3, 2, '2025-10-01', 'active', '铁岭县民政局', '2025-09-20', '迁移数据', 1)",
            legacy_enrolment,
            COUNTY,
            legacy_household,
        )
        await connection.execute(
            "INSERT INTO welfare.income_assessments (enrolment_id, effective_month, per_capita_income, "
            "assessed_on, reference, recorded_by) VALUES ($1, '2025-10-01', 300, '2025-09-20', '迁移数据', 'x')",
            legacy_enrolment,
        )
    finally:
        await connection.close()
    run = await pay(client, "2025-10", staff)
    assert run["status"] == "partial", run
    assert any(
        e["message"].startswith(
            "1 active enrolments were not paid for 2025-10: their standard is set apart for urban (城市) "
            "and rural (农村) residents and their household has no residence recorded for the month"
        )
        and e["message"].endswith(f"Enrolments: {legacy_enrolment}")
        for e in run["errors"]
    ), run
    assert await ledger(client, str(legacy_enrolment)) == []
    # its residence recorded, the month asked again pays it at its standard
    read = await client.get(f"{BASE}/households/{legacy_household}", headers=staff)
    assert read.json()["residences"] == []
    recorded = await client.patch(
        f"{BASE}/households/{legacy_household}",
        json={"residence": "urban"},
        headers=staff | {"If-Match": read.headers["ETag"]},
    )
    assert recorded.status_code == 200, recorded.text
    again = await pay(client, "2025-10", staff)
    assert again["entries"] == 1, again
    (paid,) = await ledger(client, str(legacy_enrolment))
    assert (paid["residence"], paid["standard"]["residence"]) == ("urban", "urban")
    # (S − 300) × 2 at the urban standard in force (760.00, or 800.00 once August's version is in)
    assert Decimal(paid["amount"]) == (Decimal(paid["standard"]["amount"]) - 300) * 2 > 0


async def test_where_the_standard_is_one_residence_is_optional_and_ignored(
    client: httpx.AsyncClient, mint: TokenMint
) -> None:
    """In a city with one standard for town and country, a household is registered and
    enrolled without residence, and one recorded rural is paid the same: (700 − 300) × 2."""
    staff = mint.headers(
        scopes=["welfare:read", "welfare:write"], jurisdictions=[ONE_COUNTY], subject="chaoyang-clerk"
    )
    paid = []
    for residence in (None, "rural", "urban"):
        created = await client.post(
            f"{BASE}/households",
            json={"jurisdiction": ONE_COUNTY, "address": "朝阳县"}
            | ({"residence": residence} if residence else {}),
            headers=staff,
        )
        assert created.status_code == 201, created.text
        assert created.json()["residence"] == residence
        enrolment = await client.post(
            f"{BASE}/enrolments",
            json={
                "program": "dibao",
                "jurisdiction": ONE_COUNTY,
                "household_id": created.json()["id"],
                "covered_members": 2,
                "per_capita_income": "300.00",
                "start_month": "2025-03",
                "decision": DECISION,
            },
            headers=staff,
        )
        assert enrolment.status_code == 201, enrolment.text
        paid.append(enrolment.json()["id"])
    run = await client.post(
        f"{BASE}/payrolls", json={"jurisdiction": ONE_COUNTY, "month": "2025-03"}, headers=staff
    )
    assert (run.json()["status"], run.json()["entries"], run.json()["total"]) == ("succeeded", 3, "2400.00")
    for enrolment_id in paid:
        (entry,) = await ledger(client, enrolment_id, staff)
        assert (entry["amount"], entry["residence"]) == ("800.00", None)
        assert (entry["standard"]["amount"], entry["standard"]["residence"]) == ("700.00", None)
        assert entry["standard"]["version"] == "chaoyang-2025"
