"""Scenario: a Panjin unit reports on one task on time, misses the deadline of another, and the
monthly bulletin (月通报) shows it under the right responsible leader, as JSON, as an XLSX report
and as a DOCX and PDF 通报 that print on at most 4 A4 landscape pages (LibreOffice renders the
XLSX and DOCX where it is installed).

The plan is 盘政发〔2024〕4号; 市商务局 leads, among others, task 28 (家电以旧换新) and task 30
(《盘锦市再生资源回收体系建设规划》). Through the gateway only:

1. the city's plan coordinator (a staff account with renewal:admin, not the administrator)
   sets monthly reporting duties for 市商务局 on both tasks: each month's report is due on
   the 28th of the following month, with 3 days' grace;
2. a 市商务局 user reports on task 28 for last month, before its deadline; nothing is
   reported on task 30; a 市交通运输局 user, not a unit of either task, is refused;
3. the status after task 30's deadline shows the report missing, and next month's bulletin
   lists 市商务局 among the units that have not reported, with task 30 under 胡振乾.

Report times are the server's clock, so the months are taken relative to today: "last
month" is the month before the current one, and the bulletin is the next month's.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from docx import Document
from openpyxl import load_workbook

from platformctl.testing import Platform, assert_problem, platform_on_own_database
from shared.months import YearMonth
from shared.testing_documents import assert_a4_landscape, pdf_pages, pdf_text, render_with_libreoffice

BASE = "/api/renewal/v1"
PLAN = "panjin-2024-equipment-renewal"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
UNIT = "市商务局"
ON_TIME_TASK = 28  # 盘政发〔2024〕4号 三（二）28, 牵头单位：市商务局
MISSED_TASK = 30  # 盘政发〔2024〕4号 四（一）30, 牵头单位：市商务局
DUE_DAY = 28
GRACE_DAYS = 3
# 盘政办发〔2024〕3号 二（胡振乾）: "分管市工业和信息化局（国防科技工业办公室）、商务局（市政府外事
# 办公室）、市场监督管理局（知识产权局）…联系…电力公司…": 胡振乾 supervises 市商务局, so he is the
# responsible leader of the tasks it leads.
LEADER = "胡振乾"
# Tasks of 盘政发〔2024〕4号 whose lead unit 胡振乾 supervises or liaises with: 市工业和信息化局
# (1, 2, 6, 35, 36, 43), 国网盘锦供电公司 (电力公司, liaised; 5), 市市场监管局 (8, 34, 38, 39, 40,
# 41) and 市商务局 (26, 28, 29, 30, 44, 46). None of them has a target of its own.
LEADER_TASKS = {1, 2, 5, 6, 8, 26, 28, 29, 30, 34, 35, 36, 38, 39, 40, 41, 43, 44, 46}
UNIT_TASKS = {26, 28, 29, 30, 44, 46}
# what the scenario exported, for the rendering test after it
PRINTED: dict[str, Any] = {}
STATUS_LABELS = [
    "已完成",
    "按期推进",
    "进度滞后",
    "未报送",
    "逾期未完成",
]  # achieved … overdue, best to worst


@pytest.fixture(scope="module")
async def platform(database_url: str) -> AsyncIterator[Platform]:
    """A platform of its own: the bulletin shows this scenario's reports only (other tests
    file reports into the same plan on the shared platform, and a bulletin's length follows
    what was reported)."""
    async with platform_on_own_database(database_url, "bulletin") as own:
        yield own


@pytest.fixture(scope="module")
async def users(platform: Platform) -> dict[str, dict[str, str]]:
    write = ["renewal:read", "renewal:write"]
    return {
        "coordinator": await platform.account(
            "bulletin-city-coordinator",
            scopes=[*write, "renewal:admin"],
            jurisdictions=["211100"],
            roles=["staff"],
        ),
        "commerce": await platform.account(
            "bulletin-commerce", scopes=write, units=[UNIT], jurisdictions=["211100"]
        ),
        "transport": await platform.account(
            "bulletin-transport", scopes=write, units=["市交通运输局"], jurisdictions=["211100"]
        ),
    }


def rows(sheet: Any) -> list[list[Any]]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


async def test_a_missed_deadline_shows_under_the_responsible_leader(
    platform: Platform, users: dict[str, dict[str, str]]
) -> None:
    this_month = YearMonth.of(dt.datetime.now(dt.UTC).date())
    last_month = this_month.plus(-1)
    bulletin_month = this_month.next()
    # last month's reports are due on the 28th of this month; the grace ends 3 days later
    deadline = dt.date(this_month.year, this_month.month, DUE_DAY)
    grace_ends = deadline + dt.timedelta(days=GRACE_DAYS)

    async with platform.client(headers=users["commerce"]) as commerce:
        # a unit does not set its own duties
        assert_problem(
            await commerce.post(
                f"{BASE}/plans/{PLAN}/duties",
                json={
                    "task_number": MISSED_TASK,
                    "unit": UNIT,
                    "cadence": "monthly",
                    "starts": last_month.first_day.isoformat(),
                    "due_day": DUE_DAY,
                },
            ),
            403,
        )

    async with platform.client(headers=users["coordinator"]) as coordinator:
        for task in (ON_TIME_TASK, MISSED_TASK):
            duty = await coordinator.post(
                f"{BASE}/plans/{PLAN}/duties",
                json={
                    "task_number": task,
                    "unit": UNIT,
                    "cadence": "monthly",
                    "starts": last_month.first_day.isoformat(),
                    "due_day": DUE_DAY,
                    "grace_days": GRACE_DAYS,
                },
            )
            assert duty.status_code == 201, duty.text
            assert {k: duty.json()[k] for k in ("task_number", "unit", "cadence", "starts", "due_day")} == {
                "task_number": task,
                "unit": UNIT,
                "cadence": "monthly",
                "starts": last_month.first_day.isoformat(),
                "due_day": DUE_DAY,
            }
            assert duty.json()["created_by"] == "bulletin-city-coordinator"
        # the responsible leader, as the task itself states it
        task_28 = (await coordinator.get(f"{BASE}/plans/{PLAN}/tasks/{ON_TIME_TASK}")).json()
        assert task_28["lead_units"] == [UNIT]
        assert task_28["responsible_leader"] == {
            "name": LEADER,
            "role": "supervises",
            "unit": UNIT,
            "on_behalf_of": None,
            "citation": "盘政办发〔2024〕3号 二（胡振乾）",
        }
        led = (
            await coordinator.get(
                f"{BASE}/plans/{PLAN}/tasks", params={"responsible_leader": LEADER, "limit": 100}
            )
        ).json()
        assert {t["number"] for t in led["items"]} == LEADER_TASKS
        assert all(t["targets"] == [] for t in led["items"])

    report = {
        "period": str(last_month),
        "narrative": "开设家电以旧换新专区 4 个，绿色智能家电体验店 2 家",
        "evidence_links": ["https://example.org/panjin/commerce/trade-in"],
    }
    async with platform.client(headers=users["transport"]) as transport:
        # 市交通运输局 is neither a lead nor a cooperating unit of tasks 28 and 30
        for task in (ON_TIME_TASK, MISSED_TASK):
            refused = assert_problem(
                await transport.post(f"{BASE}/plans/{PLAN}/tasks/{task}/reports", json=report), 403
            )
            assert str(task) in refused["detail"]
    async with platform.client(headers=users["commerce"]) as commerce:
        filed = await commerce.post(f"{BASE}/plans/{PLAN}/tasks/{ON_TIME_TASK}/reports", json=report)
        assert filed.status_code == 201, filed.text
        body = filed.json()
        assert {k: body[k] for k in ("task_number", "unit", "period", "version", "review_status")} == {
            "task_number": ON_TIME_TASK,
            "unit": UNIT,
            "period": str(last_month),
            "version": 1,
            "review_status": "submitted",
        }
        assert body["submitted_by"] == "bulletin-commerce"
        submitted_on = dt.datetime.fromisoformat(body["submitted_at"]).astimezone(dt.UTC).date()
        assert YearMonth.of(submitted_on) == this_month, "the month turned while the test ran"
        assert submitted_on <= grace_ends
        latest = (await commerce.get(f"{BASE}/plans/{PLAN}/tasks/{ON_TIME_TASK}")).json()["latest_reports"]
        assert [r["id"] for r in latest] == [body["id"]]

    async with platform.client(headers=users["coordinator"]) as coordinator:

        async def states_on(day: dt.date) -> dict[int, tuple[str, str, str]]:
            """Task → (its status, the state of last month's report, its due date) on ``day``."""
            answer = await coordinator.get(f"{BASE}/plans/{PLAN}/status", params={"on": day.isoformat()})
            assert answer.status_code == 200, answer.text
            found = {}
            for task in answer.json()["tasks"]:
                if task["number"] in (ON_TIME_TASK, MISSED_TASK):
                    assert task["responsible_leader"]["name"] == LEADER
                    (duty,) = [d for d in task["duties"] if d["period"] == str(last_month)]
                    assert duty["unit"] == UNIT
                    found[task["number"]] = (task["status"], duty["state"], duty["due"])
            return found

        # on the last day of grace task 30's report is still due; the day after, it is missing
        assert await states_on(grace_ends) == {
            ON_TIME_TASK: ("on track", "submitted on time", deadline.isoformat()),
            MISSED_TASK: ("on track", "due", deadline.isoformat()),
        }
        assert await states_on(grace_ends + dt.timedelta(days=1)) == {
            ON_TIME_TASK: ("on track", "submitted on time", deadline.isoformat()),
            MISSED_TASK: ("missing report", "missing", deadline.isoformat()),
        }

        # last month's bulletin: no period of the duties had ended, so nothing is expected yet
        earlier = (
            await coordinator.get(
                f"{BASE}/plans/{PLAN}/bulletins/{last_month}", headers={"Accept": "application/json"}
            )
        ).json()
        assert UNIT not in {r["unit"] for r in earlier["by_reporting_unit"]}
        assert next(r for r in earlier["by_responsible_leader"] if r["responsible_leader"] == LEADER) == {
            "responsible_leader": LEADER,
            "tasks": len(LEADER_TASKS),
            "statuses": {"on track": len(LEADER_TASKS)},
            "on_time_rate": None,
        }

        # the bulletin of the month after the deadline
        answer = await coordinator.get(
            f"{BASE}/plans/{PLAN}/bulletins/{bulletin_month}", headers={"Accept": "application/json"}
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/json")
        bulletin = answer.json()
        workbook = await coordinator.get(
            f"{BASE}/plans/{PLAN}/bulletins/{bulletin_month}", headers={"Accept": XLSX}
        )
        assert workbook.status_code == 200, workbook.text
        assert workbook.headers["content-type"] == XLSX
        assert (
            workbook.headers["content-disposition"] == f'attachment; filename="{PLAN}-{bulletin_month}.xlsx"'
        )

    assert (bulletin["plan"], bulletin["document"], bulletin["month"], bulletin["as_of"]) == (
        PLAN,
        "盘政发〔2024〕4号",
        str(bulletin_month),
        bulletin_month.last_day.isoformat(),
    )
    # By the end of the bulletin's month two periods of each duty have ended: last month's
    # (task 28 reported on time, task 30 missing) and this month's (due next month, not yet
    # settled). The on-time rate counts settled reports only: 1 of 2.
    assert [r for r in bulletin["units_not_reported"] if r["unit"] == UNIT] == [
        {"unit": UNIT, "task": MISSED_TASK, "period": str(last_month)}
    ]
    assert not [r for r in bulletin["units_not_reported"] if r["task"] == ON_TIME_TASK]
    assert MISSED_TASK in bulletin["by_status"]["missing report"]
    assert ON_TIME_TASK in bulletin["by_status"]["on track"]
    tasks = {t["number"]: t for t in bulletin["tasks"]}
    assert {
        n: (tasks[n]["lead_units"], tasks[n]["responsible_leader"], tasks[n]["status"])
        for n in tasks
        if n in (ON_TIME_TASK, MISSED_TASK)
    } == {
        ON_TIME_TASK: ([UNIT], LEADER, "on track"),
        MISSED_TASK: ([UNIT], LEADER, "missing report"),
    }
    assert {n for n, t in tasks.items() if t["responsible_leader"] == LEADER} == LEADER_TASKS
    leader_row = {
        "responsible_leader": LEADER,
        "tasks": len(LEADER_TASKS),
        "statuses": {"on track": len(LEADER_TASKS) - 1, "missing report": 1},
        "on_time_rate": "0.50",
    }
    assert (
        next(r for r in bulletin["by_responsible_leader"] if r["responsible_leader"] == LEADER) == leader_row
    )
    unit_row = {
        "lead_unit": UNIT,
        "tasks": len(UNIT_TASKS),
        "statuses": {"on track": len(UNIT_TASKS) - 1, "missing report": 1},
        "on_time_rate": "0.50",
    }
    assert next(r for r in bulletin["by_lead_unit"] if r["lead_unit"] == UNIT) == unit_row
    reporting_row = {
        "unit": UNIT,
        "expected": 4,
        "states": {"due": 2, "missing": 1, "submitted on time": 1},
        "on_time_rate": "0.50",
    }
    assert next(r for r in bulletin["by_reporting_unit"] if r["unit"] == UNIT) == reporting_row

    # the workbook: the bulletin itself on its first sheet (title, byline, the tables, the charts)
    standards = load_workbook(io.BytesIO(workbook.content))
    assert standards.sheetnames == ["月通报", "按牵头单位", "任务明细"]
    sheet = standards["月通报"]
    title = f"关于盘锦市推动大规模设备更新和消费品以旧换新行动实施方案{bulletin_month.year}年{bulletin_month.month}月推进情况的通报"
    assert sheet["A1"].value == title
    assert "盘锦市人民政府办公室" in sheet["A2"].value
    assert sheet.print_title_rows == "$1:$2"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.paperSize == 9
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.page_setup.fitToWidth in (
        None,
        1,
    )
    assert sheet.page_setup.fitToHeight == 0  # as many pages down as needed
    assert sheet.oddFooter.center.text == "第 &P 页 共 &N 页"
    assert sheet.freeze_panes == "A3"
    table = rows(sheet)
    start = next(i for i, r in enumerate(table) if r[0] == "二、按责任领导")
    assert table[start + 1][:8] == ["责任领导", "任务数", *STATUS_LABELS, "按时报送率"]
    (leader,) = [r for r in table if r[0] == LEADER]
    assert leader[:8] == [LEADER, 19, 0, 18, 0, 1, 0, 0.5]
    leader_cell = next(c for c in sheet["A"] if c.value == LEADER)
    assert sheet.cell(leader_cell.row, 8).number_format == "0.0%"
    assert leader_cell.fill.fgColor.rgb.endswith("FFE699"), "a leader with a missing report is highlighted"
    (unit,) = [r for r in table if r[0] == UNIT and r[1] == 4]
    assert unit[:7] == [UNIT, 4, 1, 0, 1, 2, 0.5]
    assert [UNIT, MISSED_TASK, str(last_month)] in [r[:3] for r in table]
    assert len(sheet._charts) == 2
    numbers = next(r for r in table if r[0] == "未报送")
    assert numbers[1] == len(bulletin["by_status"]["missing report"])
    assert str(MISSED_TASK) in str(numbers[2]).split("、")
    by_lead_unit = rows(standards["按牵头单位"])
    assert [r for r in by_lead_unit if r[0] == UNIT] == [[UNIT, 6, 0, 5, 0, 1, 0, 0.5]]
    details = standards["任务明细"]
    assert details.print_title_rows == "$1:$5"
    listed = {r[0]: r for r in rows(details)[5:] if isinstance(r[0], int)}
    assert len(listed) == 54
    assert listed[MISSED_TASK] == [MISSED_TASK, UNIT, LEADER, "未报送", tasks[MISSED_TASK]["text"]]
    shown = {r[0].value for r in details.iter_rows(min_row=6) if not details.row_dimensions[r[0].row].hidden}
    assert MISSED_TASK in shown, "the printout shows the tasks that need attention"
    assert ON_TIME_TASK not in shown, "the printout leaves out the tasks on track"

    async with platform.client(headers=users["coordinator"]) as coordinator:
        url = f"{BASE}/plans/{PLAN}/bulletins/{bulletin_month}"
        refused = assert_problem(await coordinator.get(url, headers={"Accept": "image/png"}), 406)
        assert refused["available"] == [
            "application/json",
            XLSX,
            "text/csv",
            DOCX,
            "application/pdf",
        ]
        # q=0 refuses a type; */* takes the first offered
        assert_problem(await coordinator.get(url, headers={"Accept": "application/json;q=0"}), 406)
        assert (
            (await coordinator.get(url, headers={"Accept": "*/*"}))
            .headers["content-type"]
            .startswith("application/json")
        )
        document = await coordinator.get(url, headers={"Accept": DOCX})
        pdf = await coordinator.get(url, headers={"Accept": "application/pdf"})
    assert document.status_code == 200
    assert document.headers["content-type"] == DOCX
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(p.text for p in Document(io.BytesIO(document.content)).paragraphs)
    assert title in text
    assert "盘锦市人民政府办公室" in text
    assert "未按期报送进展情况的单位：" in text
    assert f"{UNIT}（任务{MISSED_TASK}，{last_month}）" in text
    leaders = {r["responsible_leader"] for r in bulletin["by_responsible_leader"]}
    printed = pdf_text(pdf.content)
    assert pdf_pages(pdf.content) <= 4
    assert title in printed.replace("\n", "").replace(" ", "")
    assert all(name in printed for name in leaders)
    assert_a4_landscape(pdf.content)
    PRINTED.update(
        files={"bulletin.xlsx": workbook.content, "bulletin.docx": document.content},
        title=title,
        leaders=leaders,
    )


async def test_the_bulletin_prints_as_staff_would_print_it() -> None:
    """The XLSX and DOCX of the scenario's bulletin, printed to PDF by LibreOffice: at most 4 A4
    landscape pages, none blank, with the title and every responsible leader's name."""
    if not PRINTED:
        pytest.skip("the scenario above did not run (this test prints its bulletin)")
    rendered = render_with_libreoffice(PRINTED["files"])
    for name, content in rendered.items():
        pages = pdf_pages(content)
        assert 1 <= pages <= 4, f"{name} prints on {pages} pages"
        assert_a4_landscape(content)
        printed = pdf_text(content).replace("\n", "").replace(" ", "")
        assert PRINTED["title"] in printed, name
        assert all(leader in printed for leader in PRINTED["leaders"]), name
