"""The year's procedure through the API (in-process): stages, reopening, idempotency, ETags,
carry-back, the three-years-running interview rule, evidence files."""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from appraisal.config import Settings
from appraisal.main import create_app
from platformctl.testing import assert_problem
from shared.errors import PackError
from shared.testing import TokenMint, app_client

BASE = "/api/appraisal/v1"
PACKS = Path(__file__).resolve().parents[1] / "packs"
PANJIN_COUNTIES = ["211102", "211103", "211104", "211122"]
STAGES = [
    "daily_assessment",
    "mid_year_review",
    "status_evaluation",
    "self_evaluation",
    "department_review",
    "comprehensive_evaluation",
]
PDF = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
# a 1×1 PNG: signature, image header, data, end
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c49444154789c63f8ff00000301010058a8a75d0000000049454e44ae426082"
)


@pytest.fixture
async def client(migrated_database: str, mint: TokenMint) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=migrated_database, evidence_max_bytes=4096))
    async with app_client(app, mint) as client:
        yield client


@pytest.fixture
async def early_client(
    migrated_database: str, mint: TokenMint, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """The service on a test copy of the packs whose Panjin version is valid from 2000, so that
    years with a published history (and past incidents) can be played through. The real
    version is valid from its issue, 2024-06-26 (art. 17)."""
    for name in ("panjin", "zhumadian"):
        text = (PACKS / f"{name}.yaml").read_text(encoding="utf-8")
        (tmp_path / f"{name}.yaml").write_text(
            text.replace("valid_from: 2024-06-26", "valid_from: 2000-01-01"), encoding="utf-8"
        )
    app = create_app(Settings(database_url=migrated_database, packs_dir=tmp_path))
    async with app_client(app, mint) as client:
        yield client


def staff(mint: TokenMint, city: str) -> dict[str, str]:
    return mint.headers(
        scopes=["appraisal:read", "appraisal:write"], jurisdictions=[city], subject=f"staff-{city}"
    )


def county(mint: TokenMint, code: str) -> dict[str, str]:
    return mint.headers(
        scopes=["appraisal:read", "appraisal:write"], jurisdictions=[code], subject=f"county-{code}"
    )


async def open_year(
    client: httpx.AsyncClient, headers: dict[str, str], scheme: str, year: int, **caps: Any
) -> dict[str, Any]:
    response = await client.post(
        f"{BASE}/years", json={"scheme": scheme, "year": year, **caps}, headers=headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def move_all(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    scheme: str,
    year: int,
    to: str,
    **extra: Any,
) -> list[dict[str, Any]]:
    response = await client.post(
        f"{BASE}/years/{year}/transitions",
        params={"scheme": scheme},
        json={"to": to, **extra},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    moved: list[dict[str, Any]] = response.json()
    return moved


async def publish_panjin_year(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    year: int,
    points: dict[str, str],
    published_on: str,
) -> list[dict[str, Any]]:
    """A Panjin year from opening to publication with one base indicator worth 100 points."""
    await open_year(client, headers, "panjin", year)
    params = {"scheme": "panjin"}
    indicator = await client.post(
        f"{BASE}/years/{year}/indicators",
        params=params,
        json={
            "code": "basic",
            "name": "食品安全基础工作",
            "content_area": 1,
            "max_points": 100,
            "department": "市市场监管局",
        },
        headers=headers,
    )
    assert indicator.status_code == 201, indicator.text
    for code, value in points.items():
        entry = await client.post(
            f"{BASE}/years/{year}/score-entries",
            params=params,
            json={"subject": code, "indicator": "basic", "points": value, "method": "materials_review"},
            headers=headers,
        )
        assert entry.status_code == 201, entry.text
    for stage in STAGES[1:]:
        await move_all(client, headers, "panjin", year, stage)
    evaluation = await client.post(f"{BASE}/years/{year}/evaluation", params=params, headers=headers)
    assert evaluation.status_code == 200, evaluation.text
    await move_all(client, headers, "panjin", year, "published", effective_on=published_on)
    results: list[dict[str, Any]] = evaluation.json()["results"]
    return results


async def test_opening_a_year_creates_the_schemes_subjects(
    client: httpx.AsyncClient, mint: TokenMint
) -> None:
    headers = staff(mint, "411700")
    year = await open_year(client, headers, "zhumadian", 2101, ad_hoc_cap="10")
    assert year["ad_hoc_cap"] == "10"
    assert year["stages"] == [{"stage": "daily_assessment", "subjects": 13}]
    subjects = (
        await client.get(f"{BASE}/years/2101/subjects", params={"scheme": "zhumadian"}, headers=headers)
    ).json()
    kinds = {s["code"]: (s["kind"], s["ranked"], s["is_zone"]) for s in subjects["items"]}
    assert kinds["411721"] == ("county_government", True, False)
    assert kinds["411700-Z02"] == ("zone_committee", False, True)
    assert len(kinds) == 13
    department = await client.post(
        f"{BASE}/years/2101/subjects",
        params={"scheme": "zhumadian"},
        json={"code": "scjgj", "name": "市市场监管局"},
        headers=headers,
    )
    assert department.status_code == 201, department.text
    assert department.json()["kind"] == "member_department"
    assert department.json()["ranked"] is False
    again = await client.post(f"{BASE}/years", json={"scheme": "zhumadian", "year": 2101}, headers=headers)
    assert_problem(again, 409)


async def test_caps_the_scheme_fixes_cannot_be_set_by_the_year(
    client: httpx.AsyncClient, mint: TokenMint
) -> None:
    headers = staff(mint, "211100")
    above = await client.post(
        f"{BASE}/years", json={"scheme": "panjin", "year": 2102, "ad_hoc_cap": 16}, headers=headers
    )
    assert_problem(above, 422)  # the schema of the panjin variant says ≤ 15
    other_city = await client.post(
        f"{BASE}/years", json={"scheme": "zhumadian", "year": 2102}, headers=headers
    )
    assert_problem(other_city, 403)


async def test_no_stage_is_skipped_and_publication_changes_only_by_reopening(
    client: httpx.AsyncClient, mint: TokenMint
) -> None:
    headers = staff(mint, "211100")
    await open_year(client, headers, "panjin", 2103)
    url = f"{BASE}/years/2103/subjects/211102/transitions"
    skip = await client.post(url, json={"to": "status_evaluation"}, headers=headers)
    body = assert_problem(skip, 409)
    assert "stages cannot be skipped (mid_year_review first)" in body["detail"]
    assert_problem(await client.post(url, json={"to": "daily_assessment"}, headers=headers), 409)
    unknown = await client.post(url, json={"to": "finished"}, headers=headers)
    assert_problem(unknown, 422)
    forward = await client.post(url, json={"to": "mid_year_review", "reason": "半年"}, headers=headers)
    assert forward.status_code == 201, forward.text
    assert forward.json()["from_stage"] == "daily_assessment"
    back = await client.post(url, json={"to": "daily_assessment"}, headers=headers)
    assert "stages go forward only" in assert_problem(back, 409)["detail"]
    # all or none: one subject ahead makes the whole move fail
    bulk = await client.post(
        f"{BASE}/years/2103/transitions", json={"to": "mid_year_review"}, headers=headers
    )
    assert "211102" in assert_problem(bulk, 409)["detail"]
    for code in PANJIN_COUNTIES[1:]:
        moved = await client.post(
            f"{BASE}/years/2103/subjects/{code}/transitions", json={"to": "mid_year_review"}, headers=headers
        )
        assert moved.status_code == 201
    for stage in STAGES[2:]:
        await move_all(client, headers, "panjin", 2103, stage)
    early = await client.post(f"{BASE}/years/2103/transitions", json={"to": "published"}, headers=headers)
    assert "Run the comprehensive evaluation first" in assert_problem(early, 409)["detail"]
    assert (await client.post(f"{BASE}/years/2103/evaluation", headers=headers)).status_code == 200
    await move_all(client, headers, "panjin", 2103, "published")
    late_input = await client.post(
        f"{BASE}/years/2103/subjects/211102/adjustments",
        json={"component": "deduction", "points": 2, "reason": "事件"},
        headers=headers,
    )
    assert "reopening" in assert_problem(late_input, 409)["detail"]
    no_reason = await client.post(url, json={"to": "comprehensive_evaluation"}, headers=headers)
    assert assert_problem(no_reason, 422)["errors"][0]["field"] == "body.reason"
    reopened = await client.post(
        url, json={"to": "comprehensive_evaluation", "reason": "核实后更正减分"}, headers=headers
    )
    assert reopened.status_code == 201
    assert reopened.json()["reopening"] is True
    history = (await client.get(url, headers=headers)).json()["items"]
    assert [(h["from_stage"], h["to_stage"]) for h in history] == [
        ("daily_assessment", "mid_year_review"),
        ("mid_year_review", "status_evaluation"),
        ("status_evaluation", "self_evaluation"),
        ("self_evaluation", "department_review"),
        ("department_review", "comprehensive_evaluation"),
        ("comprehensive_evaluation", "published"),
        ("published", "comprehensive_evaluation"),
    ]
    assert history[0]["reason"] == "半年"
    assert history[-1]["reason"] == "核实后更正减分"
    assert {h["actor"] for h in history} == {"staff-211100"}
    # the reopened subject gains a bonus and would take first place alone: the others' published
    # ranks would change, which only their own reopening allows
    bonus = await client.post(
        f"{BASE}/years/2103/subjects/211102/adjustments",
        json={"component": "bonus", "points": "3", "reason": "经验做法在全省推广"},
        headers=headers,
    )
    assert bonus.status_code == 201, bonus.text
    rerun = await client.post(f"{BASE}/years/2103/evaluation", headers=headers)
    assert "would change published results of 211103, 211104, 211122" in assert_problem(rerun, 409)["detail"]


async def test_posts_replay_with_the_same_key_and_updates_need_the_etag(
    client: httpx.AsyncClient, mint: TokenMint
) -> None:
    headers = staff(mint, "211100")
    key = {"Idempotency-Key": "open-panjin-2104"}
    first = await client.post(
        f"{BASE}/years", json={"scheme": "panjin", "year": 2104}, headers={**headers, **key}
    )
    second = await client.post(
        f"{BASE}/years", json={"scheme": "panjin", "year": 2104}, headers={**headers, **key}
    )
    assert first.status_code == second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    read = await client.get(f"{BASE}/years/2104/subjects/211122", headers=headers)
    etag = read.headers["ETag"]
    change = {"outstanding_note": "创新做法在全省推广"}
    assert_problem(
        await client.patch(f"{BASE}/years/2104/subjects/211122", json=change, headers=headers), 428
    )
    stale = await client.patch(
        f"{BASE}/years/2104/subjects/211122", json=change, headers={**headers, "If-Match": '"x-v9"'}
    )
    assert_problem(stale, 412)
    updated = await client.patch(
        f"{BASE}/years/2104/subjects/211122", json=change, headers={**headers, "If-Match": etag}
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["outstanding_note"] == "创新做法在全省推广"
    audit = (
        await client.get(
            f"{BASE}/audit-log",
            params={"entity": "subject", "entity_id": "panjin:2104:211122"},
            headers=mint.headers(scopes=["appraisal:admin"], jurisdictions=["211100"]),
        )
    ).json()
    assert audit["items"][0]["before"]["outstanding_note"] is None
    assert audit["items"][0]["after"]["outstanding_note"] == "创新做法在全省推广"
    assert audit["items"][0]["actor"] == "staff-211100"


async def test_an_incident_before_publication_counts_against_the_year_before(
    early_client: httpx.AsyncClient, mint: TokenMint
) -> None:
    """Panjin art. 9: an incident in 2016 before the 2015 results are published counts in 2015."""
    client = early_client
    headers = staff(mint, "211100")
    await open_year(client, headers, "panjin", 2015)
    incident = {
        "scheme": "panjin",
        "subject": "211104",
        "description": "学校食堂食物中毒事件",
        "effect": "deduction",
        "points": 3,
    }
    carried = await client.post(
        f"{BASE}/incidents", json={**incident, "occurred_on": "2016-02-10"}, headers=headers
    )
    assert carried.status_code == 201, carried.text
    assert carried.json()["counted_year"] == 2015
    assert carried.json()["carried_back"] is True
    assert carried.json()["citation"] == "盘政办发〔2024〕5号 第九条"
    in_year = await client.post(
        f"{BASE}/incidents", json={**incident, "occurred_on": "2015-06-01"}, headers=headers
    )
    assert in_year.json()["counted_year"] == 2015
    assert in_year.json()["carried_back"] is False
    for stage in STAGES[1:]:
        await move_all(client, headers, "panjin", 2015, stage)
    results = (await client.post(f"{BASE}/years/2015/evaluation", headers=headers)).json()["results"]
    dawa = next(r for r in results if r["subject"] == "211104")
    assert dawa["deductions"] == "6"
    assert dawa["total"] == "-6.0"
    assert [p["kind"] for p in dawa["problems"]] == ["incident", "incident"]
    await move_all(client, headers, "panjin", 2015, "published", effective_on="2016-03-01")
    after = await client.post(
        f"{BASE}/incidents", json={**incident, "occurred_on": "2016-03-01"}, headers=headers
    )
    assert after.json()["counted_year"] == 2016
    assert after.json()["carried_back"] is False
    late_record = await client.post(
        f"{BASE}/incidents", json={**incident, "occurred_on": "2016-02-28"}, headers=headers
    )
    assert late_record.json()["counted_year"] == 2015
    assert late_record.json()["requires_reopening"] is True
    listed = (await client.get(f"{BASE}/years/2015/incidents", headers=headers)).json()["items"]
    assert [i["occurred_on"] for i in listed] == ["2015-06-01", "2016-02-10", "2016-02-28"]


async def test_last_place_three_years_running_from_stored_history(
    early_client: httpx.AsyncClient, mint: TokenMint
) -> None:
    """Panjin art. 14: last place three years running → the county leaders are interviewed and
    barred from awards; a large drop in score → the county food-safety office head is
    interviewed; the history is the results the service published."""
    client = early_client
    headers = staff(mint, "211100")
    last = {"211102": "90", "211103": "85", "211104": "80", "211122": "70"}
    await publish_panjin_year(client, headers, 2005, last, "2006-01-20")
    await publish_panjin_year(client, headers, 2006, last, "2007-01-20")
    params = {"scheme": "panjin"}
    two_years = (await client.get(f"{BASE}/years/2006/consequences", params=params, headers=headers)).json()
    assert not [f for f in two_years["leader_interviews"] if f["reason"] == "last_places"]
    moved_up = {**last, "211122": "95", "211102": "60"}
    await publish_panjin_year(client, headers, 2007, moved_up, "2008-01-20")
    third = (await client.get(f"{BASE}/years/2007/consequences", params=params, headers=headers)).json()
    assert not [f for f in third["leader_interviews"] if f["reason"] == "last_places"]
    assert {(f["subject"], f["reason"]) for f in third["commendations"]} >= {
        ("211122", "grade_a"),
        ("211122", "rank_improvement"),
    }
    # art. 14 para. 2: 211102 fell from 90 to 60 points (and from rank 1 to 4): a drop in score
    [drop] = third["office_head_interviews"]
    assert (drop["subject"], drop["reason"]) == ("211102", "score_drop")
    assert drop["detail"] == (
        "total 90 in 2006 → 60 in 2007 (down 30): 「考核成绩下降幅度较大」, taken as 5 points or more "
        "(interpretation large_score_drop_points = 5)"
    )
    assert drop["interpretations"] == ["large_score_drop_points"]
    assert drop["interviewees"][-1] == {
        "who": "责任涉及的县区级领导小组（委员会）成员单位主要负责人",
        "when_necessary": True,
        "by": None,
    }
    await publish_panjin_year(client, headers, 2008, last, "2009-01-20")
    await publish_panjin_year(client, headers, 2009, last, "2010-01-20")
    await publish_panjin_year(client, headers, 2010, last, "2011-01-20")
    running = (await client.get(f"{BASE}/years/2010/consequences", params=params, headers=headers)).json()
    assert running["history_years"] == [2008, 2009]
    interviews = [f for f in running["leader_interviews"] if f["reason"] == "last_places"]
    assert [(f["subject"], f["detail"]) for f in interviews] == [
        ("211122", "in the last 1 place(s) 3 years running (2008–2010)")
    ]
    assert interviews[0]["citation"] == "盘政办发〔2024〕5号 第十四条第一款"
    assert [f["subject"] for f in running["barred_from_awards"]] == ["211122"]
    assert {f["subject"] for f in running["rectification"]} == set(PANJIN_COUNTIES)  # no reports
    assert running["rules_not_published"][0]["citation"] == "盘政办发〔2024〕5号 第六条"


async def test_evidence_limits_type_checks_and_digest(client: httpx.AsyncClient, mint: TokenMint) -> None:
    city = staff(mint, "411700")
    await open_year(client, city, "zhumadian", 2105)
    for stage in STAGES[1:4]:
        await move_all(client, city, "zhumadian", 2105, stage)
    own = county(mint, "411725")
    url = f"{BASE}/years/2105/subjects/411725/evidence"
    uploaded = await client.post(
        url,
        files={"file": ("自评材料.pdf", PDF, "application/pdf")},
        data={"purpose": "self_evaluation"},
        headers=own,
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert uploaded.json()["size"] == len(PDF)
    download = await client.get(f"{url}/{uploaded.json()['id']}", headers=own)
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    too_large = await client.post(
        url,
        files={"file": ("big.pdf", PDF + b"0" * 4096, "application/pdf")},
        data={"purpose": "self_evaluation"},
        headers=own,
    )
    assert assert_problem(too_large, 413)["limit_bytes"] == 4096
    wrong_type = await client.post(
        url,
        files={"file": ("a.exe", b"MZ\x90\x00", "application/x-msdownload")},
        data={"purpose": "self_evaluation"},
        headers=own,
    )
    assert_problem(wrong_type, 415)
    disguised = await client.post(
        url,
        files={"file": ("a.pdf", b"MZ\x90\x00", "application/pdf")},
        data={"purpose": "self_evaluation"},
        headers=own,
    )
    assert (
        "is declared PDF but its content is a Windows executable" in assert_problem(disguised, 415)["detail"]
    )
    png_as_pdf = await client.post(
        url,
        files={"file": ("scan.pdf", b"\x89PNG\r\n\x1a\n....", "application/pdf")},
        data={"purpose": "self_evaluation"},
        headers=own,
    )
    assert "content is a PNG file" in assert_problem(png_as_pdf, 415)["detail"]
    by_extension = await client.post(
        url,
        files={"file": ("photo.png", PNG, "application/octet-stream")},
        data={"purpose": "self_evaluation"},
        headers=own,
    )
    assert by_extension.json()["content_type"] == "image/png"
    other_county = await client.post(
        url,
        files={"file": ("a.pdf", PDF, "application/pdf")},
        data={"purpose": "self_evaluation"},
        headers=county(mint, "411726"),
    )
    assert_problem(other_county, 404)
    listed = (await client.get(url, headers=city)).json()["items"]
    assert [item["filename"] for item in listed] == ["自评材料.pdf", "photo.png"]
    workbook = await client.get(f"{BASE}/years/2105/results", params={"format": "xlsx"}, headers=city)
    assert workbook.status_code == 200
    assert load_workbook(io.BytesIO(workbook.content)).sheetnames == ["考核结果", "适用规则"]


async def test_a_broken_pack_stops_the_start(migrated_database: str, mint: TokenMint, tmp_path: Path) -> None:
    broken = (PACKS / "panjin.yaml").read_text(encoding="utf-8").replace("max: 15", "max: -1")
    (tmp_path / "panjin.yaml").write_text(broken, encoding="utf-8")
    app = create_app(Settings(database_url=migrated_database, packs_dir=tmp_path))
    with pytest.raises(PackError) as caught:
        async with app_client(app, mint):
            pass
    assert (caught.value.file, caught.value.field) == ("panjin.yaml", "score.caps.ad_hoc.max")
    assert "greater than or equal to 0" in caught.value.problem


def test_interpretations_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPRAISAL_INTERPRETATIONS__RANK_BEYOND_BANDS_GRADE", "B")
    monkeypatch.setenv("APPRAISAL_INTERPRETATIONS__DOUBLED_BONUS_RESPECTS_CAP", "false")
    monkeypatch.setenv("APPRAISAL_INTERPRETATIONS__TIE_RULE", "dense")
    monkeypatch.setenv("APPRAISAL_INTERPRETATIONS__LARGE_SCORE_DROP_POINTS__DEFAULT", "7.5")
    monkeypatch.setenv("APPRAISAL_INTERPRETATIONS__LARGE_RANK_RISE_PLACES__DEFAULT", "3")
    monkeypatch.setenv("APPRAISAL_INTERPRETATIONS__LARGE_RANK_RISE_PLACES__SCHEMES", '{"panjin": 1}')
    settings = Settings(database_url="postgresql://localhost/unused")
    assert settings.interpretations.rank_beyond_bands_grade == "B"
    assert settings.interpretations.doubled_bonus_respects_cap is False
    assert settings.interpretations.tie_rule == "dense"
    assert settings.interpretations.large_score_drop_points.of("panjin") == Decimal("7.5")
    assert settings.interpretations.large_rank_rise_places.of("panjin") == 1
    assert settings.interpretations.large_rank_rise_places.of("zhumadian") == 3
    assert settings.interpretations.large_rank_drop_places.of("zhumadian") == 3
    assert Settings(database_url="postgresql://x/y").evidence_max_bytes == 10 * 1024 * 1024


async def test_who_opens_a_year_and_changes_its_caps(client: httpx.AsyncClient, mint: TokenMint) -> None:
    admin_only = mint.headers(scopes=["appraisal:admin"], jurisdictions=["411700"])
    department = mint.headers(
        scopes=["appraisal:read", "appraisal:write"], jurisdictions=["411700"], units=["市市场监管局"]
    )
    assert_problem(
        await client.post(f"{BASE}/years", json={"scheme": "zhumadian", "year": 2107}, headers=department),
        403,
    )
    await open_year(client, admin_only, "zhumadian", 2107)
    headers = staff(mint, "411700")
    read = await client.get(f"{BASE}/years/2107", headers=headers)
    capped = await client.patch(
        f"{BASE}/years/2107",
        json={"ad_hoc_cap": "12.5"},
        headers={**headers, "If-Match": read.headers["ETag"]},
    )
    assert capped.status_code == 200, capped.text
    assert capped.json()["ad_hoc_cap"] == "12.5"
    panjin = staff(mint, "211100")
    await open_year(client, panjin, "panjin", 2107)
    ambiguous = await client.get(
        f"{BASE}/years/2107", headers=mint.headers(scopes=["appraisal:read"], jurisdictions=["*"])
    )
    assert "name one with ?scheme=" in assert_problem(ambiguous, 409)["detail"]
    read = await client.get(f"{BASE}/years/2107", headers=panjin)
    above = await client.patch(
        f"{BASE}/years/2107", json={"ad_hoc_cap": 16}, headers={**panjin, "If-Match": read.headers["ETag"]}
    )
    assert "must not exceed 15" in assert_problem(above, 409)["detail"]
    unknown = await client.get(f"{BASE}/years/2107", params={"scheme": "shenyang"}, headers=panjin)
    assert assert_problem(unknown, 422)["errors"][0]["field"] == "query.scheme"


async def test_a_created_subject_links_to_the_operations_on_it(client: httpx.AsyncClient) -> None:
    """A department made by POST …/subjects is named by its code below it: the OpenAPI link says
    so, so that clients (and stateful fuzzing) do not guess the path from another field."""
    document = (await client.get("/openapi.json")).json()
    links = document["paths"][f"{BASE}/years/{{year}}/subjects"]["post"]["responses"]["201"]["links"]
    assert links["years-read_subject"]["parameters"] == {
        "year": "$request.path.year",
        "subject": "$response.body#/code",
    }
    assert "evidence-download_evidence" not in links
    assert "evaluation-create_adjustment" in links
