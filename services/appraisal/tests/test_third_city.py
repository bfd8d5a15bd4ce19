"""A third city is data only (issue "A third city is data only"): a scheme for a city that is
neither Panjin nor Zhumadian, in a pack folder of its own, is loaded by the unchanged service,
which grades under it — its own caps, bands, double counting, stages, zones and consequences.

The scheme below is test data (a made-up document for 铁岭市, GB/T 2260 code 211200), shaped
unlike both real ones: zones are ranked, there is no mid-year review, the province's points
count 1.5 times, the bands are 1–2 / 3–5 / 6+, no carry-back and no commendation for a rise.

The jurisdiction registry knows every GB/T 2260 code, the city's counties included; its
development zone comes from a zones file of the deployment's own (JURISDICTION_ZONES_FILE), so
the whole year runs, still without a code change.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from appraisal.config import Settings
from appraisal.main import create_app
from platformctl.testing import assert_problem
from shared.jurisdictions import ZONES_FILE, ZONES_FILE_SETTING, registry
from shared.testing import TokenMint, app_client

BASE = "/api/appraisal/v1"
CITY = "211200"
COUNTIES = ["211202", "211204", "211221", "211223", "211224", "211281", "211282"]
ZONE = "211200-Z01"
DOCUMENT = "测试〔2025〕1号"


def cite(article: str) -> str:
    return f"{DOCUMENT} {article}"


def stage(name: str, title: str, article: str) -> dict[str, str]:
    return {"stage": name, "name": title, "citation": cite(article)}


SCHEME: dict[str, Any] = {
    "scheme": "thirdcity",
    "city": CITY,
    "name": "第三城市食品安全工作评议考核办法（测试数据）",
    "document": DOCUMENT,
    "issued_on": "2025-01-01",
    "citation": cite("第二十条"),
    "version": {
        "number": 1,
        "valid_from": "2025-01-01",
        "valid_to": None,
        "text": "本办法自印发之日起施行。",
        "citation": cite("第二十条"),
    },
    "appraisal_year": {
        "starts": "01-01",
        "ends": "12-31",
        "text": "每年为一个考核年度。",
        "citation": cite("第五条"),
    },
    "rules_publication": [
        {
            "document": "detailed_rules",
            "name": "年度考核细则",
            "deadline": "07-31",
            "text": "每年7月底前发布年度考核细则。",
            "citation": cite("第五条"),
        }
    ],
    "subjects": [
        {
            "kind": "county_government",
            "name": "各县（市）区人民政府",
            "jurisdiction_kinds": ["county", "district"],
            "ranked": True,
            "text": "考核对象为各县（市）区人民政府。",
            "citation": cite("第三条"),
        },
        {
            "kind": "zone_committee",
            "name": "开发区管委会",
            "jurisdiction_kinds": ["zone"],
            "ranked": True,
            "text": "开发区管委会参照县区考核，一并排名定级。",
            "citation": cite("第三条"),
        },
    ],
    "zones": {"ranked": True, "text": "开发区管委会参照县区考核，一并排名定级。", "citation": cite("第三条")},
    "workflow": [
        stage("daily_assessment", "日常考核", "第七条（一）"),
        stage("status_evaluation", "食品安全状况评价", "第七条（二）"),
        stage("self_evaluation", "自评", "第七条（三）"),
        stage("department_review", "部门评审", "第七条（四）"),
        stage("comprehensive_evaluation", "综合评议", "第七条（五）"),
        stage("published", "结果通报", "第七条（六）"),
        stage("rectification", "整改", "第十一条"),
    ],
    "score": {
        "text": "基准分100分，即时性工作不超过10分，加分不超过3分，减分不超过20分。",
        "citation": cite("第八条"),
        "caps": {
            "base": {"max": 100, "set_by_year": False, "text": "基准分100分", "citation": cite("第八条")},
            "ad_hoc": {
                "max": 10,
                "set_by_year": False,
                "text": "即时性工作不超过10分",
                "citation": cite("第八条"),
            },
            "bonus": {"max": 3, "set_by_year": False, "text": "加分不超过3分", "citation": cite("第八条")},
            "deductions": {
                "max": 20,
                "set_by_year": False,
                "text": "减分不超过20分",
                "citation": cite("第八条"),
            },
        },
    },
    "double_counting": {"multiplier": 1.5, "text": "省级加减分按1.5倍计。", "citation": cite("第十条")},
    "grades": {
        "ranking_text": "按得分排名",
        "ranking_citation": cite("第九条"),
        "bands": [
            {
                "grade": "A",
                "from_rank": 1,
                "to_rank": 2,
                "text": "前2名为A级",
                "citation": cite("第九条（一）"),
            },
            {
                "grade": "B",
                "from_rank": 3,
                "to_rank": 5,
                "text": "第3至5名为B级",
                "citation": cite("第九条（二）"),
            },
            {
                "grade": "C",
                "from_rank": 6,
                "to_rank": None,
                "text": "其余为C级",
                "citation": cite("第九条（三）"),
            },
        ],
        "downgrade": {
            "steps": 1,
            "floor": "C",
            "text": "下调一级，最低C级",
            "citation": cite("第九条（四）"),
        },
        "veto": {"grade": "D", "text": "为D级", "citation": cite("第九条（五）")},
    },
    "downgrade_circumstances": [
        {"id": "third-9-4-1", "text": "属地管理责任落实不到位的", "citation": cite("第九条（四）1")},
        {"id": "third-9-4-2", "text": "弄虚作假的", "citation": cite("第九条（四）2"), "fraud": True},
    ],
    "veto_circumstances": [
        {"id": "third-9-5-1", "text": "瞒报食品安全事故的", "citation": cite("第九条（五）1")}
    ],
    "carry_back": None,
    "rectification": {
        "period_months": 2,
        "text": "通报后两个月内书面报告整改。",
        "citation": cite("第十一条"),
    },
    "commendations": {
        "grade": "A",
        "grade_citation": cite("第十二条（一）"),
        "rank_improvement_citation": None,
        "outstanding_citation": cite("第十二条（二）"),
        "text": "A级及成效突出的予以通报表扬。",
    },
    "interviews": {
        "leaders": {
            "grade": "D",
            "last_places": 2,
            "consecutive_years": 2,
            "bars_awards": True,
            "interviewer": "市食安委",
            "interviewees": [{"who": "县（市）区政府主要负责人"}],
            "text": "D级或连续两年列最后2名的，约谈县（市）区政府主要负责人。",
            "citation": cite("第十三条第一款"),
        },
        "office_head": {
            "large_drop": {"measure": "rank", "text": "排名退步较大", "citation": cite("第十三条第二款")},
            "unresolved_rectification": True,
            "bars_awards": False,
            "interviewer": "市食安办",
            "interviewees": [{"who": "县（市）区食安办主要负责人"}],
            "text": "排名退步较大或整改不到位的，约谈食安办主要负责人。",
            "citation": cite("第十三条第二款"),
        },
        "barred_text": "被约谈的领导干部不得参加评奖。",
        "barred_citation": cite("第十三条第三款"),
    },
    "fraud": {"text": "弄虚作假的予以通报批评。", "citation": cite("第十四条")},
    "content_areas": [
        {
            "number": 1,
            "name": "基础工作",
            "component": "base",
            "key_points": "基础工作。",
            "citation": cite("第六条（一）"),
        },
        {
            "number": 2,
            "name": "即时性工作",
            "component": "ad_hoc",
            "key_points": "即时性工作。",
            "citation": cite("第六条（二）"),
        },
        {
            "number": 3,
            "name": "加分项",
            "component": "bonus",
            "key_points": "加分。",
            "citation": cite("第六条（三）"),
        },
        {
            "number": 4,
            "name": "减分项",
            "component": "deductions",
            "key_points": "减分。",
            "citation": cite("第六条（四）"),
        },
    ],
}
THIRD_CITY_ZONE = {"code": ZONE, "name": "铁岭经济开发区", "parent": CITY}


@pytest.fixture
def packs(tmp_path: Path) -> Path:
    folder = tmp_path / "packs"
    folder.mkdir()
    (folder / "thirdcity.yaml").write_text(
        yaml.safe_dump(SCHEME, allow_unicode=True, sort_keys=False), "utf-8"
    )
    return folder


@pytest.fixture
async def client(migrated_database: str, mint: TokenMint, packs: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The appraisal service as it is, started on the third city's pack folder only."""
    app = create_app(Settings(database_url=migrated_database, packs_dir=packs))
    async with app_client(app, mint) as client:
        yield client


@pytest.fixture
def registry_knowing_the_city(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The deployment's zones file adds the third city's development zone."""
    data = yaml.safe_load(ZONES_FILE.read_text(encoding="utf-8"))
    data["zones"].append(THIRD_CITY_ZONE)
    path = tmp_path / "zones.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv(ZONES_FILE_SETTING, str(path))
    registry.cache_clear()
    try:
        yield
    finally:
        monkeypatch.delenv(ZONES_FILE_SETTING)
        registry.cache_clear()


def city_staff(mint: TokenMint) -> dict[str, str]:
    return mint.headers(
        scopes=["appraisal:read", "appraisal:write"], jurisdictions=[CITY], subject="third-city"
    )


def by_id(answer: httpx.Response) -> dict[str, dict[str, Any]]:
    assert answer.status_code == 200, answer.text
    return {item["id"]: item for item in answer.json()["results"]}


def rule(result: dict[str, Any], name: str) -> dict[str, Any]:
    return next(item for item in result["applied"] if item["rule"] == name)


async def test_the_service_grades_a_third_city_from_its_pack_alone(
    client: httpx.AsyncClient, mint: TokenMint
) -> None:
    headers = city_staff(mint)
    schemes = (await client.get(f"{BASE}/schemes", headers=headers)).json()["items"]
    assert [(s["scheme"], s["city"], s["version"]) for s in schemes] == [("thirdcity", CITY, 1)]
    subjects = [{"id": code, "base": 90 - index, "ad_hoc": 5} for index, code in enumerate(COUNTIES)]
    subjects[0] |= {"bonus": 2, "provincial_bonus": 1}  # 2 + 1.5 × 1 = 3.5, capped at 3
    subjects[1] |= {"downgrades": 1}
    subjects[2] |= {"veto": True}
    subjects.append({"id": ZONE, "base": 99, "ad_hoc": 10, "zone": True})
    results = by_id(
        await client.post(
            f"{BASE}/grading", json={"scheme": "thirdcity", "subjects": subjects}, headers=headers
        )
    )
    assert [
        (code, results[code]["total"], results[code]["rank"], results[code]["grade"]) for code in results
    ] == [
        ("211202", "98.0", 2, "A"),
        ("211204", "94.0", 3, "C"),  # B by rank, one level lower
        ("211221", "93.0", 4, "D"),  # vetoed
        ("211223", "92.0", 5, "B"),
        ("211224", "91.0", 6, "C"),
        ("211281", "90.0", 7, "C"),
        ("211282", "89.0", 8, "C"),
        (ZONE, "109.0", 1, "A"),  # this city ranks its zones
    ]
    first = results["211202"]
    assert rule(first, "double_counting_bonus")["detail"].startswith("provincial bonus 1 × 1.5 = 1.5")
    assert rule(first, "double_counting_bonus")["citation"] == f"{DOCUMENT} 第十条"
    assert rule(first, "bonus_total_cap")["interpretation"] == "doubled_bonus_respects_cap"
    assert rule(first, "grade_band")["citation"] == f"{DOCUMENT} 第九条（一）"
    assert rule(results["211204"], "downgrade")["citation"] == f"{DOCUMENT} 第九条（四）"
    too_much = await client.post(
        f"{BASE}/grading",
        json={"scheme": "thirdcity", "subjects": [{"id": "211202", "base": 90, "bonus": 4}]},
        headers=headers,
    )
    assert "exceeds the cap of 3" in assert_problem(too_much, 422)["detail"]
    assert registry().require(CITY).name == "铁岭市"


async def test_a_whole_year_of_the_third_city_runs_on_registry_data(
    registry_knowing_the_city: None, client: httpx.AsyncClient, mint: TokenMint
) -> None:
    headers = city_staff(mint)
    years = f"{BASE}/years/2025"

    async def ok(response: Any, status: int = 201) -> Any:
        answer = await response
        assert answer.status_code == status, answer.text
        return answer.json()

    opened = await ok(
        client.post(f"{BASE}/years", json={"scheme": "thirdcity", "year": 2025}, headers=headers)
    )
    assert (opened["scheme_version"], opened["document"]) == (1, DOCUMENT)
    assert opened["stages"] == [{"stage": "daily_assessment", "subjects": 8}]
    await ok(
        client.post(
            f"{years}/indicators",
            json={
                "code": "basic",
                "name": "基础工作",
                "content_area": 1,
                "max_points": 100,
                "department": "市市场监管局",
            },
            headers=headers,
        )
    )
    for index, code in enumerate([*COUNTIES, ZONE]):
        await ok(
            client.post(
                f"{years}/score-entries",
                json={
                    "subject": code,
                    "indicator": "basic",
                    "points": 95 - index,
                    "method": "materials_review",
                },
                headers=headers,
            )
        )
    # the scheme has no mid-year review: the stage is skipped by the scheme, refused as a record
    await ok(client.post(f"{years}/transitions", json={"to": "status_evaluation"}, headers=headers))
    review = await client.post(
        f"{years}/subjects/211202/mid-year-review",
        json={"reviewed_on": "2025-07-01", "key_tasks": "重点任务"},
        headers=headers,
    )
    assert f"is not a stage of {DOCUMENT}" in assert_problem(review, 409)["detail"]
    await ok(
        client.post(
            f"{years}/subjects/211204/adjustments",
            json={"component": "bonus", "points": 2, "provincial": True, "reason": "省级表扬"},
            headers=headers,
        )
    )
    for name in ("self_evaluation", "department_review", "comprehensive_evaluation"):
        await ok(client.post(f"{years}/transitions", json={"to": name}, headers=headers))
    evaluated = await ok(client.post(f"{years}/evaluation", headers=headers), 200)
    ranks = {item["subject"]: (item["total"], item["rank"], item["grade"]) for item in evaluated["results"]}
    assert ranks["211204"] == ("97.0", 1, "A")  # 94 + min(1.5 × 2, 3)
    assert ranks["211202"] == ("95.0", 2, "A")
    assert ranks[ZONE] == ("88.0", 8, "C")
    await ok(
        client.post(
            f"{years}/transitions", json={"to": "published", "effective_on": "2026-01-15"}, headers=headers
        )
    )
    consequences = await ok(client.get(f"{years}/consequences", headers=headers), 200)
    assert [item["subject"] for item in consequences["commendations"]] == ["211202", "211204"]
    assert {item["citation"] for item in consequences["rectification"]} <= {f"{DOCUMENT} 第十一条"}
    rectification = await ok(client.get(f"{years}/subjects/211202", headers=headers), 200)
    assert rectification["rectification_due_on"] == "2026-03-15"  # two months after publication
