"""Status of targets and tasks on a date: boundaries on the deadline day, the at-risk line,
lower-is-better, strict (超过) targets, relative targets against the baseline, and the
interpretation settings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from renewal.config import SERVICE_ROOT
from renewal.interpretations import RenewalInterpretations
from renewal.plans.pack import Baseline, Indicator, PlanPack, load_plans
from renewal.status.targets import (
    ReportedValue,
    StatusName,
    TargetStatus,
    expected_value,
    latest_value,
    target_status,
    target_value,
    task_status,
    worst,
)

D = dt.date
ISSUED = D(2024, 5, 20)  # 盘政发〔2024〕4号


@pytest.fixture(scope="module")
def plans() -> PlanPack:
    return load_plans(SERVICE_ROOT / "packs")


def indicator(plans: PlanPack, plan: str, indicator_id: str) -> Indicator:
    return next(i for i in plans[plan].spec.indicators if i.id == indicator_id)


@pytest.fixture(scope="module")
def boats(plans: PlanPack) -> Indicator:
    return indicator(plans, "panjin-2024-equipment-renewal", "fishing-boats-renovated")


@pytest.fixture(scope="module")
def leakage(plans: PlanPack) -> Indicator:
    return indicator(plans, "panjin-2024-equipment-renewal", "water-network-leakage")


def status(ind: Indicator, position: int, latest: str | None, on: dt.date, **kwargs: Any) -> TargetStatus:
    return target_status(
        ind,
        ind.targets[position],
        latest=Decimal(latest) if latest is not None else None,
        on=on,
        plan_start=ISSUED,
        **kwargs,
    )


def test_the_deadline_day_is_not_yet_overdue(boats: Indicator) -> None:
    # task 21: 26 boats by 2024-12-31
    assert status(boats, 0, "25", D(2024, 12, 31)).status == "at risk"
    assert status(boats, 0, "25", D(2025, 1, 1)).status == "overdue"
    assert status(boats, 0, "26", D(2024, 12, 31)).status == "achieved"
    assert status(boats, 0, "26", D(2025, 1, 1)).status == "achieved"
    late = status(boats, 0, "25", D(2025, 1, 1))
    assert late.reason == "the deadline 2024-12-31 has passed with latest value 25; target ≥ 26 艘"


def test_the_at_risk_line_of_a_first_cumulative_target(boats: Indicator) -> None:
    # from 0 on the issue date (2024-05-20) to 26 on 2024-12-31: 225 days; 112 of them by 2024-09-09
    on = D(2024, 9, 9)
    line = expected_value(boats, boats.targets[0], on, plan_start=ISSUED)
    assert line == Decimal("12.94")  # 26 × 112 / 225 = 12.942…
    assert status(boats, 0, "12.94", on).status == "on track"
    assert status(boats, 0, "12.93", on).status == "at risk"
    assert (
        status(boats, 0, "12.93", on).reason
        == "latest value 12.93 is behind the 12.94 expected by 2024-09-09"
    )
    assert expected_value(boats, boats.targets[0], ISSUED, plan_start=ISSUED) == Decimal("0.00")
    assert expected_value(boats, boats.targets[0], D(2024, 1, 1), plan_start=ISSUED) == Decimal("0.00")


def test_the_line_of_a_later_target_starts_at_the_previous_one(boats: Indicator) -> None:
    # 8 more boats in 2025: from 26 on 2024-12-31 to 34 on 2025-12-31 (365 days); 151 days by 2025-05-31
    on = D(2025, 5, 31)
    assert expected_value(boats, boats.targets[1], on, plan_start=ISSUED) == Decimal(
        "29.31"
    )  # 26 + 8 × 151/365
    assert status(boats, 1, "29.31", on).status == "on track"
    assert status(boats, 1, "29.30", on).status == "at risk"
    assert status(boats, 1, "34", on).status == "achieved"
    assert status(boats, 1, "33", D(2026, 1, 1)).status == "overdue"


def test_lower_is_better(leakage: Indicator) -> None:
    # task 11: leakage ≤ 10% by 2027-12-31; 以内 includes 10
    assert status(leakage, 0, "10", D(2027, 12, 31)).status == "achieved"
    assert status(leakage, 0, "9.5", D(2025, 1, 1)).status == "achieved"
    assert status(leakage, 0, "10.01", D(2027, 12, 31)).status == "on track"  # no baseline: no line
    assert status(leakage, 0, "10.01", D(2028, 1, 1)).status == "overdue"
    # with a 2023 leakage of 14% recorded: from 14 at the end of 2023 to 10 at the end of 2027
    measured = leakage.model_copy(update={"baseline": Baseline(year=2023, value=Decimal(14))})
    on = D(2025, 12, 31)  # 731 of 1461 days: 14 − 4 × 731/1461 = 11.998…
    assert expected_value(measured, measured.targets[0], on, plan_start=ISSUED) == Decimal("12.00")
    assert status(measured, 0, "12.00", on).status == "on track"
    assert status(measured, 0, "12.01", on).status == "at risk"
    assert status(measured, 0, "10.01", D(2027, 12, 31)).status == "at risk"
    assert status(measured, 0, "10.00", D(2027, 12, 31)).status == "achieved"
    # a baseline value given without a year counts from the plan's issue date (1320 days; 590 by then)
    line = expected_value(leakage, leakage.targets[0], on, plan_start=ISSUED, baseline=Decimal(14))
    assert line == Decimal("12.21")  # 14 − 4 × 590/1320


def test_a_strict_target_is_not_met_by_its_own_value(plans: PlanPack) -> None:
    # 一: 数字化研发设计工具普及率超过90%
    tools = indicator(plans, "panjin-2024-equipment-renewal", "rd-design-tool-penetration")
    assert status(tools, 0, "90", D(2027, 6, 1)).status != "achieved"
    assert status(tools, 0, "90.01", D(2027, 6, 1)).status == "achieved"
    assert status(tools, 0, "90", D(2028, 1, 1)).status == "overdue"
    assert "> 90 %" in status(tools, 0, "90", D(2028, 1, 1)).reason


def test_relative_targets_resolve_against_the_baseline(plans: PlanPack) -> None:
    investment = indicator(plans, "panjin-2024-equipment-renewal", "equipment-investment")
    target = investment.targets[0]  # +25% vs 2023 by 2027-12-31
    assert target_value(investment, target) is None  # the 2023 value is not in the plan
    assert target_value(investment, target, Decimal(200)) == Decimal(250)
    unknown = status(investment, 0, "300", D(2026, 1, 1))
    assert unknown.status == "missing report"
    assert "2023" in unknown.reason
    assert status(investment, 0, "250", D(2026, 1, 1), baseline=Decimal(200)).status == "achieved"
    assert status(investment, 0, "249.99", D(2028, 1, 1), baseline=Decimal(200)).status == "overdue"
    # from 200 at the end of 2023 to 250 at the end of 2027: half-way on 2025-12-31 (731/1461)
    assert status(investment, 0, "225", D(2025, 12, 31), baseline=Decimal(200)).expected == Decimal("225.02")
    assert status(investment, 0, "225", D(2025, 12, 31), baseline=Decimal(200)).status == "at risk"
    vehicles = indicator(plans, "panjin-2024-equipment-renewal", "scrapped-vehicle-recycling")
    assert target_value(vehicles, vehicles.targets[0], Decimal(3000)) == Decimal(6000)  # 增加约一倍


def test_nothing_reported(boats: Indicator) -> None:
    assert status(boats, 0, None, D(2024, 9, 1)).status == "missing report"
    assert status(boats, 0, None, D(2024, 9, 1), report_required=False).status == "on track"
    assert status(boats, 0, None, D(2025, 1, 1), report_required=False).status == "overdue"


def test_a_cumulative_table_target_of_zhumadian(plans: PlanPack) -> None:
    workshops = indicator(plans, "zhumadian-2023-digital-transformation", "smart-workshops")
    start = D(2023, 11, 21)
    # 2024: from 34 (end of 2023) to 37 (end of 2024); 183 of 366 days by 2024-07-01
    on = D(2024, 7, 1)
    line = expected_value(workshops, workshops.targets[1], on, plan_start=start)
    assert line == Decimal("35.50")
    second = workshops.targets[1]
    assert (
        target_status(workshops, second, latest=Decimal("35.49"), on=on, plan_start=start).status == "at risk"
    )
    assert (
        target_status(workshops, second, latest=Decimal("35.5"), on=on, plan_start=start).status == "on track"
    )
    assert target_status(workshops, second, latest=Decimal(37), on=on, plan_start=start).status == "achieved"


def test_interpretation_settings(boats: Indicator, plans: PlanPack) -> None:
    on = D(2024, 9, 9)
    no_line = RenewalInterpretations(expected_progress="none")
    assert status(boats, 0, "0", on, interpretations=no_line).status == "on track"
    assert status(boats, 0, "0", D(2025, 1, 1), interpretations=no_line).status == "overdue"
    no_zero = RenewalInterpretations(cumulative_from_zero=False)
    assert status(boats, 0, "0", on, interpretations=no_zero).status == "on track"
    investment = indicator(plans, "panjin-2024-equipment-renewal", "equipment-investment")
    target, day = investment.targets[0], D(2025, 12, 31)
    year_end = expected_value(investment, target, day, plan_start=ISSUED, baseline=Decimal(200))
    assert year_end == Decimal("225.02")  # 200 + 50 × 731/1461 from 2023-12-31
    from_issue = RenewalInterpretations(baseline_dated="plan_issue")
    issued = expected_value(
        investment, target, day, plan_start=ISSUED, baseline=Decimal(200), interpretations=from_issue
    )
    assert issued == Decimal("222.35")  # 200 + 50 × 590/1320 from 2024-05-20
    with pytest.raises(ValueError, match="expected_progress"):
        RenewalInterpretations(expected_progress="exponential")


def test_latest_value_is_the_last_reported_by_the_day() -> None:
    values = [
        ReportedValue("boats", Decimal(5), D(2024, 7, 1)),
        ReportedValue("boats", Decimal(9), D(2024, 9, 1)),
        ReportedValue("pipes", Decimal(3), D(2024, 10, 1)),
        ReportedValue("boats", Decimal(8), D(2024, 9, 1)),  # a correction the same day wins
    ]
    assert latest_value(values, "boats", D(2024, 8, 31)) == Decimal(5)
    assert latest_value(values, "boats", D(2024, 9, 1)) == Decimal(8)
    assert latest_value(values, "boats", D(2024, 6, 30)) is None
    assert latest_value(values, "pipes", D(2025, 1, 1)) == Decimal(3)


def _target(status_name: StatusName) -> TargetStatus:
    return TargetStatus("x", D(2025, 1, 1), True, Decimal(1), None, None, status_name, "")


def test_a_task_takes_the_worst_of_its_targets_and_reporting_duty() -> None:
    assert worst(["on track", "achieved", "at risk"]) == "at risk"
    assert worst(["missing report", "overdue", "achieved"]) == "overdue"
    assert worst([]) == "on track"
    assert task_status([_target("achieved"), _target("achieved")]) == "achieved"
    assert task_status([_target("achieved")], ["submitted on time", "submitted late", "due"]) == "achieved"
    assert task_status([_target("achieved")], ["submitted on time", "missing"]) == "missing report"
    assert task_status([_target("at risk")], ["missing"]) == "missing report"
    assert task_status([_target("overdue")], ["missing"]) == "overdue"
    assert task_status([], []) == "on track"
    assert task_status([], ["missing"]) == "missing report"
