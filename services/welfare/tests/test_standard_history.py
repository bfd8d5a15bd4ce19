"""Standard history under the rule for dated data (welfare.md; issue: a back-dated version cut
Panjin's 792.00 standard): new versions supersede only an open-ended version that started
earlier; changing recorded history is an audited correction that starts a recalculation,
books overpayments for review and stops the months no standard prices.

Corrections run in the development zones 211100-Z01 and 211100-Z02, which no other test
gives standards or enrolments; the refusals leave Panjin's pack untouched.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from platformctl.testing import Platform, assert_problem
from shared.dated import Days, VersionCollision
from shared.testing import TokenMint, app_client
from welfare.config import SERVICE_ROOT, Settings
from welfare.main import create_app
from welfare.standards.history import Recorded, StandardVersion, load_standards
from welfare.standards.invariants import panjin_standards_problems

BASE = "/api/welfare/v1"
CITATION = {"document": "盘政办发〔2024〕4号", "article": "一（一）"}
DECISION = {"by": "盘锦市民政局", "on": "2019-12-20", "reference": "盘民低〔2019〕3号"}
ZONE_CORRECTED = "211100-Z02"
ZONE_SPLIT = "211100-Z01"
KEY = base64.b64encode(b"standard-history-test-key-32-by!").decode()


async def wait_for(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    for _ in range(600):
        run: dict[str, Any] = (await client.get(f"{BASE}/recalculations/{run_id}")).json()
        if run["status"] not in ("queued", "running"):
            return run
        await asyncio.sleep(0.1)
    raise AssertionError("recalculation did not finish")


@pytest.fixture(scope="module")
async def admin(platform: Platform) -> dict[str, str]:
    return await platform.admin_headers()


def version(
    jurisdiction: str, version_id: str, start: str, end: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "jurisdiction": jurisdiction,
        "version_id": version_id,
        "effective_from": start,
        "effective_to": end,
        "published_on": start,
        "dibao_citation": CITATION,
    }
    return body | ({"dibao": "800.00"} | extra if "dibao_urban" not in extra else extra)


async def enrol_and_pay(client: httpx.AsyncClient, jurisdiction: str, months: list[str]) -> str:
    household = await client.post(
        f"{BASE}/households", json={"jurisdiction": jurisdiction, "address": "园区 1 号"}
    )
    assert household.status_code == 201, household.text
    enrolment = await client.post(
        f"{BASE}/enrolments",
        json={
            "program": "dibao",
            "jurisdiction": jurisdiction,
            "household_id": household.json()["id"],
            "covered_members": 2,
            "per_capita_income": "100.00",
            "start_month": months[0],
            "decision": DECISION,
        },
    )
    assert enrolment.status_code == 201, enrolment.text
    for month in months:
        paid = await client.post(f"{BASE}/payrolls", json={"jurisdiction": jurisdiction, "month": month})
        assert paid.status_code == 201, paid.text
        assert paid.json()["entries"] == 1, paid.json()
    return str(enrolment.json()["id"])


async def test_a_back_dated_one_day_version_is_refused_naming_the_version_it_cuts(
    platform: Platform, admin: dict[str, str]
) -> None:
    """The outside fuzzing run's request: 211100, 2000-01-01 to 2000-01-01, 500.00."""
    async with platform.client(headers=admin) as client:
        refused = await client.post(
            f"{BASE}/standards/versions",
            json=version("211100", "fuzz-2000", "2000-01-01", "2000-01-01", dibao="500.00"),
        )
        problem = assert_problem(refused, 409)
        assert problem["collides_with"] == "panjin-2021-11"
        assert "panjin-2021-11" in problem["detail"]
        assert "an open start to 2024-06-30" in problem["detail"]
        # the 792.00 months are still priced, and the 800.00 ones
        for day, amount in (("2000-01-02", "792.00"), ("2024-06-15", "792.00"), ("2024-07-01", "800.00")):
            answer = (
                await client.get(f"{BASE}/standards", params={"jurisdiction": "211100", "on": day})
            ).json()
            assert answer["dibao"] == amount, (day, answer)
        # starting on the day the open-ended version started is no supersession either
        same_day = await client.post(
            f"{BASE}/standards/versions", json=version("211100", "fuzz-2024", "2024-07-01", dibao="801.00")
        )
        assert assert_problem(same_day, 409)["collides_with"] == "panjin-2024-4"
        # a later closed version would cut the open-ended one and leave days without a standard
        closed = await client.post(
            f"{BASE}/standards/versions",
            json=version("211100", "fuzz-2040", "2040-01-01", "2040-12-31", dibao="801.00"),
        )
        assert "open-ended itself" in assert_problem(closed, 409)["detail"]
        history = (await client.get(f"{BASE}/standards/versions", params={"jurisdiction": "211100"})).json()
        assert [item["version_id"] for item in history["items"]] == ["panjin-2021-11", "panjin-2024-4"]
        old, new = history["items"]
        assert old["in_force"] == [{"effective_from": None, "effective_to": "2024-06-30"}]
        assert (old["status"], old["superseded_by"], new["supersedes"]) == (
            "superseded",
            "panjin-2024-4",
            "panjin-2021-11",
        )
        assert new["source"] == "pack"
        tekun = (
            await client.get(
                f"{BASE}/standards/versions", params={"jurisdiction": "211100", "program": "tekun"}
            )
        ).json()
        assert [item["version_id"] for item in tekun["items"]] == ["panjin-2024-4"]  # 2021's states none


async def test_a_correction_is_audited_keeps_the_old_ranges_and_books_overpayments_for_review(
    platform: Platform, admin: dict[str, str]
) -> None:
    async with platform.client(headers=admin) as client:
        first = await client.post(
            f"{BASE}/standards/versions",
            json=version(ZONE_CORRECTED, "z02-2020", "2020-01-01", dibao="900.00"),
        )
        assert first.status_code == 201, first.text
        enrolment = await enrol_and_pay(client, ZONE_CORRECTED, ["2020-01", "2020-02"])  # (900 − 100) × 2
        # two admins record a successor at once: one supersedes, the other collides with it
        racing = await asyncio.gather(
            *(
                client.post(
                    f"{BASE}/standards/versions",
                    json=version(ZONE_CORRECTED, f"z02-2021-{n}", "2021-01-01", dibao="910.00"),
                )
                for n in range(3)
            )
        )
        assert sorted(r.status_code for r in racing) == [201, 409, 409], [r.text for r in racing]
        winner = next(r.json()["version_id"] for r in racing if r.status_code == 201)
        for refused in (r for r in racing if r.status_code == 409):
            assert refused.json()["collides_with"] == winner

        # January's 900.00 was wrong: 850.00 (a correction, not a new version)
        as_version = await client.post(
            f"{BASE}/standards/versions",
            json=version(ZONE_CORRECTED, "z02-2020-fix", "2020-01-01", "2020-01-31", dibao="850.00"),
        )
        assert assert_problem(as_version, 409)["collides_with"] == "z02-2020"
        correction = version(ZONE_CORRECTED, "z02-2020-fix", "2020-01-01", "2020-01-31", dibao="850.00")
        unnamed = await client.post(
            f"{BASE}/standards/corrections",
            json=correction
            | {"corrects": ["panjin-2024-4"], "reason": "录入错误", "document_reference": "X"},
        )
        assert assert_problem(unnamed, 409)["collides_with"] == "panjin-2024-4"  # not a version of the zone
        clerk = await platform.account(
            "clerk-211100-z02", scopes=["welfare:read", "welfare:write"], jurisdictions=[ZONE_CORRECTED]
        )
        async with platform.client(headers=clerk) as not_admin:
            body = correction | {"corrects": ["z02-2020"], "reason": "r", "document_reference": "d"}
            assert_problem(await not_admin.post(f"{BASE}/standards/corrections", json=body), 403)
        missing_reason = await client.post(
            f"{BASE}/standards/corrections",
            json=correction
            | {"corrects": ["z02-2020"], "reason": "  ", "document_reference": "盘民发〔2020〕2号"},
        )
        assert_problem(missing_reason, 422)
        corrected = await client.post(
            f"{BASE}/standards/corrections",
            json=correction
            | {
                "corrects": ["z02-2020"],
                "reason": "一月标准录入错误，应为850元",
                "document_reference": "盘民发〔2020〕2号",
            },
        )
        assert corrected.status_code == 201, corrected.text
        assert corrected.json()["corrects"] == ["z02-2020"]
        run = await wait_for(client, corrected.json()["recalculation_id"])
        assert run["trigger"] == "standard_corrected"
        assert run["status"] == "succeeded", run
        assert (run["overpayments"], run["overpayment_total"]) == (1, "-100.00")
        assert (run["arrears_entries"], run["arrears_total"]) == (0, "0.00")
        ledger = (
            await client.get(f"{BASE}/ledger", params={"jurisdiction": ZONE_CORRECTED, "kind": "overpayment"})
        ).json()
        assert [(e["enrolment_id"], e["month"], e["amount"], e["review"]) for e in ledger["items"]] == [
            (enrolment, "2020-01", "-100.00", "pending")
        ]
        pending = (
            await client.get(
                f"{BASE}/overpayments", params={"jurisdiction": ZONE_CORRECTED, "status": "pending"}
            )
        ).json()
        assert [(o["month"], o["amount"], o["review"]) for o in pending["items"]] == [
            ("2020-01", "-100.00", "pending")
        ]
        entry_id = pending["items"][0]["entry_id"]
        outsider = await platform.account(
            "clerk-211102-overpaid", scopes=["welfare:read", "welfare:write"], jurisdictions=["211102"]
        )
        decision = {
            "decision": "waive",
            "reason": "标准录入错误，非对象责任",
            "document_reference": "盘民发〔2020〕3号",
        }
        async with platform.client(headers=outsider) as other:
            assert_problem(await other.post(f"{BASE}/overpayments/{entry_id}/decision", json=decision), 404)
        decided = await client.post(f"{BASE}/overpayments/{entry_id}/decision", json=decision)
        assert decided.status_code == 201, decided.text
        assert (decided.json()["review"], decided.json()["decision"]["decision"]) == ("decided", "waive")
        twice = await client.post(
            f"{BASE}/overpayments/{entry_id}/decision", json=decision | {"decision": "recover"}
        )
        assert_problem(twice, 409)  # a decision is never changed
        assert (
            await client.get(
                f"{BASE}/overpayments", params={"jurisdiction": ZONE_CORRECTED, "status": "pending"}
            )
        ).json()["total"] == 0
        # no later payment deducts it: February's regular entry stays 1600.00 and a new payroll pays in full
        paid = await client.post(
            f"{BASE}/payrolls", json={"jurisdiction": ZONE_CORRECTED, "month": "2020-03"}
        )
        assert paid.json()["total"] == "1600.00"

        for day, amount in (("2020-01-15", "850.00"), ("2020-02-01", "900.00"), ("2021-01-01", "910.00")):
            answer = (
                await client.get(f"{BASE}/standards", params={"jurisdiction": ZONE_CORRECTED, "on": day})
            ).json()
            assert answer["dibao"] == amount, (day, answer)
        history = (
            await client.get(f"{BASE}/standards/versions", params={"jurisdiction": ZONE_CORRECTED})
        ).json()
        by_id = {item["version_id"]: item for item in history["items"]}
        old = by_id["z02-2020"]
        assert old["stated"] == {"effective_from": "2020-01-01", "effective_to": None}
        assert old["in_force"] == [{"effective_from": "2020-02-01", "effective_to": "2020-12-31"}]
        assert old["status"] == "corrected"
        assert old["corrected_by"] == ["z02-2020-fix"]
        assert old["changes"] == [
            {
                "correction": "z02-2020-fix",
                "before": [{"effective_from": "2020-01-01", "effective_to": "2020-12-31"}],
                "after": [{"effective_from": "2020-02-01", "effective_to": "2020-12-31"}],
            }
        ]
        fix = by_id["z02-2020-fix"]
        assert (fix["corrects"], fix["reason"], fix["document_reference"]) == (
            ["z02-2020"],
            "一月标准录入错误，应为850元",
            "盘民发〔2020〕2号",
        )
        audit = (
            await client.get(
                f"{BASE}/audit-log", params={"entity": "standard_version", "entity_id": "z02-2020-fix"}
            )
        ).json()
        (entry,) = audit["items"]
        assert entry["action"] == "correct"
        assert entry["before"]["z02-2020"] == {
            "before": ["2020-01-01 to 2020-12-31"],
            "after": ["2020-02-01 to 2020-12-31"],
        }
        again = await client.post(
            f"{BASE}/standards/corrections",
            json=correction | {"corrects": ["z02-2020"], "reason": "x", "document_reference": "y"},
        )
        assert_problem(again, 409)  # the correction's id exists: never overwritten


async def test_a_month_no_standard_prices_is_stopped_listed_and_the_run_partial(
    platform: Platform, admin: dict[str, str]
) -> None:
    """Issue point 4: a correction to urban and rural standards leaves the paid month without
    a price for a household with no residence (urban/rural) in the register; nothing is booked."""
    async with platform.client(headers=admin) as client:
        added = await client.post(
            f"{BASE}/standards/versions", json=version(ZONE_SPLIT, "z01-2021", "2021-01-01", dibao="700.00")
        )
        assert added.status_code == 201, added.text
        enrolment = await enrol_and_pay(client, ZONE_SPLIT, ["2021-01"])
        split = version(
            ZONE_SPLIT, "z01-2021-split", "2021-01-01", dibao_urban="720.00", dibao_rural="600.00"
        ) | {"corrects": ["z01-2021"], "reason": "城乡分设", "document_reference": "盘民发〔2021〕1号"}
        corrected = await client.post(f"{BASE}/standards/corrections", json=split)
        assert corrected.status_code == 201, corrected.text
        run_id = corrected.json()["recalculation_id"]
        run = await wait_for(client, run_id)
        assert run["status"] == "partial", run
        assert run["unpriced"] == 1
        assert f"{BASE}/recalculations/{run_id}/unpriced" in run["errors"][-1]["message"]
        assert (run["arrears_entries"], run["overpayments"]) == (0, 0)  # never a negative whole amount
        stopped = (await client.get(f"{BASE}/recalculations/{run_id}/unpriced")).json()
        assert [(i["enrolment_id"], i["month"], i["program"]) for i in stopped["items"]] == [
            (enrolment, "2021-01", "dibao")
        ]
        reason = stopped["items"][0]["reason"]
        assert "the dibao standard of 211100-Z01 on 2021-01-01 is set apart for urban and rural" in reason
        assert "the household has no residence recorded for the month" in reason
        booked = (await client.get(f"{BASE}/ledger", params={"recalculation_id": run_id})).json()
        assert booked["total"] == 0
        answer = (
            await client.get(f"{BASE}/standards", params={"jurisdiction": ZONE_SPLIT, "on": "2021-02-01"})
        ).json()
        assert answer["dibao"] is None
        assert answer["by_residence"]["dibao"] == {"urban": "720.00", "rural": "600.00"}
        rural = (
            await client.get(
                f"{BASE}/standards",
                params={"jurisdiction": ZONE_SPLIT, "on": "2021-02-01", "residence": "rural"},
            )
        ).json()
        assert (rural["dibao"], rural["residence"]) == ("600.00", "rural")
    other = await platform.account("clerk-211102-h", scopes=["welfare:read"], jurisdictions=["211102"])
    async with platform.client(headers=other) as client:
        assert_problem(await client.get(f"{BASE}/recalculations/{run_id}/unpriced"), 404)


async def test_the_invariant_holds_and_names_what_a_cut_history_breaks(
    platform: Platform, admin: dict[str, str], migrated_database: str, mint: TokenMint, tmp_path: Path
) -> None:
    """Issue point 3: the check after fuzzing holds on the platform, and names the days and
    amounts when the 792.00 version has been cut (the bug's state, as a pack here)."""
    async with platform.client(headers=admin) as client:
        assert await panjin_standards_problems(client=client) == []
    text = (SERVICE_ROOT / "packs" / "211100-panjin.yaml").read_text(encoding="utf-8")
    cut = text.replace(
        "effective_from: null\n    effective_to: 2024-06-30",
        "effective_from: null\n    effective_to: 1999-12-31",
    )
    assert cut != text
    (tmp_path / "211100-panjin.yaml").write_text(cut, encoding="utf-8")
    app = create_app(Settings(database_url=migrated_database, packs_dir=tmp_path, citizen_id_key=KEY))
    async with app_client(app, mint) as client:
        client.headers.update(mint.headers(scopes=["welfare:read"], jurisdictions=["211100"]))
        problems = await panjin_standards_problems(client=client)
    cut_days = [p for p in problems if p.startswith("211100 on 2024-") and "the pack says '792.00'" in p]
    assert [p.split(":")[0] for p in cut_days] == ["211100 on 2024-06-15", "211100 on 2024-06-30"], problems
    assert not any("2024-07-01" in problem for problem in problems)


def _version(version_id: str, start: str | None, end: str | None, amount: str) -> StandardVersion:
    return StandardVersion.model_validate(
        {
            "id": version_id,
            "effective_from": start,
            "effective_to": end,
            "dibao": {"amount": amount, "citation": CITATION},
        }
    )


def test_the_rule_on_the_book_itself() -> None:
    """The same rule without a database: the bug's request, a correction inside an open range
    (two pieces stay in force), a successor of the last piece, a row a later pack refuses."""
    standards = load_standards(SERVICE_ROOT / "packs")
    with pytest.raises(VersionCollision) as caught:
        standards.with_version("211100", _version("fuzz-2000", "2000-01-01", "2000-01-01", "500.00"))
    assert caught.value.collides_with == "panjin-2021-11"
    found = standards.version_on("211100", dt.date(2010, 1, 1))
    assert found is not None
    assert found[1].id == "panjin-2021-11"
    recorded = Recorded("admin", dt.datetime(2025, 1, 1, tzinfo=dt.UTC), "录入错误", "盘民发〔2025〕1号")
    fixed = standards.with_correction(
        "211100", _version("fix-2025-03", "2025-03-01", "2025-03-31", "805.00"), ["panjin-2024-4"], recorded
    )
    open_version = fixed.find("panjin-2024-4")
    assert open_version is not None
    assert [str(days) for days in open_version.in_force] == [
        "2024-07-01 to 2025-02-28",
        "2025-04-01 to open-ended",
    ]
    entry = standards.find("panjin-2024-4")
    assert entry is not None
    assert entry.in_force == [Days(dt.date(2024, 7, 1), None)]
    later = fixed.with_version("211100", _version("panjin-2026", "2026-01-01", None, "820.00"))
    superseded = later.find("panjin-2024-4")
    assert superseded is not None
    assert [str(days) for days in superseded.in_force] == [
        "2024-07-01 to 2025-02-28",
        "2025-04-01 to 2025-12-31",
    ]
    assert (superseded.superseded_by, superseded.corrected_by, superseded.status) == (
        "panjin-2026",
        ["fix-2025-03"],
        "corrected",
    )
    amounts = {
        day: later.standards_on("211102", dt.date.fromisoformat(day), 400).values["dibao"]
        for day in ("2025-02-28", "2025-03-15", "2025-04-01", "2026-01-01")
    }
    assert {day: value.amount if value else None for day, value in amounts.items()} == {
        "2025-02-28": Decimal("800.00"),
        "2025-03-15": Decimal("805.00"),
        "2025-04-01": Decimal("800.00"),
        "2026-01-01": Decimal("820.00"),
    }
    kept = standards.with_not_applied(
        "211100", _version("old-row", "2024-07-01", None, "1.00"), None, "collides"
    )
    old_row = kept.find("old-row")
    assert old_row is not None
    assert old_row.status == "not_applied"
    dibao = kept.standards_on("211100", dt.date(2024, 8, 1), 400).values["dibao"]
    assert dibao is not None
    assert dibao.amount == Decimal("800.00")
