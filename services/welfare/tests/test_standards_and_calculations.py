"""Standards in force and the calculator: the spec's examples, the pack checks, properties."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from platformctl.testing import Platform, assert_problem
from shared.errors import PackError
from welfare.calculations.amounts import calculate
from welfare.calculations.schemas import CalculationRequest
from welfare.config import SERVICE_ROOT
from welfare.standards.history import StandardHistories, load_standards

PACKS = SERVICE_ROOT / "packs"
BASE = "/api/welfare/v1"
REQUEST = TypeAdapter(CalculationRequest)


@pytest.fixture(scope="module")
def standards() -> StandardHistories:
    return load_standards(PACKS)


def dibao(standards: StandardHistories, income: Decimal, members: int, month: str = "2024-08") -> Decimal:
    data = REQUEST.validate_python(
        {
            "program": "dibao",
            "jurisdiction": "211102",
            "month": month,
            "household_size": members,
            "per_capita_income": str(income),
        }
    )
    return calculate(standards, data, 400).amount


def test_the_spec_example(standards: StandardHistories) -> None:
    assert dibao(standards, Decimal("500.00"), 3) == Decimal("900.00")
    assert dibao(standards, Decimal("500.00"), 3, month="2024-06") == Decimal("876.00")  # 792 before July


def test_income_at_or_above_the_standard_is_not_eligible(standards: StandardHistories) -> None:
    data = REQUEST.validate_python(
        {
            "program": "dibao",
            "jurisdiction": "211100",
            "month": "2024-07",
            "household_size": 2,
            "per_capita_income": "800.00",
        }
    )
    result = calculate(standards, data, 400)
    assert result.amount == Decimal("0.00")
    assert result.eligible is False
    assert "not eligible on income" in (result.reason or "")


@pytest.mark.parametrize(
    ("program", "extra", "amount"),
    [
        ("tekun", {}, "1440.00"),
        ("orphan_concentrated", {}, "2400.00"),
        ("orphan_scattered", {}, "2000.00"),
        ("retiree_1960s", {"tier": 1}, "713.00"),
        ("retiree_1960s", {"tier": 4}, "571.00"),
    ],
)
def test_person_programs(
    standards: StandardHistories, program: str, extra: dict[str, int], amount: str
) -> None:
    data = REQUEST.validate_python(
        {"program": program, "jurisdiction": "211122", "month": "2024-07", **extra}
    )
    result = calculate(standards, data, 400)
    assert result.amount == Decimal(amount)
    assert result.trace["parameters"][-1]["citation"]["document"] == "盘政办发〔2024〕4号"


def test_derived_standard_before_july_is_unknown_not_guessed(standards: StandardHistories) -> None:
    data = REQUEST.validate_python({"program": "tekun", "jurisdiction": "211100", "month": "2024-06"})
    with pytest.raises(Exception, match="no tekun standard is known"):
        calculate(standards, data, 400)


@settings(max_examples=200, deadline=None)
@given(
    income=st.decimals(min_value=0, max_value=2000, places=2),
    more=st.decimals(min_value=0, max_value=500, places=2),
    members=st.integers(min_value=1, max_value=12),
)
def test_dibao_invariants(income: Decimal, more: Decimal, members: int) -> None:
    standards = load_standards(PACKS)
    amount = dibao(standards, income, members)
    assert amount >= 0
    assert amount == amount.quantize(Decimal("0.01"))
    assert dibao(standards, income + more, members) <= amount  # non-increasing in income
    assert amount == dibao(standards, income, 1) * members  # proportional to covered members
    assert amount == max(Decimal("800.00") - income, Decimal(0)) * members  # exact to the fen


def test_a_pack_whose_stated_amount_disagrees_fails_naming_file_and_field(tmp_path: Path) -> None:
    shutil.copy(PACKS / "211100-panjin.yaml", tmp_path / "211100-panjin.yaml")
    path = tmp_path / "211100-panjin.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('"1440.00"', '"1441.00"'), encoding="utf-8")
    with pytest.raises(PackError) as caught:
        load_standards(tmp_path)
    assert caught.value.file == "211100-panjin.yaml"
    assert caught.value.field == "versions.1.tekun.stated_amount"
    assert "1441.00" in caught.value.problem
    assert "1440.00" in caught.value.problem


def test_overlapping_versions_fail(tmp_path: Path) -> None:
    path = tmp_path / "211100-panjin.yaml"
    text = (PACKS / "211100-panjin.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("effective_to: 2024-06-30", "effective_to: 2024-07-31"), encoding="utf-8")
    with pytest.raises(PackError, match="overlaps version panjin-2021-11"):
        load_standards(tmp_path)


def test_counties_inherit_the_city_standards(standards: StandardHistories) -> None:
    found = standards.standards_on("211122", dt.date(2024, 7, 1), 400)
    assert found.values["dibao"] is not None
    assert found.values["dibao"].jurisdiction == "211100"


async def test_standards_contract_through_the_gateway(platform: Platform) -> None:
    reader = await platform.account("standards-reader", scopes=["welfare:read"], jurisdictions=["211100"])
    async with platform.client(headers=reader) as client:
        response = await client.get(
            f"{BASE}/standards", params={"jurisdiction": "211100", "on": "2024-07-01"}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert {
            k: body[k]
            for k in (
                "jurisdiction",
                "on",
                "dibao",
                "tekun",
                "orphan_concentrated",
                "orphan_scattered",
                "retiree_1960s",
            )
        } == {
            "jurisdiction": "211100",
            "on": "2024-07-01",
            "dibao": "800.00",
            "tekun": "1440.00",
            "orphan_concentrated": "2400.00",
            "orphan_scattered": "2000.00",
            "retiree_1960s": {"1": "713.00", "2": "668.00", "3": "618.00", "4": "571.00"},
        }
        assert {c["article"] for c in body["citations"]} >= {"一（二）", "一（三）", "一（四）"}
        before = (
            await client.get(f"{BASE}/standards", params={"jurisdiction": "211100", "on": "2024-06-30"})
        ).json()
        assert before["dibao"] == "792.00"
        assert before["tekun"] is None
        assert before["retiree_1960s"] is None
        calculation = await client.post(
            f"{BASE}/calculations",
            json={
                "program": "dibao",
                "jurisdiction": "211100",
                "month": "2024-08",
                "household_size": 3,
                "per_capita_income": "500.00",
            },
        )
        assert calculation.status_code == 200, calculation.text
        assert calculation.json()["amount"] == "900.00"
        assert calculation.json()["trace"]["parameters"][0]["version"] == "panjin-2024-4"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"month": "2024-13"}, "body.month"),
        ({"per_capita_income": "-1.00"}, "body.per_capita_income"),
        ({"household_size": 0}, "body.household_size"),
        ({"jurisdiction": "999999"}, "body.jurisdiction"),
        ({"program": "pension"}, "body"),
        ({"program": "retiree_1960s", "tier": 5}, "body.tier"),
    ],
)
async def test_calculator_errors_name_the_field(
    platform: Platform, body: dict[str, object], field: str
) -> None:
    request = {
        "program": "dibao",
        "jurisdiction": "211100",
        "month": "2024-08",
        "household_size": 3,
        "per_capita_income": "500.00",
        **body,
    }
    if request["program"] == "retiree_1960s":
        request = {k: v for k, v in request.items() if k not in ("household_size", "per_capita_income")}
    async with platform.client(headers=await platform.admin_headers()) as client:
        problem = assert_problem(await client.post(f"{BASE}/calculations", json=request), 422)
    assert any(error["field"].startswith(field) for error in problem["errors"]), problem
