"""The monthly county progress report (盘政办发〔2024〕4号 四（三）: "建立定期报告和通报制度"):
enrolments, amounts paid and arrears booked per county and program, as JSON and XLSX.

Runs in 正阳县 (411724), which no other test gives welfare data: the county gets its own
standard (Zhumadian has no welfare pack), two households are enrolled and paid for May 2023,
then a higher standard from May books arrears today.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from platformctl.testing import Platform, assert_problem
from shared.months import YearMonth, policy_today

BASE = "/api/welfare/v1"
COUNTY = "411724"
CITY = "411700"
CITATION = {"document": "正政办发〔2023〕1号", "article": "一"}
DECISION = {"by": "正阳县民政局", "on": "2023-04-20", "reference": "正民低〔2023〕5号"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
async def county_with_payments(platform: Platform) -> dict[str, Any]:
    async with platform.client(headers=await platform.admin_headers()) as client:
        first = await client.post(
            f"{BASE}/standards/versions",
            json={
                "jurisdiction": COUNTY,
                "version_id": "zhengyang-2023",
                "effective_from": "2023-01-01",
                "published_on": "2022-12-20",
                "dibao": "600.00",
                "dibao_citation": CITATION,
            },
        )
        assert first.status_code == 201, first.text
        for income in ("100.00", "200.00"):
            household = await client.post(
                f"{BASE}/households", json={"jurisdiction": COUNTY, "address": "正阳县真阳街道 3 号"}
            )
            enrolment = await client.post(
                f"{BASE}/enrolments",
                json={
                    "program": "dibao",
                    "jurisdiction": COUNTY,
                    "household_id": household.json()["id"],
                    "covered_members": 2,
                    "per_capita_income": income,
                    "start_month": "2023-05",
                    "decision": DECISION,
                },
            )
            assert enrolment.status_code == 201, enrolment.text
        paid = await client.post(f"{BASE}/payrolls", json={"jurisdiction": COUNTY, "month": "2023-05"})
        assert paid.json()["total"] == "1800.00"  # (600 − 100) × 2 + (600 − 200) × 2
        raised = await client.post(
            f"{BASE}/standards/versions",
            json={
                "jurisdiction": COUNTY,
                "version_id": "zhengyang-2023-05",
                "effective_from": "2023-05-01",
                "published_on": "2023-06-01",
                "dibao": "610.00",
                "dibao_citation": CITATION,
            },
        )
        assert raised.status_code == 201, raised.text
        run_id = raised.json()["recalculation_id"]
        for _ in range(600):
            run = (await client.get(f"{BASE}/recalculations/{run_id}")).json()
            if run["status"] not in ("queued", "running"):
                break
            await asyncio.sleep(0.1)
        assert run["status"] == "succeeded", run
        assert run["arrears_total"] == "40.00"
    return {"clerk": await platform.account("clerk-411724", scopes=["welfare:read"], jurisdictions=[COUNTY])}


def dibao_of(report: dict[str, Any], code: str) -> dict[str, Any]:
    row = next(row for row in report["rows"] if row["jurisdiction"] == code)
    return next(p for p in row["programs"] if p["program"] == "dibao")


async def test_the_month_of_payment_and_the_month_arrears_were_booked(
    platform: Platform, county_with_payments: dict[str, Any]
) -> None:
    async with platform.client(headers=county_with_payments["clerk"]) as client:
        may = await client.get(
            f"{BASE}/reports/county-progress", params={"jurisdiction": COUNTY, "month": "2023-05"}
        )
        assert may.status_code == 200, may.text
        body = may.json()
        assert [row["jurisdiction"] for row in body["rows"]] == [COUNTY]
        assert body["rows"][0]["name"] == "正阳县"
        assert (body["citation"]["document"], body["citation"]["article"]) == (
            "盘政办发〔2024〕4号",
            "四（三）",
        )
        dibao = dibao_of(body, COUNTY)
        assert (dibao["active_enrolments"], dibao["started"], dibao["ended"]) == (2, 2, 0)
        assert (dibao["paid_entries"], dibao["paid_total"]) == (2, "1800.00")
        assert body["totals"]["paid_total"] == "1800.00"
        now = str(YearMonth.of(policy_today()))
        booked = (
            await client.get(f"{BASE}/reports/county-progress", params={"jurisdiction": COUNTY, "month": now})
        ).json()
        assert (dibao_of(booked, COUNTY)["arrears_entries"], dibao_of(booked, COUNTY)["arrears_total"]) == (
            2,
            "40.00",
        )
        assert dibao_of(booked, COUNTY)["active_enrolments"] == 2
        # another county's figures and the city's report are not this clerk's
        assert_problem(
            await client.get(
                f"{BASE}/reports/county-progress", params={"jurisdiction": CITY, "month": "2023-05"}
            ),
            403,
        )
        future = await client.get(
            f"{BASE}/reports/county-progress",
            params={"jurisdiction": COUNTY, "month": str(YearMonth.of(policy_today()).next())},
        )
        assert assert_problem(future, 422)["errors"][0]["field"] == "query.month"
    async with platform.client(headers=await platform.admin_headers()) as city:
        report = (
            await city.get(
                f"{BASE}/reports/county-progress", params={"jurisdiction": CITY, "month": "2023-05"}
            )
        ).json()
        assert [row["jurisdiction"] for row in report["rows"]][:2] == [CITY, "411702"]
        assert dibao_of(report, COUNTY)["paid_total"] == "1800.00"


async def test_the_report_as_xlsx(platform: Platform, county_with_payments: dict[str, Any]) -> None:
    async with platform.client(headers=county_with_payments["clerk"]) as client:
        for params, headers in (
            ({"format": "xlsx"}, {}),
            ({}, {"Accept": XLSX}),
        ):
            answer = await client.get(
                f"{BASE}/reports/county-progress",
                params={"jurisdiction": COUNTY, "month": "2023-05", **params},
                headers=headers,
            )
            assert answer.status_code == 200, answer.text
            assert answer.headers["content-type"] == XLSX
            assert "welfare-county-progress-411724-2023-05.xlsx" in answer.headers["content-disposition"]
            sheet = load_workbook(io.BytesIO(answer.content)).active
            assert sheet is not None
            rows = list(sheet.iter_rows(values_only=True))
            assert any("四（三）" in str(cell) for row in rows for cell in row if cell)
            dibao = next(row for row in rows if row[0] == COUNTY and row[2] == "低保")
            assert dibao[3:8] == (2, 2, 0, 2, 1800)
            assert any(row[1] == "合计 total" for row in rows)
        refused = await client.get(
            f"{BASE}/reports/county-progress",
            params={"jurisdiction": COUNTY, "month": "2023-05"},
            headers={"Accept": "application/pdf"},
        )
        assert_problem(refused, 406)
